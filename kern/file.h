// Open files (file.c): what a file descriptor names.

#ifndef KERN_FILE_H
#define KERN_FILE_H

#include "types.h"

enum filetype {
  FD_NONE,              // a free slot of the file table
  FD_CONSOLE,           // the console: writes print, reads see end of file (lab 7 types)
  FD_PIPE,              // one end of a pipe (pipe.c)
};

// One open file, shared by every descriptor that dup() or fork() made
// from the one that opened it: ref counts them, and close() of the last
// one closes the file.
struct file {
  enum filetype type;
  int ref;              // descriptors (in any process) that name it; 0: free
  int readable;
  int writable;
  struct pipe *pipe;    // FD_PIPE: the pipe this is an end of
};

#endif
