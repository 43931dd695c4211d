// malloc and free for user programs: a free list in the style of K&R's,
// growing the heap with sbrk.
//
// Memory is counted in units of one header (16 bytes). Every block, free
// or in use, starts with a header giving its size in units, the header
// included; malloc returns the address just after it, so every pointer
// it returns is 16-byte aligned, as SSE's aligned loads want.
//
// The free blocks form a circular list sorted by address, which lets free
// merge a block with the free neighbours it touches, so the heap does not
// crumble into small pieces. A zero-sized block, base, is always on the
// list, so the list is never empty. freep is where the last search ended
// and the next begins ("next fit": the small blocks do not all pile up at
// the front). When no free block is big enough, morecore asks sbrk for at
// least MINGROW units and frees them into the list. The heap never
// shrinks. There are no locks: a process has one thread.

#include "user/types.h"
#include "user/user.h"

#define MINGROW 1024    // units sbrk'ed at least at once (16 KiB): syscalls are slow

struct header {
  struct header *next;  // the next free block by address (free blocks only)
  uint64 units;         // this block's size in units, its header included
} __attribute__((aligned(16)));

_Static_assert(sizeof(struct header) == 16, "umalloc: a unit is 16 bytes");

static struct header base;      // the list's zero-sized anchor
static struct header *freep;    // where the next search starts; 0 before the first malloc

// Put the block whose data starts at ap on the free list, merged with
// the free blocks right before and after it. ap must come from malloc;
// free(0) does nothing.
void
free(void *ap)
{
  struct header *b, *p;

  if (ap == 0 || freep == 0)
    return;
  b = (struct header*)ap - 1;
  // Find p, the free block b follows: p < b < p->next, or b beyond either
  // end of the list where it wraps around (p >= p->next).
  for (p = freep; !(b > p && b < p->next); p = p->next)
    if (p >= p->next && (b > p || b < p->next))
      break;
  if (b + b->units == p->next) {        // touches the next free block: absorb it
    b->units += p->next->units;
    b->next = p->next->next;
  } else {
    b->next = p->next;
  }
  if (p + p->units == b) {              // the previous free block touches b: grow it
    p->units += b->units;
    p->next = b->next;
  } else {
    p->next = b;
  }
  freep = p;
}

// Grow the heap by at least units units; return the free block before
// the new memory (where malloc's search continues), or 0 if sbrk fails.
static struct header*
morecore(uint64 units)
{
  uint64 pad;
  char *p;
  struct header *h;

  if (units < MINGROW)
    units = MINGROW;
  if (units > 0x7fffffff / sizeof(struct header))
    return 0;                           // sbrk takes an int
  // The break starts wherever the program's data ends, and a program may
  // call sbrk itself: round it up to a unit first.
  pad = -(uint64)sbrk(0) % sizeof(struct header);
  if (pad != 0 && sbrk(pad) == (char*)-1)
    return 0;
  if ((p = sbrk(units * sizeof(struct header))) == (char*)-1)
    return 0;
  h = (struct header*)p;
  h->units = units;
  free(h + 1);
  return freep;
}

// Hand out units units of p, a free block big enough, which follows prev
// on the list; return the data address.
static void*
carve(struct header *prev, struct header *p, uint64 units)
{
  if (p->units == units) {
    prev->next = p->next;               // an exact fit leaves the list
  } else {
    p->units -= units;                  // else the tail goes; the front stays free,
    p += p->units;                      // and the list needs no change
    p->units = units;
  }
  freep = prev;
  return p + 1;
}

// Allocate n bytes, 16-byte aligned; return 0 if the heap cannot grow.
// The memory is not cleared.
void*
malloc(uint n)
{
  struct header *prev, *p;
  uint64 units = (n + sizeof(struct header) - 1) / sizeof(struct header) + 1;

  if (freep == 0) {                     // first call: a list of base alone
    base.next = freep = &base;
    base.units = 0;
  }
  prev = freep;
  for (p = prev->next; ; prev = p, p = p->next) {
    if (p->units >= units)
      return carve(prev, p, units);
    if (p == freep && (p = morecore(units)) == 0)   // around once: grow
      return 0;
  }
}
