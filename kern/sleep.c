// Sleep and wakeup: how a process waits for something (a child's exit,
// bytes in a pipe, a tick) without holding a CPU.
//
// A process that must wait calls sleep(chan, lk): chan is any address
// that names what it waits for (the pipe's counter, the parent's own
// struct proc, &ticks), lk the spinlock that guards that condition. It
// becomes SLEEPING with p->chan = chan and gives up its CPU; schedulers
// skip it. Whoever changes the condition calls wakeup(chan), which makes
// every process asleep on chan RUNNABLE again. Each returns from sleep
// holding lk again, and tests its condition again in a loop: a wakeup
// says "look again", not "it is true" (two readers may wake for one
// byte; a kill wakes a sleeper too).
//
// The lost wakeup. The sleeper tests its condition under lk and then
// goes to sleep; a waker changes the condition under lk and then calls
// wakeup. If the sleeper let lk go before it was SLEEPING, a waker on
// another CPU could run in between: change the condition, find no one
// asleep on chan, return, and the sleeper would then sleep forever. So
// sleep takes the process table's
// lock (procs_lock, which wakeup needs to change any process's state)
// before it lets lk go: from the test to SLEEPING, one lock or the other
// is always held, and a wakeup waits for the sleeper to be asleep. The
// process table's lock is then held across the switch as for any switch
// (proc.c), and the scheduler lets it go once this process is off its
// CPU. That closes a second race, the one Biscuit's early history has: a
// wakeup on another CPU that makes the sleeper RUNNABLE, and a third CPU
// that runs it, while its own CPU is still on its kernel stack.
//
// wakeup(chan) takes the process table; a caller that holds it already
// (exit, in proc.c) calls wakeup_locked. Lock order: a condition's lock
// (a pipe's) before procs_lock, never the reverse.
//
// Lab 6 exercise: sleep and wakeup_locked.

#include "types.h"
#include "param.h"
#include "proc.h"
#include "spinlock.h"
#include "defs.h"

extern struct proc procs[NPROC];
extern struct spinlock procs_lock;      // proc.c: the process table's lock

// Sleep on chan, letting lk go while asleep (see the top); lk is held
// again on return. lk may be procs_lock itself (wait does that).
void
sleep(void *chan, struct spinlock *lk)
{
#if SOL >= 6
  struct proc *p = myproc();

  if (lk != &procs_lock) {
    acquire(&procs_lock);               // before lk goes: no wakeup in between
    release(lk);
  }
  p->chan = chan;
  p->state = SLEEPING;
  sched();                              // back here once woken and scheduled
  p->chan = NULL;
  if (lk != &procs_lock) {
    release(&procs_lock);
    acquire(lk);
  }
#else
  // LAB 6: make the calling process SLEEPING on chan and sched(), which
  // wants procs_lock held and no other lock (it panics otherwise); on
  // return clear p->chan and hold lk again. Unless lk is procs_lock
  // itself, take procs_lock before you let lk go (why: the top of this
  // file) and let it go before you take lk again.
  //
  // This stub sleeps by not sleeping: it gives the CPU to the next
  // process (as yield does) and returns, and the caller looks at its
  // condition again. Everything works, but a waiting process keeps
  // coming back to look.
  struct proc *p = myproc();

  (void)chan;
  if (lk != &procs_lock) {
    acquire(&procs_lock);
    release(lk);
  }
  p->state = RUNNABLE;
  sched();
  if (lk != &procs_lock) {
    release(&procs_lock);
    acquire(lk);
  }
#endif
}

// Make every process asleep on chan RUNNABLE; the caller holds
// procs_lock.
void
wakeup_locked(void *chan)
{
#if SOL >= 6
  for (struct proc *p = procs; p < &procs[NPROC]; p++)
    if (p->state == SLEEPING && p->chan == chan)
      p->state = RUNNABLE;
#else
  // LAB 6: every process in procs[] that is SLEEPING on chan becomes
  // RUNNABLE. (The stub sleep never sleeps, so it needs no wakeup.)
  (void)chan;
#endif
}

// The same, taking the process table. (The timer calls this from its
// first tick, before proc_init has set up the table: nothing to wake.)
void
wakeup(void *chan)
{
  if (procs[0].kstack == 0)
    return;
  acquire(&procs_lock);
  wakeup_locked(chan);
  release(&procs_lock);
}

// sleep(n): asleep on ticks, which CPU 0's timer wakes every tick, until n
// ticks have passed; -1 if killed first.
int
sleep_ticks(uint64 n)
{
  uint64 start = ticks;

  acquire(&procs_lock);
  while (ticks - start < n) {
    if (myproc()->killed) {
      release(&procs_lock);
      return -1;
    }
    sleep((void *)&ticks, &procs_lock);
  }
  release(&procs_lock);
  return 0;
}
