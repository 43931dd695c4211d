// struct stat: what fstat() and stat() report about a file (lab 8).
//
// The layout is xv6-riscv's, which lab 8's kernel fills in; until lab 8
// fstat() returns -1 and stat() fails. Includable before or after
// user.h: user.h only names the struct.

#ifndef USER_STAT_H
#define USER_STAT_H

#include "types.h"

#define T_DIR     1     // a directory
#define T_FILE    2     // a file
#define T_DEVICE  3     // a device (console, ...)

struct stat {
  int dev;              // the disk device of its file system
  uint ino;             // inode number
  short type;           // T_DIR, T_FILE or T_DEVICE
  short nlink;          // links (names) the file has
  uint64 size;          // length in bytes
};

#endif
