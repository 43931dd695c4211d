// The buffer cache's invariants, checked (bio.c says what they are and
// why): sysinfo() reports how many are broken now, so a test with many
// processes at work on the cache can ask at any moment. This file is
// not the student's: a cache that breaks them cannot also hide it.

#include "types.h"
#include "param.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "buf.h"
#include "defs.h"

// How many of the invariants are broken, with a line for each.
int
bcache_check(void)
{
  int bad = 0, n = 0;

  acquire(&bcache.lock);
  for (struct buf *b = bcache.head.next; b != &bcache.head && n <= NBUF; b = b->next, n++) {
    if (b->next->prev != b) {
      printf("bcache: the list is broken after buffer %ld\n", (long)(b - bcache.buf));
      bad++;
      break;
    }
  }
  if (n != NBUF) {
    printf("bcache: the list holds %d buffers, not %d\n", n, NBUF);
    bad++;
  }
  for (struct buf *b = bcache.buf; b < &bcache.buf[NBUF]; b++) {
    if (b->refcnt < 0) {
      printf("bcache: buffer %ld has refcnt %d\n", (long)(b - bcache.buf), b->refcnt);
      bad++;
    }
    if (!b->valid && b->refcnt == 0)
      continue;                         // holds no block
    for (struct buf *c = b + 1; c < &bcache.buf[NBUF]; c++) {
      if ((c->valid || c->refcnt > 0) && c->dev == b->dev && c->blockno == b->blockno) {
        printf("bcache: block %u of disk %u is in buffers %ld and %ld\n", b->blockno, b->dev,
               (long)(b - bcache.buf), (long)(c - bcache.buf));
        bad++;
      }
    }
  }
  release(&bcache.lock);
  return bad;
}
