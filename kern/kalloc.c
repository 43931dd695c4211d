// The physical page allocator: kalloc() hands out one 4 KiB page, kfree()
// takes it back.
//
// Design: a free list. Each free page holds, in its first 8 bytes, a
// pointer to the next free page (struct run), so the list costs no memory
// of its own; kalloc pops the head, kfree pushes onto it, both in constant
// time. Pages are named by their direct-map address (KADDR, memlayout.h):
// the allocator reaches every page that way, and PADDR gives the physical
// address that page tables want. A buddy allocator would also hand out
// runs of contiguous pages; nothing in the kernel needs them (yet), so the
// simpler list wins.
//
// Beside the list, the free map keeps one bit per physical page from 0 to
// the top of usable memory: set while the page is on the free list. It
// costs 32 KiB per GiB, taken from memory before the allocator starts
// (memmap_steal), and it is what lets kfree catch mistakes at once, each
// with a panic that names kfree's caller:
//   - a pointer that is not the start of a page;
//   - a page kalloc never hands out (the kernel image, low memory, a
//     reserved range, memory beyond the map);
//   - a double free: the page's bit is already set.
//
// The link itself is checked on every kalloc, memdebug or not: a free
// page's first 8 bytes are what kalloc follows next, so a single write
// there after a free (a use after free through a stale pointer) would
// otherwise hand out whatever it points at: a kernel page in use, the
// kernel image, anything. check_link panics instead, naming the page.
//
// Poisoning: kfree fills a page with KALLOC_POISON (param.h) before it
// goes on the list, so that a use after free reads garbage that shows,
// not plausible old data. With the command-line option memdebug, kalloc
// also checks that the page it hands out is still all poison (but for
// the link in its first 8 bytes): a write to a freed page is caught when
// the page is next handed out, with the page and the byte in the panic.
// Filling all of memory at boot would take seconds for gigabytes under
// emulation, so the pages kalloc_init hands to kfree are poisoned only
// with memdebug: without it, a page is poisoned from its first kfree on.
//
// Invariants: a page is on the list exactly when its free-map bit is set;
// kmem.nfree is the length of the list; kalloc's pages are not zeroed
// (callers that need zeros, such as page tables, clear them).
//
// Locking: from lab 5 on, several CPUs call kalloc and kfree at once, so
// the list, the count and the free map change only under kmem.lock
// (kmem_lock, kmem_unlock). Before lab 5 there is one CPU, and the two
// do nothing; kalloc and kfree call them all the same.
//
// Lab 2 exercise: kalloc and kfree.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "defs.h"
#if LAB >= 5
#include "spinlock.h"
#endif

CMDLINE_OPTION(memdebug, "check that freed pages and heap objects stay unwritten (use after free)");

struct run {
  struct run *next;
};

static struct {
  struct run *free;     // the free pages, most recently freed first
  uint64 nfree;         // how many pages are on the list
  uint8 *freemap;       // a bit per physical page below top: 1 = on the list
  uint64 top;           // physical address the free map ends at
  int filling;          // kalloc_init is handing its pages to kfree
  int debug;            // memdebug: kalloc checks each page's poison
#if LAB >= 5
  struct spinlock lock; // held while the list, nfree or the free map change
#endif
} kmem;

//// Given helpers ///////////////////////////////////////////////////////////

// Is the page at physical address pa on the free list?
static int
freemap_get(uint64 pa)
{
  uint64 page = pa / PGSIZE;
  return (kmem.freemap[page / 8] >> (page % 8)) & 1;
}

static void
freemap_set(uint64 pa, int free)
{
  uint64 page = pa / PGSIZE;
  if (free)
    kmem.freemap[page / 8] |= 1 << (page % 8);
  else
    kmem.freemap[page / 8] &= ~(1 << (page % 8));
}

// Does kalloc hand out the page at physical address pa (in a usable range
// of memmap.c)?
static int
managed(uint64 pa)
{
  uint32 n;
  const struct memrange *r = memmap_usable(&n);

  if (pa >= kmem.top)
    return 0;
  for (uint32 i = 0; i < n; i++)
    if (pa >= r[i].base && pa < r[i].end)
      return 1;
  return 0;
}

static void
poison(void *page)
{
  memset(page, KALLOC_POISON, PGSIZE);
}

// Should kfree poison the page it is given (see the top)?
static int
poison_on_free(void)
{
  return !kmem.filling || kmem.debug;
}

// Panic unless page, just taken off the list, is still all poison past its
// link: something wrote to it while it was free.
static void
check_poison(void *page)
{
  uint8 *p = page;

  for (uint64 i = sizeof(struct run); i < PGSIZE; i++)
    if (p[i] != KALLOC_POISON)
      panic("kalloc: page %p was written after it was freed: byte %lu is 0x%x, not 0x%x",
            page, i, p[i], KALLOC_POISON);
}

// Panic unless the link of r, just taken off the list, is the end of the
// list or a page on it (see the top): r was written after it was freed.
static void
check_link(struct run *r)
{
  uint64 next = (uint64)r->next;

  if (next == 0)
    return;
  // In this order, so that nothing is read through, or computed from,
  // a link that is not a direct-map page address.
  if (next < DIRECTMAP_BASE || next - DIRECTMAP_BASE >= kmem.top || next % PGSIZE != 0 ||
      !freemap_get(PADDR(r->next)))
    panic("kalloc: page %p was written after it was freed: its link is %p, not a free page",
          r, (void *)next);
}

// The function that holds return address ret, and in *offset where in it:
// names the caller in a panic.
const char *
caller_name(uint64 ret, uint64 *offset)
{
  const char *name = ksym_lookup(ret - 1, offset);

  *offset += 1;
  return name ? name : "?";
}

// kfree's panic for a bad page: why, and who called kfree (ret).
static void __attribute__((noreturn))
bad_free(void *page, const char *why, void *ret)
{
  uint64 offset;
  const char *name = caller_name((uint64)ret, &offset);

  panic("kfree: %p: %s (called from %s+0x%lx)", page, why, name, offset);
}

//// The allocator /////////////////////////////////////////////////////////////

// Hold the allocator (see the top).
static void
kmem_lock(void)
{
#if LAB >= 5
  acquire(&kmem.lock);
#endif
}

static void
kmem_unlock(void)
{
#if LAB >= 5
  release(&kmem.lock);
#endif
}

// A free page (its direct-map address), off the list; NULL if none is left.
// With memdebug, check that it is still poisoned (check_poison).
void *
kalloc(void)
{
#if SOL >= 2
  struct run *r;

  kmem_lock();
  r = kmem.free;
  if (r != NULL) {
    check_link(r);
    kmem.free = r->next;
    kmem.nfree--;
    freemap_set(PADDR(r), 0);
  }
  kmem_unlock();
  if (r != NULL && kmem.debug)
    check_poison(r);            // the page is ours now: no lock needed
  return r;
#else
  // LAB 2: between kmem_lock() and kmem_unlock() (see the top), take the
  // page at the head of kmem.free (after check_link: its link must be
  // sound before you follow it), and keep kmem.nfree and the page's
  // free-map bit (freemap_set) true to the list. Then check its poison
  // when kmem.debug is set, and return it; NULL when the list is empty.
  (void)kmem_lock;
  (void)kmem_unlock;
  (void)check_link;
  (void)check_poison;
  (void)freemap_set;
  return NULL;
#endif
}

// Put page (a direct-map address that kalloc returned) back on the list.
// Panics, naming the caller, on a pointer that is not a page start, a page
// kalloc does not hand out, or a page that is free already. (A pointer
// that is no direct-map address at all, a KERNBASE one say, is among the
// second: PADDR of it wraps around to an address far above kmem.top.)
__attribute__((noinline)) void
kfree(void *page)
{
#if SOL >= 2
  uint64 pa = PADDR(page);
  void *ret = __builtin_return_address(0);
  struct run *r = page;

  if (pa % PGSIZE != 0)
    bad_free(page, "not the start of a page", ret);
  if (!managed(pa))
    bad_free(page, "not a page kalloc hands out", ret);
  kmem_lock();
  if (freemap_get(pa))
    bad_free(page, "double free", ret);
  if (poison_on_free())
    poison(page);
  r->next = kmem.free;
  kmem.free = r;
  kmem.nfree++;
  freemap_set(pa, 1);
  kmem_unlock();
#else
  // LAB 2: check page, in this order, with bad_free(page, why,
  // __builtin_return_address(0)) for each mistake: "not the start of a
  // page", "not a page kalloc hands out" (managed), "double free"
  // (freemap_get). Then poison it if poison_on_free() says so, push it on
  // kmem.free, count it in kmem.nfree and set its free-map bit. The
  // double-free check and everything after it go between kmem_lock() and
  // kmem_unlock() (see the top): the page must not go free twice at once.
  (void)page;
  (void)bad_free;
  (void)managed;
  (void)freemap_get;
  (void)poison_on_free;
  (void)poison;
#endif
}

// How many pages are free: the allocator's own count.
uint64
kalloc_nfree(void)
{
  return kmem.nfree;
}

// Is the memdebug option on (kmalloc.c checks its objects too)?
int
kalloc_debug(void)
{
  return kmem.debug;
}

// The free map, for every page below the top of usable memory, taken from
// memory that the boot page tables reach (it must be cleared now).
static void
freemap_init(void)
{
  uint64 bytes = (memmap_top() / PGSIZE + 7) / 8;

  kmem.freemap = KADDR(memmap_steal(bytes));
  kmem.top = memmap_top();
  memset(kmem.freemap, 0, bytes);
  kmem.debug = cmdline_get("memdebug") != NULL;
#if LAB >= 5
  initlock(&kmem.lock, "kmem");
#endif
}

// Give kfree every usable page with a physical address in [lo, hi). The
// first call sets up the free map too. The pages must be reachable through
// the direct map (mem_init in memmap.c says when).
void
kalloc_init(uint64 lo, uint64 hi)
{
  uint32 n;
  const struct memrange *r;

  if (kmem.freemap == NULL)
    freemap_init();
  r = memmap_usable(&n);
  kmem.filling = 1;
  for (uint32 i = 0; i < n; i++) {
    uint64 from = r[i].base > lo ? r[i].base : lo;
    uint64 to = r[i].end < hi ? r[i].end : hi;
    for (uint64 pa = from; pa < to; pa += PGSIZE)
      kfree(KADDR(pa));
  }
  kmem.filling = 0;
}
