// The kernel heap: kmalloc(size) and kmfree(p) for objects smaller than a
// page.
//
// Design: size classes. A request is rounded up to a power of two from
// KMALLOC_MIN to KMALLOC_MAX (param.h); each class has a free list of
// objects of its size, carved out of whole pages from kalloc ("slabs"):
//
//   a slab page: +--------------------+ 0
//                | struct slab        |  magic, object size, a bit per
//                |                    |  object (1 = free)
//                +--------------------+ SLAB_FIRST
//                | object 0           |
//                | object 1 ...       |  each of the class's size
//                +--------------------+ 4096
//
// kmfree finds an object's slab by rounding its address down to the page,
// so no object needs a header, and checks the slab's magic, that the
// pointer is at an object's start, and its bit: a pointer that is not
// kmalloc's or a double free panics, naming kmfree's caller, as kfree
// does. A request above KMALLOC_MAX (up to a page) gets a whole page
// from kalloc; kmfree tells one by its page-aligned address (no object of
// a slab is: the header is first).
//
// A freed object is filled with KMALLOC_POISON (its first 8 bytes then
// hold the free list's link) and goes to the head of its class's list, so
// the next request of that class reuses it at once. With memdebug,
// kmalloc checks that an object it hands out is still all poison past the
// link, which catches a write after kmfree. Slabs are never given back to
// kalloc: the heap grows to its peak use and stays there (kmalloc_pages
// says how big that is).
//
// Locking: from lab 5 on, heap.lock (heap_lock, heap_unlock) guards the
// free lists, the slabs' free bits and the page count; a slab grows under
// it, so kalloc's lock is taken inside this one, never the other way.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "defs.h"
#if LAB >= 5
#include "spinlock.h"
#endif

#define SLAB_MAGIC      0x6b736c6162ull     // "kslab"
#define SLAB_FIRST      64                  // offset of a slab's first object
#define SLAB_OBJS_MAX   ((PGSIZE - SLAB_FIRST) / KMALLOC_MIN)
#define NCLASSES        7                   // KMALLOC_MIN << 0 .. KMALLOC_MAX

_Static_assert(KMALLOC_MIN << (NCLASSES - 1) == KMALLOC_MAX, "NCLASSES");

struct slab {
  uint64 magic;                     // SLAB_MAGIC: this page is a slab
  uint64 size;                      // its objects' size
  uint64 freebits[(SLAB_OBJS_MAX + 63) / 64];   // bit i: object i is free
};

_Static_assert(sizeof(struct slab) <= SLAB_FIRST, "struct slab must fit before SLAB_FIRST");

struct object {
  struct object *next;              // in a free object: the next free one
};

static struct {
  struct object *free[NCLASSES];    // each class's free objects, last freed first
  uint64 pages;                     // pages the heap holds (slabs and big objects)
#if LAB >= 5
  struct spinlock lock;
#endif
} heap;

// Hold the heap (see the top); before lab 5, one CPU: nothing to do.
static void
heap_lock(void)
{
#if LAB >= 5
  acquire(&heap.lock);
#endif
}

static void
heap_unlock(void)
{
#if LAB >= 5
  release(&heap.lock);
#endif
}

// The class of a request of size bytes (1 .. KMALLOC_MAX).
static int
size_class(uint64 size)
{
  int c = 0;

  while ((uint64)KMALLOC_MIN << c < size)
    c++;
  return c;
}

static struct slab *
slab_of(void *p)
{
  return (struct slab *)((uint64)p & ~(uint64)(PGSIZE - 1));
}

// Object p's index in its slab.
static uint64
object_index(struct slab *s, void *p)
{
  return ((uint64)p - (uint64)s - SLAB_FIRST) / s->size;
}

static int
is_free(struct slab *s, uint64 i)
{
  return (s->freebits[i / 64] >> (i % 64)) & 1;
}

static void
set_free(struct slab *s, uint64 i, int free)
{
  if (free)
    s->freebits[i / 64] |= 1ull << (i % 64);
  else
    s->freebits[i / 64] &= ~(1ull << (i % 64));
}

// Poison object p, mark it free and push it on its class's list.
static void
push(struct slab *s, void *p)
{
  struct object *o = p;

  stosb(p, KMALLOC_POISON, s->size);
  set_free(s, object_index(s, p), 1);
  o->next = heap.free[size_class(s->size)];
  heap.free[size_class(s->size)] = o;
}

// A new slab for class c, all of its objects on the free list (in reverse,
// so that the lowest address goes out first).
static void
grow(int c)
{
  struct slab *s = kalloc();
  uint64 size = (uint64)KMALLOC_MIN << c;
  uint64 n = (PGSIZE - SLAB_FIRST) / size;

  if (s == NULL)
    panic("kmalloc: out of memory (kalloc returned no page)");
  heap.pages++;
  memset(s, 0, SLAB_FIRST);
  s->magic = SLAB_MAGIC;
  s->size = size;
  for (uint64 i = n; i > 0; i--)
    push(s, (char *)s + SLAB_FIRST + (i - 1) * size);
}

// Panic unless object p is all poison past its link (memdebug).
static void
check_poison(struct slab *s, void *p)
{
  uint8 *b = p;

  for (uint64 i = sizeof(struct object); i < s->size; i++)
    if (b[i] != KMALLOC_POISON)
      panic("kmalloc: object %p (size %lu) was written after it was freed: "
            "byte %lu is 0x%x, not 0x%x", p, s->size, i, b[i], KMALLOC_POISON);
}

// size bytes of kernel memory, not zeroed, aligned to 16 bytes at least
// (a big object to a page); NULL for 0 or more than a page. Panics when
// memory runs out.
void *
kmalloc(uint64 size)
{
  if (size == 0 || size > PGSIZE)
    return NULL;
  if (size > KMALLOC_MAX) {
    void *page = kalloc();
    if (page == NULL)
      panic("kmalloc: out of memory (kalloc returned no page)");
    heap_lock();
    heap.pages++;
    heap_unlock();
    return page;
  }
  int c = size_class(size);
  heap_lock();
  if (heap.free[c] == NULL)
    grow(c);
  struct object *o = heap.free[c];
  struct slab *s = slab_of(o);
  heap.free[c] = o->next;
  set_free(s, object_index(s, o), 0);
  heap_unlock();
  if (kalloc_debug())
    check_poison(s, o);
  return o;
}

// kmfree's panic for a bad pointer: why, and who called kmfree (ret).
static void __attribute__((noreturn))
bad_kmfree(void *p, const char *why, void *ret)
{
  uint64 offset;
  const char *name = caller_name((uint64)ret, &offset);

  panic("kmfree: %p: %s (called from %s+0x%lx)", p, why, name, offset);
}

// Give back p, which kmalloc returned.
__attribute__((noinline)) void
kmfree(void *p)
{
  void *ret = __builtin_return_address(0);
  struct slab *s = slab_of(p);

  heap_lock();
  if ((void *)s == p) {                     // a big object: a whole page
    heap.pages--;
    heap_unlock();
    kfree(p);
    return;
  }
  if (s->magic != SLAB_MAGIC)
    bad_kmfree(p, "not from kmalloc", ret);
  if (((uint64)p - (uint64)s) < SLAB_FIRST || ((uint64)p - (uint64)s - SLAB_FIRST) % s->size != 0)
    bad_kmfree(p, "not the start of an object", ret);
  if (is_free(s, object_index(s, p)))
    bad_kmfree(p, "double free", ret);
  push(s, p);
  heap_unlock();
}

#if LAB >= 5
// Once, at boot (mem_init), before any kmalloc.
void
kmalloc_init(void)
{
  initlock(&heap.lock, "heap");
}
#endif

// Pages the heap holds.
uint64
kmalloc_pages(void)
{
  return heap.pages;
}
