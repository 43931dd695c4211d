// Pipes: a bounded buffer between processes, with blocking reads and
// writes.
//
// pipe() makes two open files (file.c) that share one struct pipe: a
// read end and a write end. The bytes written wait in data[], a ring of
// PIPESIZE bytes: nwrite counts every byte ever written and nread every
// byte ever read, so nwrite - nread bytes are waiting, byte i lives at
// data[i % PIPESIZE], the ring is empty when nread == nwrite and full
// when nwrite == nread + PIPESIZE. (The counters never wrap: 2^64 bytes.)
//
// A reader with nothing to read sleeps on &nread until a writer has
// added bytes; a writer that finds the ring full sleeps on &nwrite until
// a reader has taken some. Each wakes the other side after its copy.
// The pipe's lock guards everything in it, and it is the lock each side
// hands to sleep(): the test "is there anything to read" and the sleep
// happen under it, so a writer's wakeup cannot fall between them (the
// lost wakeup, sleep.c).
//
// End of file: a read returns 0 once the ring is empty and every write
// end is closed (writeopen is 0: file.c closes an end when its last
// descriptor goes). A write with every read end closed returns -1: no one
// will ever read it. A process killed while it sleeps in a pipe returns
// -1 at once.
//
// Lab 6 exercise: piperead and pipewrite.

#include "types.h"
#include "param.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "defs.h"

struct pipe {
  struct spinlock lock;
  char data[PIPESIZE];
  uint64 nread;         // bytes read since the pipe was made
  uint64 nwrite;        // bytes written
  int readopen;         // the read end is open
  int writeopen;        // the write end is open
};

_Static_assert(sizeof(struct pipe) <= PGSIZE, "param.h: PIPESIZE is too big for a page");

// A new pipe with both ends open, or NULL if memory ran out. Each pipe
// has a page of its own, from kalloc, and gives it back when both ends
// are closed: the heap (kmalloc) would keep its slab, and sysinfo's free
// page count, which tests compare before and after, would drift.
struct pipe *
pipealloc(void)
{
  struct pipe *pi = kalloc();

  if (pi == NULL)
    return NULL;
  initlock(&pi->lock, "pipe");
  pi->nread = pi->nwrite = 0;
  pi->readopen = pi->writeopen = 1;
  return pi;
}

// Close one end (the write end if writable); free the pipe when both
// are closed. The other side may be asleep waiting for this end: wake it
// to see the end of file, or that no reader is left.
void
pipeclose(struct pipe *pi, int writable)
{
  acquire(&pi->lock);
  if (writable) {
    pi->writeopen = 0;
    wakeup(&pi->nread);
  } else {
    pi->readopen = 0;
    wakeup(&pi->nwrite);
  }
  int unused = !pi->readopen && !pi->writeopen;
  release(&pi->lock);
  if (unused)
    kfree(pi);
}

// Write n bytes from user address buf (file.c checked it): wait while the
// ring is full. n, or -1 if the read end is closed (before or while it
// writes) or the process is killed while it waits.
int
pipewrite(struct pipe *pi, uint64 buf, int n)
{
#if SOL >= 6
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (done < n) {
    if (!pi->readopen || p->killed) {
      release(&pi->lock);
      return -1;
    }
    uint64 room = PIPESIZE - (pi->nwrite - pi->nread);
    if (room == 0) {
      wakeup(&pi->nread);                       // let a reader empty it
      sleep(&pi->nwrite, &pi->lock);
      continue;
    }
    uint64 at = pi->nwrite % PIPESIZE;
    uint64 len = n - done;                      // as much as fits, up to the ring's end
    if (len > room)
      len = room;
    if (len > PIPESIZE - at)
      len = PIPESIZE - at;
    if (copyin(p->pml4, &pi->data[at], buf + done, len) < 0)
      break;
    pi->nwrite += len;
    done += len;
  }
  wakeup(&pi->nread);
  release(&pi->lock);
  return done;
#else
  // LAB 6: hold pi->lock throughout. Until all n bytes are in: if the
  // read end is closed or myproc() was killed, let the lock go and
  // return -1; if the ring is full, wake the readers (on &pi->nread) and
  // sleep on &pi->nwrite with the lock; otherwise copyin as many bytes as
  // fit, into data[] at nwrite % PIPESIZE (a copy stops at the ring's
  // end), and count them in nwrite. At the end wake the readers and
  // return n.
  (void)pi, (void)buf, (void)n;
  return -1;
#endif
}

// Read up to n bytes into user address buf (file.c checked it): wait
// while the ring is empty and the write end open. The count read (0: end
// of file), or -1 if the process was killed while it waited.
int
piperead(struct pipe *pi, uint64 buf, int n)
{
#if SOL >= 6
  struct proc *p = myproc();
  int done = 0;

  acquire(&pi->lock);
  while (pi->nread == pi->nwrite && pi->writeopen) {
    if (p->killed) {
      release(&pi->lock);
      return -1;
    }
    sleep(&pi->nread, &pi->lock);
  }
  while (done < n && pi->nread < pi->nwrite) {
    uint64 at = pi->nread % PIPESIZE;
    uint64 len = n - done;                      // what waits, up to the ring's end
    if (len > pi->nwrite - pi->nread)
      len = pi->nwrite - pi->nread;
    if (len > PIPESIZE - at)
      len = PIPESIZE - at;
    if (copyout(p->pml4, buf + done, &pi->data[at], len) < 0)
      break;
    pi->nread += len;
    done += len;
  }
  wakeup(&pi->nwrite);                          // there is room now
  release(&pi->lock);
  return done;
#else
  // LAB 6: hold pi->lock throughout. While the ring is empty and the
  // write end open: if myproc() was killed, let the lock go and return
  // -1; else sleep on &pi->nread with the lock. Then copyout up to n of
  // the waiting bytes (from data[] at nread % PIPESIZE, a copy at a time
  // up to the ring's end), count them in nread, wake the writers (on
  // &pi->nwrite) and return how many were read: 0 if none were left
  // and the write end is closed.
  (void)pi, (void)buf, (void)n;
  return -1;
#endif
}
