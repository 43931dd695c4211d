// Sleep locks: locks a process may hold for a long time, and sleep while
// holding, because whoever waits for it sleeps instead of spinning.
//
// A spinlock (spinlock.c) is for short critical sections: its waiters
// spin with interrupts off, and its holder must not sleep (sched()
// panics if it tries). A buffer of the block cache (bio.c) is held for a
// whole disk request, milliseconds in which the holder sleeps until the
// disk's interrupt: that needs a lock whose waiters give up their CPU.
//
// A sleep lock is a flag (locked) guarded by a spinlock (lk). To take it,
// a process takes lk and, while the flag is set, sleeps on the sleep
// lock's address with lk (sleep.c lets lk go while it sleeps, and takes
// it again to return, so no release can slip between the test and the
// sleep); then it sets the flag and records itself as the holder. To let
// it go, the holder clears the flag and wakes every sleeper: each tests
// the flag again, and one of them wins.
//
// Interrupts are on while a sleep lock is held (lk is held only inside
// acquiresleep and releasesleep), so an interrupt handler must never take
// one: it could not sleep.
//
// Lab 7 exercise: acquiresleep and releasesleep.

#include "types.h"
#include "param.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "defs.h"

void
initsleeplock(struct sleeplock *sl, const char *name)
{
  initlock(&sl->lk, "sleeplock");
  sl->name = name;
  sl->locked = 0;
  sl->pid = 0;
}

// Take sl, sleeping while another process holds it.
void
acquiresleep(struct sleeplock *sl)
{
#if SOL >= 7
  acquire(&sl->lk);
  while (sl->locked)
    sleep(sl, &sl->lk);
  sl->locked = 1;
  sl->pid = myproc()->pid;
  release(&sl->lk);
#else
  // LAB 7: under sl->lk, sleep on sl while it is locked; then take it
  // (locked = 1) and record the holder's pid. This stub takes the lock
  // without waiting: two processes can hold one buffer at once.
  sl->locked = 1;
  sl->pid = myproc()->pid;
#endif
}

// Let sl go and wake whoever waits for it.
void
releasesleep(struct sleeplock *sl)
{
#if SOL >= 7
  acquire(&sl->lk);
  sl->locked = 0;
  sl->pid = 0;
  wakeup(sl);
  release(&sl->lk);
#else
  // LAB 7: under sl->lk, clear locked and pid, and wake the sleepers on sl.
  sl->locked = 0;
  sl->pid = 0;
#endif
}

// Does the calling process hold sl?
int
holdingsleep(struct sleeplock *sl)
{
  int r;

  acquire(&sl->lk);
  r = sl->locked && sl->pid == myproc()->pid;
  release(&sl->lk);
  return r;
}
