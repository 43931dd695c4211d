#ifndef KERN_SLEEPLOCK_H
#define KERN_SLEEPLOCK_H

#include "spinlock.h"

// A lock whose waiters sleep (sleeplock.c): for holding across a disk
// request, which takes milliseconds and may sleep itself.
struct sleeplock {
  int locked;           // 1 while held
  struct spinlock lk;   // guards this struct; the lock sleepers sleep with
  const char *name;     // what it protects ("buf")
  int pid;              // the holder's pid, 0 while free (for holdingsleep and GDB)
};

#endif
