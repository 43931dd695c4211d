// A spinlock: mutual exclusion between CPUs, with interrupts off on the
// CPU that holds it. spinlock.c says how it works and what it checks.
//
// Only `locked` makes the lock; every other field is a record for the
// reports of its misuse. The holder writes them after it has taken the
// lock and before it lets go, so another CPU sees them change only while
// it waits, and reads them only to print a report.

#ifndef KERN_SPINLOCK_H
#define KERN_SPINLOCK_H

#include "types.h"

struct cpu;

struct spinlock {
  uint32 locked;        // 1 while held: the word acquire swaps with xchg
  const char *name;     // what the lock protects ("kmem"), from initlock
  int class;            // its lock class (its name's slot in spinlock.c's order table)

  // Written by the holder, read in reports.
  struct cpu *cpu;      // the CPU that holds it, NULL while free
  uint64 taken_at;      // the return address of the acquire() that took it
  uint64 released_at;   // ... of the release() that last let it go (0: never)
};

#endif
