// Lab 2's self-tests: the page allocator, the cleaning of the e820 map,
// the heap and the page tables.
//
// Each is run with test=NAME seed=N (see selftest.c) and prints what the
// grader (grade/lab2.py) checks, computed from the same seed: which pages
// it took and gave back, the counts the allocator reports, the panics its
// checks must raise. Tests that must end in a panic say first what they
// are about to do wrong ("freeing 0x... again"), so the grader can check
// that the panic names that address and this caller.
//
// The tests check what they can themselves too (a page handed out twice,
// a heap object overwritten by another), with a panic that says so.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "defs.h"

#define ALLTEST_MAX     (256 << 20)     // kalloc_all tracks pages below this physical address
#define ALLTEST_PAGES   (ALLTEST_MAX / PGSIZE)
#define BENCH_ROUNDS    10000           // kalloc_bench's pairs of calls
#define HEAP_OPS        400             // kmalloc test: allocations per round
#define HEAP_LIVE       64              // most objects it holds at once
#define PERTURB_MAX     (4 * E820_MAX + 8)  // e820_clean: entries of the perturbed copy

struct held {                           // a chain of held pages, through the pages
  struct held *next;
};

extern char end[];                      // kernel.ld: the end of the kernel image

static uint8 alltest_map[ALLTEST_PAGES / 8];   // kalloc_all: a bit per page handed out

// Allocate n pages, chained through their first word; panics if kalloc
// runs out first.
static struct held *
take_pages(uint64 n, const char *who)
{
  struct held *chain = NULL;

  for (uint64 i = 0; i < n; i++) {
    struct held *h = kalloc();
    if (h == NULL)
      panic("%s: kalloc returned NULL after %lu pages", who, i);
    h->next = chain;
    chain = h;
  }
  return chain;
}

static void
give_pages(struct held *chain)
{
  while (chain) {
    struct held *next = chain->next;
    kfree(chain);
    chain = next;
  }
}

//// kalloc_nfree: the count follows the allocator ////////////////////////////

__attribute__((noinline)) void
kalloc_nfree_test(void)
{
  uint64 x = selftest_seed();
  uint64 n = 1 + seed_next(&x) % 1000;
  uint64 before = kalloc_nfree();
  struct held *chain = take_pages(n, "kalloc_nfree");

  printf("kalloc_nfree: %lu free; after %lu kallocs %lu free", before, n, kalloc_nfree());
  give_pages(chain);
  printf("; after %lu kfrees %lu free\n", n, kalloc_nfree());
}
SELFTEST(kalloc_nfree, kalloc_nfree_test);

//// kalloc_all: every page, once, and back again //////////////////////////////

// Record page p (handed out by kalloc) in alltest_map; panic if it is not
// a page, lies beyond the map, or was handed out already.
static void
alltest_mark(void *p)
{
  uint64 pa = PADDR(p);

  if (pa % PGSIZE != 0 || pa >= ALLTEST_MAX)
    panic("kalloc_all: kalloc returned %p: not a direct-map page below %p",
          p, KADDR(ALLTEST_MAX));
  if (alltest_map[pa / PGSIZE / 8] & (1 << (pa / PGSIZE % 8)))
    panic("kalloc_all: page %p handed out twice", p);
  alltest_map[pa / PGSIZE / 8] |= 1 << (pa / PGSIZE % 8);
}

static int
alltest_marked(uint64 page)
{
  return (alltest_map[page / 8] >> (page % 8)) & 1;
}

// Print the pages marked, as ranges in address order; returns how many.
static uint64
alltest_print(void)
{
  uint64 total = 0;

  for (uint64 page = 0; page < ALLTEST_PAGES; page++) {
    if (!alltest_marked(page) || (page > 0 && alltest_marked(page - 1)))
      continue;
    uint64 last = page;
    while (last + 1 < ALLTEST_PAGES && alltest_marked(last + 1))
      last++;
    printf("kalloc_all: [mem %p-%p]\n", (void *)(page * PGSIZE),
           (void *)((last + 1) * PGSIZE - 1));
    total += last - page + 1;
  }
  return total;
}

// A seeded warm-up (take some pages, give back some in a seeded order),
// then take every page there is, and give all back.
__attribute__((noinline)) void
kalloc_all_test(void)
{
  uint64 x = selftest_seed(), start = kalloc_nfree();
  static void *warm[64];
  uint64 nwarm = 1 + seed_next(&x) % 64, n = 0;
  void *p;

  if (memmap_top() > ALLTEST_MAX)
    panic("kalloc_all: run it with at most %d MiB of memory", ALLTEST_MAX >> 20);
  printf("kalloc_all: %lu free pages\n", start);
  for (uint64 i = 0; i < nwarm; i++)
    warm[i] = kalloc();
  for (uint64 i = 0; i < nwarm; i++) {        // give back some, in a seeded order
    uint64 j = seed_next(&x) % nwarm;
    if (warm[j] && seed_next(&x) % 2) {
      kfree(warm[j]);
      warm[j] = NULL;
    }
  }
  for (uint64 i = 0; i < nwarm; i++) {
    if (warm[i]) {
      alltest_mark(warm[i]);
      n++;
    }
  }
  while ((p = kalloc()) != NULL) {
    alltest_mark(p);
    n++;
  }
  printf("kalloc_all: %lu pages handed out, each once; %lu free now\n", n, kalloc_nfree());
  if (alltest_print() != n)
    panic("kalloc_all: the ranges do not add up to %lu pages", n);
  for (uint64 page = 0; page < ALLTEST_PAGES; page++)
    if (alltest_marked(page))
      kfree(KADDR(page * PGSIZE));
  printf("kalloc_all: all given back: %lu free pages\n", kalloc_nfree());
}
SELFTEST(kalloc_all, kalloc_all_test);

//// e820_clean: a perturbed copy of the BIOS's map cleans up the same ///////

// Copy map[0..n) to out (room for max) in another form with the same
// meaning: each entry as it is, split in two, twice, or with an
// overlapping piece of itself, empty entries among them, all shuffled; and
// one usable range beyond the direct map, which the cleaning must report
// and leave out. Returns the copy's length.
static uint32
perturb(const struct e820_range *map, uint32 n, struct e820_range *out, uint32 max, uint64 *x)
{
  uint32 nout = 0;

  for (uint32 i = 0; i < n && nout + 4 < max; i++) {
    struct e820_range e = map[i];
    uint64 len = e.end - e.base;
    uint64 cut = e.base + (len > 1 ? seed_next(x) % len : 0);
    switch (seed_next(x) % 4) {
    case 0:                                     // as it is
      out[nout++] = e;
      break;
    case 1:                                     // split in two
      out[nout] = e, out[nout++].end = cut;
      out[nout] = e, out[nout++].base = cut;
      break;
    case 2:                                     // twice
      out[nout++] = e;
      out[nout++] = e;
      break;
    default:                                    // and an overlapping piece
      out[nout++] = e;
      out[nout] = e, out[nout++].base = cut;
      break;
    }
    if (seed_next(x) % 2)                       // an empty entry of any type
      out[nout++] = (struct e820_range){ cut, cut, (int)(seed_next(x) % 2) };
  }
  uint64 far = DIRECTMAP_SIZE + (seed_next(x) % 64) * PGSIZE_1G;
  out[nout++] = (struct e820_range){ far, far + (1 + seed_next(x) % 4) * PGSIZE_1G, 1 };
  for (uint32 i = nout - 1; i > 0; i--) {       // Fisher-Yates shuffle
    uint32 j = seed_next(x) % (i + 1);
    struct e820_range t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return nout;
}

// memmap_clean on a seeded perturbed copy of the BIOS's map must give the
// ranges it gives on the map itself (the grader checks them against its
// own cleaning of the e820 lines the kernel printed at boot).
__attribute__((noinline)) void
e820_clean_test(void)
{
  static struct e820_range bios[E820_MAX], copy[PERTURB_MAX];
  static struct memrange want[MEMMAP_MAX], got[MEMMAP_MAX];
  uint64 x = selftest_seed();
  uint32 n;
  const struct e820_range *map = memmap_bios(&n);

  memmove(bios, map, n * sizeof(map[0]));       // memmap_clean reorders what it cleans
  uint32 ncopy = perturb(bios, n, copy, PERTURB_MAX, &x);

  printf("e820_clean: seed %lu: %u entries in place of the BIOS's %u\n", selftest_seed(),
         ncopy, n);
  uint32 nwant = memmap_clean(bios, n, want);
  uint32 ngot = memmap_clean(copy, ncopy, got);
  for (uint32 i = 0; i < ngot; i++)
    printf("e820_clean: [mem %p-%p] usable\n", (void *)got[i].base, (void *)(got[i].end - 1));
  if (ngot != nwant || memcmp(got, want, ngot * sizeof(got[0])) != 0)
    panic("e820_clean: the copy cleans up to other ranges than the BIOS's map");
  printf("e820_clean: the same as the BIOS's map cleaned (%u ranges)\n", ngot);
}
SELFTEST(e820_clean, e820_clean_test);

//// kfree's checks ///////////////////////////////////////////////////////////

// Take a few pages, give them back in a seeded order, then free one of
// them (the seed says which) again: kfree must panic.
__attribute__((noinline)) void
kalloc_double_test(void)
{
  uint64 x = selftest_seed();
  void *pages[8];
  uint64 n = 2 + seed_next(&x) % 7;

  for (uint64 i = 0; i < n; i++)
    if ((pages[i] = kalloc()) == NULL)
      panic("kalloc_double: kalloc returned NULL");
  for (uint64 i = 0; i < n; i++)             // a rotation of the order
    kfree(pages[(i + x) % n]);
  void *again = pages[seed_next(&x) % n];
  printf("kalloc_double: freeing %p again\n", again);
  kfree(again);
  printf("kalloc_double: kfree took the same page twice\n");
}
SELFTEST(kalloc_double, kalloc_double_test);

// kfree of something that is not a page kalloc handed out (the seed says
// which kind): kfree must panic.
__attribute__((noinline)) void
kfree_bad_test(void)
{
  uint64 x = selftest_seed();
  uint64 kind = seed_next(&x) % 3, off = 1 + seed_next(&x) % (PGSIZE - 1);
  uint64 image = ((uint64)end - KERNBASE - KERNEL_PHYS) / PGSIZE;
  char *p = kalloc();
  static const char *const kinds[] = { "inside a page", "in the kernel image", "in low memory" };

  if (p == NULL)
    panic("kfree_bad: kalloc returned NULL");
  if (kind == 0)
    p += off;
  else if (kind == 1)
    p = KADDR(KERNEL_PHYS + off % image * PGSIZE);
  else
    p = KADDR(off % (LOWMEM_TOP / PGSIZE) * PGSIZE);
  printf("kfree_bad: freeing %p (%s)\n", p, kinds[kind]);
  kfree(p);
  printf("kfree_bad: kfree took it\n");
}
SELFTEST(kfree_bad, kfree_bad_test);

// Take n pages and give them back (the use-after-free tests' freed pages,
// at the head of the list, the last one freed first).
static void
take_and_free(uint8 **pages, uint64 n, const char *test)
{
  for (uint64 i = 0; i < n; i++)
    if ((pages[i] = kalloc()) == NULL)
      panic("%s: kalloc returned NULL", test);
  for (uint64 i = 0; i < n; i++)
    kfree(pages[i]);
}

// With memdebug: take pages, give them back, write one byte of one freed
// page (the seed says where and what), then take pages until that one
// comes back: kalloc must panic.
__attribute__((noinline)) void
kalloc_uaf_test(void)
{
  uint64 x = selftest_seed();
  uint64 n = 1 + seed_next(&x) % 8;
  uint8 *pages[8];

  if (!kalloc_debug())
    panic("kalloc_uaf: run it with the memdebug option");
  take_and_free(pages, n, "kalloc_uaf");
  uint8 *victim = pages[seed_next(&x) % n];
  uint64 at = 8 + seed_next(&x) % (PGSIZE - 8);
  uint8 value = KALLOC_POISON + 1 + seed_next(&x) % 200;
  printf("kalloc_uaf: writing 0x%x to byte %lu of freed page %p\n", value, at, victim);
  victim[at] = value;
  for (uint64 i = 0; i < n; i++)
    kalloc();
  printf("kalloc_uaf: the write went unnoticed\n");
}
SELFTEST(kalloc_uaf, kalloc_uaf_test);

// Without memdebug: take pages, give them back, and write 8 seeded bytes
// over one freed page's link (its first 8 bytes): a page still in use, a
// kernel-image address, a free page's address plus 8, or garbage. Then
// take pages until kalloc comes to that one: it must panic naming it.
__attribute__((noinline)) void
kalloc_link_test(void)
{
  uint64 x = selftest_seed();
  uint64 n = 1 + seed_next(&x) % 8;
  uint8 *pages[8], *inuse = kalloc();

  take_and_free(pages, n, "kalloc_link");
  uint8 *victim = pages[seed_next(&x) % n];
  uint64 image = KERNBASE + KERNEL_PHYS + seed_next(&x) % (1 << 20) / PGSIZE * PGSIZE;
  uint64 links[] = { (uint64)inuse, image, (uint64)pages[0] + 8, seed_next(&x) | 1 };
  uint64 link = links[seed_next(&x) % 4];
  uint64 poisoned = 1;
  for (uint64 i = sizeof(uint64); i < PGSIZE; i++)
    poisoned &= victim[i] == KALLOC_POISON;
  printf("kalloc_link: freed page %p is poison past its link: %s\n", victim,
         poisoned ? "yes" : "no");
  printf("kalloc_link: writing %p over the link of freed page %p\n", (void *)link, victim);
  *(uint64 *)victim = link;
  for (uint64 i = 0; i < n; i++)
    kalloc();
  printf("kalloc_link: the write went unnoticed\n");
}
SELFTEST(kalloc_link, kalloc_link_test);

//// The heap ///////////////////////////////////////////////////////////////////

static struct {
  uint8 *p;
  uint64 size;
  uint8 fill;
} live[HEAP_LIVE];

// Panic unless object i still holds its fill.
static void
heap_verify(int i)
{
  for (uint64 b = 0; b < live[i].size; b++)
    if (live[i].p[b] != live[i].fill)
      panic("kmalloc test: object %p (size %lu) was overwritten at byte %lu",
            live[i].p, live[i].size, b);
}

static void
heap_free(int i)
{
  heap_verify(i);
  kmfree(live[i].p);
  live[i].p = NULL;
}

// A request size: mostly small, sometimes up to a page.
static uint64
heap_size(uint64 *x)
{
  uint64 r = seed_next(x);
  return r % 8 == 0 ? 1 + seed_next(x) % PGSIZE : 1 + seed_next(x) % (r % 2 ? 64 : KMALLOC_MAX);
}

// One round: HEAP_OPS allocations of seeded sizes into seeded slots; an
// object already in the slot is checked and freed first. Then all freed.
static void
heap_round(uint64 seed)
{
  uint64 x = seed;

  for (int op = 0; op < HEAP_OPS; op++) {
    int i = seed_next(&x) % HEAP_LIVE;
    if (live[i].p)
      heap_free(i);
    live[i].size = heap_size(&x);
    live[i].fill = seed_next(&x);
    if ((live[i].p = kmalloc(live[i].size)) == NULL)
      panic("kmalloc test: kmalloc(%lu) returned NULL", live[i].size);
    if ((uint64)live[i].p % 16 != 0)
      panic("kmalloc test: kmalloc(%lu) returned %p, not 16-byte aligned",
            live[i].size, live[i].p);
    memset(live[i].p, live[i].fill, live[i].size);
  }
  for (int i = HEAP_LIVE - 1; i >= 0; i--)
    if (live[i].p)
      heap_free(i);
}

__attribute__((noinline)) void
kmalloc_test(void)
{
  uint64 x = selftest_seed();
  uint64 size = 1 + seed_next(&x) % KMALLOC_MAX;

  heap_round(x);
  uint64 pages = kmalloc_pages();
  heap_round(x);
  printf("kmalloc: %d allocations of seeded sizes, twice: heap pages %lu, then %lu\n",
         HEAP_OPS, pages, kmalloc_pages());
  void *p = kmalloc(size);
  kmfree(p);
  void *q = kmalloc(size);
  printf("kmalloc: kmalloc(%lu) after kmfree: %p then %p\n", size, p, q);
  kmfree(q);
  printf("kmalloc: done\n");
}
SELFTEST(kmalloc, kmalloc_test);

// kmfree of something it must refuse (the seed says which kind).
__attribute__((noinline)) void
kmfree_bad_test(void)
{
  uint64 x = selftest_seed();
  uint64 kind = seed_next(&x) % 2, size = 16 + seed_next(&x) % (KMALLOC_MAX - 16);
  char *objs[4];

  for (int i = 0; i < 4; i++)
    objs[i] = kmalloc(size);
  char *p = objs[seed_next(&x) % 4];
  if (kind == 0) {
    for (int i = 0; i < 4; i++)
      kmfree(objs[i]);
    printf("kmfree_bad: freeing %p again (size %lu)\n", p, size);
  } else {
    p += 1 + seed_next(&x) % (size - 1);
    printf("kmfree_bad: freeing %p, inside an object (size %lu)\n", p, size);
  }
  kmfree(p);
  printf("kmfree_bad: kmfree took it\n");
}
SELFTEST(kmfree_bad, kmfree_bad_test);

// With memdebug: write to a freed object, then allocate it again.
__attribute__((noinline)) void
kmalloc_uaf_test(void)
{
  uint64 x = selftest_seed();
  uint64 size = 16 + seed_next(&x) % (KMALLOC_MAX - 16);
  uint8 *p = kmalloc(size);
  uint64 at = 8 + seed_next(&x) % (size - 8);

  if (!kalloc_debug())
    panic("kmalloc_uaf: run it with the memdebug option");
  kmfree(p);
  printf("kmalloc_uaf: writing byte %lu of freed object %p (size %lu)\n", at, p, size);
  p[at] = KMALLOC_POISON ^ 0xff;
  kmalloc(size);
  printf("kmalloc_uaf: the write went unnoticed\n");
}
SELFTEST(kmalloc_uaf, kmalloc_uaf_test);

//// Page tables ////////////////////////////////////////////////////////////////

// Map a fresh page at a seeded address in the lower half, use it through
// both addresses, unmap it; then a 2 MiB page of low memory, read-only.
// Both are NX only where vm_init turned NX on: without EFER.NXE, PTE_NX is
// a reserved bit, and the first access through it faults.
__attribute__((noinline)) void
vm_map_test(void)
{
  uint64 x = selftest_seed(), pgsize;
  uint64 nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
  pte_t *pml4 = vm_kernel_pml4();
  uint64 va = (1 + seed_next(&x) % (PGSIZE_1G / PGSIZE - 1)) * PGSIZE;
  uint64 big = (1 + seed_next(&x) % 1024) * PGSIZE_2M + PGSIZE_1G;
  uint64 *page = kalloc(), *at = (uint64 *)va;

  if (pml4 == NULL || page == NULL)
    panic("vm_map test: no kernel page table, or no page");
  if (vm_lookup(pml4, va, &pgsize) != NULL)
    panic("vm_map test: %p is mapped before vm_map", (void *)va);
  if (vm_map(pml4, va, PADDR(page), PGSIZE, PTE_W | nx, PGSIZE) < 0)
    panic("vm_map test: vm_map failed");
  page[7] = x;
  at[9] = ~x;
  pte_t *pte = vm_lookup(pml4, va, &pgsize);
  printf("vm_map: %p -> %p: read %s, write %s, pte %p, page 0x%lx\n", (void *)va,
         (void *)PADDR(page), at[7] == x ? "ok" : "wrong", page[9] == ~x ? "ok" : "wrong",
         pte ? (void *)*pte : NULL, pgsize);
  // The entries on the way down point to tables: PTE_P | PTE_W | PTE_U.
  printf("vm_map: tables above it: pml4e %p pdpte %p pde %p\n",
         (void *)*vm_walk(pml4, va, 4, 0), (void *)*vm_walk(pml4, va, 3, 0),
         (void *)*vm_walk(pml4, va, 2, 0));
  vm_unmap(pml4, va, PGSIZE);
  printf("vm_map: after vm_unmap: %s\n", vm_lookup(pml4, va, &pgsize) ? "mapped" : "not mapped");
  kfree(page);
  if (vm_map(pml4, big, 0, PGSIZE_2M, nx, PGSIZE_2M) < 0)
    panic("vm_map test: vm_map of a 2 MiB page failed");
  pte = vm_lookup(pml4, big + va % PGSIZE_2M, &pgsize);
  printf("vm_map: %p -> 0x0 (2 MiB): pte %p, page 0x%lx, e820 count %s\n", (void *)big,
         pte ? (void *)*pte : NULL, pgsize,
         *(uint32 *)(big + E820_MAP) == *(uint32 *)KADDR(E820_MAP) ? "ok" : "wrong");
  // A 4 KiB page inside the 2 MiB one: vm_walk finds the large page in
  // the way (not a table to walk into), and vm_map says -1.
  uint64 inside = big + (seed_next(&x) % 512) * PGSIZE;
  printf("vm_map: a 4 KiB page at %p, inside the 2 MiB one: %d\n", (void *)inside,
         vm_map(pml4, inside, 0, PGSIZE, nx, PGSIZE));
  vm_unmap(pml4, big, PGSIZE_2M);
  printf("vm_map: done\n");
  // Mapping a page twice is a kernel bug: vm_map panics.
  if (vm_map(pml4, va, 0, PGSIZE, nx, PGSIZE) < 0)
    panic("vm_map test: vm_map failed");
  printf("vm_map: mapping %p again\n", (void *)va);
  vm_map(pml4, va, PGSIZE, PGSIZE, nx, PGSIZE);
  printf("vm_map: the second mapping went through\n");
}
SELFTEST(vm_map, vm_map_test);

//// Cycles //////////////////////////////////////////////////////////////////////

// Cycles per kalloc+kfree pair (kfree poisons the page) and per kmalloc+
// kmfree pair of a small object, from the time-stamp counter. For the
// record, not for grading: figures are quoted from benchmarks.
__attribute__((noinline)) void
kalloc_bench_test(void)
{
  uint64 t0 = rdtsc();
  for (int i = 0; i < BENCH_ROUNDS; i++)
    kfree(kalloc());
  uint64 t1 = rdtsc();
  for (int i = 0; i < BENCH_ROUNDS; i++)
    kmfree(kmalloc(32));
  uint64 t2 = rdtsc();
  printf("kalloc_bench: %lu cycles per kalloc+kfree, %lu per kmalloc(32)+kmfree (%d pairs)\n",
         (t1 - t0) / BENCH_ROUNDS, (t2 - t1) / BENCH_ROUNDS, BENCH_ROUNDS);
}
SELFTEST(kalloc_bench, kalloc_bench_test);
