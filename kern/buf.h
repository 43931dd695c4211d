#ifndef KERN_BUF_H
#define KERN_BUF_H

#include "types.h"
#include "sleeplock.h"

// A buffer of the block cache (bio.c): one disk block's copy in memory.
struct buf {
  uint32 dev;           // which disk (0 boot, DATADEV)
  uint32 blockno;       // which block of it
  int valid;            // data holds the block's contents (read, or written)
  int refcnt;           // holders and waiters (bcache.lock); 0: may be reused
  struct sleeplock lock;  // held by whoever reads or changes data
  struct buf *prev;     // the LRU list: head.next most recently released
  struct buf *next;
  // The disk request (ide.c), under the disk's lock:
  int write;            // 1: write data to the disk, 0: read it from there
  int done;             // the disk has ended the request
  int error;            // ... and said it failed (what its error register held)
  int qdma;             // the request moves its data by DMA
  struct buf *qnext;    // the next request in the disk's queue
  uint8 *data;          // BSIZE bytes, a page of its own (kalloc)
};

// The cache: NBUF buffers on a circular list through head, in the order
// they were last released (most recent first), and the lock that guards
// every buffer's dev, blockno, valid, refcnt and the list.
struct bcache {
  struct spinlock lock;
  struct buf buf[NBUF];
  struct buf head;
  uint64 hits, misses;  // bget's (for sysinfo and make bench)
};
extern struct bcache bcache;

#endif
