// The buffer cache: disk blocks kept in memory, one copy of each.
//
// A process that wants a block calls bread(dev, blockno): it gets a
// buffer that holds the block, locked for it alone, and reads or changes
// its data. bwrite(b) writes a changed buffer to the disk; brelse(b) gives
// the buffer back. While a process holds a buffer no other process can
// have that block: they wait in bread for its lock. That is what keeps
// two processes that change the same block from losing one's change.
//
// The cache holds NBUF buffers. Two invariants make it a cache and not a
// collection of copies:
//   - at most one buffer holds a block (dev, blockno): a second copy
//     could be written while the first is read, and a reader would see
//     stale data;
//   - a buffer with a reference (refcnt > 0) is never taken for another
//     block: its holder, or a process waiting for its lock, still wants
//     this block.
// bget finds the block's buffer or takes one for it, under bcache.lock,
// which guards dev, blockno, valid and refcnt of every buffer and the
// list. Buffers with refcnt 0 are reused least recently used first:
// brelse moves a buffer whose last reference goes to the front of the
// list, so bget searches for a block from the front (recently used blocks
// are there) and for a free buffer from the back (the least recently
// released). A buffer's data is guarded by its sleep lock (sleeplock.c):
// a disk request takes milliseconds, and the process sleeps while it
// runs.
//
// A buffer keeps its block's contents after its last brelse (valid stays
// 1): the next bread of that block, from any process on any CPU, finds
// them there and goes to no disk. bflush drops every unused buffer's
// contents, so that the next reads come from the disk (tests and make
// bench use it, through the blkflush system call).
//
// Lab 7 exercise: bget and brelse.

#include "types.h"
#include "param.h"
#include "mmu.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "buf.h"
#include "defs.h"

struct bcache bcache;

void
binit(void)
{
  initlock(&bcache.lock, "bcache");
  bcache.head.prev = bcache.head.next = &bcache.head;
  for (struct buf *b = bcache.buf; b < &bcache.buf[NBUF]; b++) {
    b->data = kalloc();
    if (b->data == NULL)
      panic("binit: no memory for %d buffers", NBUF);
    initsleeplock(&b->lock, "buf");
    b->next = bcache.head.next;
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
  }
}

// The buffer for block blockno of dev, locked, with one more reference:
// the one that holds it, if the cache has it, else the least recently
// used buffer with no reference, taken for it (valid 0: not read yet).
// If every buffer is in use, waits until one is free: more processes
// than NBUF may each want a block at once.
static struct buf *
bget(uint32 dev, uint32 blockno)
{
#if SOL >= 7
  struct buf *b;

  acquire(&bcache.lock);
  for (;;) {
    for (b = bcache.head.next; b != &bcache.head; b = b->next) {
      if (b->dev == dev && b->blockno == blockno && (b->valid || b->refcnt > 0)) {
        b->refcnt++;
        bcache.hits++;
        release(&bcache.lock);
        acquiresleep(&b->lock);
        return b;
      }
    }
    for (b = bcache.head.prev; b != &bcache.head; b = b->prev) {
      if (b->refcnt == 0) {
        b->dev = dev;
        b->blockno = blockno;
        b->valid = 0;
        b->refcnt = 1;
        bcache.misses++;
        release(&bcache.lock);
        acquiresleep(&b->lock);
        return b;
      }
    }
    sleep(&bcache, &bcache.lock);       // every buffer in use: until brelse frees one
  }
#else
  // LAB 7: under bcache.lock, look for the buffer that holds (dev,
  // blockno): one with that dev and blockno that is valid or referenced
  // (a buffer just taken for the block is not valid yet, but it is the
  // block's). Found: one more reference (and bcache.hits++). Not found:
  // take the least recently used buffer with no reference (search from
  // the list's back), give it dev and blockno, valid 0, refcnt 1
  // (bcache.misses++). Either way, let bcache.lock go and only then take
  // the buffer's sleep lock: it may sleep. None free: sleep on &bcache
  // (with bcache.lock) until brelse frees one, and look again (the block
  // may have come into the cache meanwhile).
  //
  // This stub takes the first free buffer for every request, as if the
  // cache held nothing (a second reader of a block gets a second buffer),
  // and panics when there is none.
  struct buf *b;

  acquire(&bcache.lock);
  for (b = bcache.head.prev; b != &bcache.head; b = b->prev) {
    if (b->refcnt == 0) {
      b->dev = dev;
      b->blockno = blockno;
      b->valid = 0;
      b->refcnt = 1;
      release(&bcache.lock);
      acquiresleep(&b->lock);
      return b;
    }
  }
  panic("bget: all %d buffers in use", NBUF);
#endif
}

// The block's buffer, locked, with its contents; NULL if the disk
// failed to read it (ide.c has said why).
struct buf *
bread(uint32 dev, uint32 blockno)
{
  struct buf *b = bget(dev, blockno);

  if (!b->valid) {
    b->write = 0;
    if (ide_rw(b) < 0) {
      brelse(b);
      return NULL;
    }
    b->valid = 1;
  }
  return b;
}

// Write b's data to the disk; the caller holds b. 0, or -1 if the disk
// failed (b's contents stay: the cache still has the new data).
int
bwrite(struct buf *b)
{
  if (!holdingsleep(&b->lock))
    panic("bwrite: buffer of block %u not held", b->blockno);
  b->valid = 1;
  b->write = 1;
  return ide_rw(b);
}

// Give b back: unlock it, and when its last reference goes, move it to
// the front of the list, the most recently used.
void
brelse(struct buf *b)
{
  if (!holdingsleep(&b->lock))
    panic("brelse: buffer of block %u not held", b->blockno);
#if SOL >= 7
  releasesleep(&b->lock);
  acquire(&bcache.lock);
  if (--b->refcnt == 0) {
    b->next->prev = b->prev;            // out of its place ...
    b->prev->next = b->next;
    b->next = bcache.head.next;         // ... and in at the front
    b->prev = &bcache.head;
    bcache.head.next->prev = b;
    bcache.head.next = b;
    wakeup(&bcache);                    // a bget waiting for a free buffer
  }
  release(&bcache.lock);
#else
  // LAB 7: let b's sleep lock go; then, under bcache.lock, drop one
  // reference, and if that was the last, move b to the front of the list
  // (just after bcache.head): the most recently used, the last reused;
  // and wake whoever waits in bget for a free buffer.
  releasesleep(&b->lock);
  acquire(&bcache.lock);
  b->refcnt--;
  release(&bcache.lock);
#endif
}

// Forget the contents of every buffer no one holds; the count forgotten.
int
bflush(void)
{
  int n = 0;

  acquire(&bcache.lock);
  for (struct buf *b = bcache.buf; b < &bcache.buf[NBUF]; b++) {
    if (b->refcnt == 0 && b->valid) {
      b->valid = 0;
      n++;
    }
  }
  release(&bcache.lock);
  return n;
}
