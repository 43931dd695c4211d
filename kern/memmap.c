// Physical memory: which pages the kernel may use, from the e820 map; and
// the order in which the memory subsystem starts (mem_init).
//
// The BIOS's map (e820.c) lists ranges in any order; they may overlap,
// repeat, or have length zero, and RAM may sit anywhere, above 4 GiB too.
// memmap_clean() turns such a map into a short sorted list of disjoint,
// page-aligned ranges that kalloc may hand out:
//
//   1. drop the empty entries (e820_ranges gives only the valid ones);
//   2. sort them by base; merge overlapping and adjacent usable entries
//      into one list, everything else (reserved, ACPI, bad) into another;
//   3. take away from the usable list every non-usable range (the map's
//      word that memory is reserved wins over its word that it is usable),
//      all of low memory (below LOWMEM_TOP: the first page, the BIOS's
//      data and areas, the e820 map and the boot loader), and the kernel
//      image, KERNEL_PHYS .. end (the boot stack and the boot page tables
//      are inside it);
//   4. shrink each range to whole pages and cut off what lies beyond the
//      direct map (DIRECTMAP_SIZE, memlayout.h), saying so.
//
// It works on whatever map it is given and keeps nothing (the self-test
// e820_clean gives it a shuffled, split, overlapping copy of the BIOS's
// map, which must come out the same). memmap_init() cleans the BIOS's map
// and keeps the result, the list kalloc takes its pages from, and prints
// it ("memmap: [mem ...] usable"). A machine with less than MEM_MIN_PAGES
// of it gets a panic that says so, not a hang later. The page tables
// kalloc's pages go into are made from those pages, so they are never
// handed out twice; memmap_steal() takes pages off the list for a table
// that kalloc itself needs (its map of free pages).

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"

extern char end[];                  // kernel.ld: the first byte after the kernel

static struct e820_range bios[E820_MAX];    // the BIOS's map, as e820_ranges gave it
static uint32 nbios;
static struct memrange usable[MEMMAP_MAX];  // the BIOS's map, cleaned: what kalloc may use
static uint32 nusable;

static uint64
round_up(uint64 x, uint64 to)
{
  return (x + to - 1) / to * to;
}

static uint64
round_down(uint64 x, uint64 to)
{
  return x / to * to;
}

// Insertion sort of map[0..n) by base: a map holds a few dozen entries.
static void
sort_map(struct e820_range *map, uint32 n)
{
  for (uint32 i = 1; i < n; i++) {
    struct e820_range e = map[i];
    uint32 j = i;
    for (; j > 0 && map[j - 1].base > e.base; j--)
      map[j] = map[j - 1];
    map[j] = e;
  }
}

// Append [base, end) to list (*n entries of at most MEMMAP_MAX, sorted by
// base), merging it with the last entry when they overlap or touch.
static void
append_merged(struct memrange *list, uint32 *n, uint64 base, uint64 end)
{
  if (*n > 0 && base <= list[*n - 1].end) {
    if (end > list[*n - 1].end)
      list[*n - 1].end = end;
    return;
  }
  if (*n == MEMMAP_MAX)
    panic("memmap: more than %d ranges", MEMMAP_MAX);
  list[*n].base = base;
  list[*n].end = end;
  (*n)++;
}

// Take [lo, hi) out of list (*n ranges), splitting a range that holds it.
static void
subtract(struct memrange *list, uint32 *n, uint64 lo, uint64 hi)
{
  for (uint32 i = 0; i < *n; i++) {
    struct memrange *r = &list[i];
    if (hi <= r->base || lo >= r->end)
      continue;
    if (lo > r->base && hi < r->end) {          // a hole in the middle: split
      if (*n == MEMMAP_MAX)
        panic("memmap: more than %d ranges", MEMMAP_MAX);
      memmove(r + 2, r + 1, (*n - i - 1) * sizeof(*r));
      r[1].base = hi;
      r[1].end = r->end;
      r->end = lo;
      (*n)++;
      i++;
    } else if (lo > r->base) {
      r->end = lo;
    } else {
      r->base = hi < r->end ? hi : r->end;
    }
  }
}

// Drop empty ranges from list (*n ranges).
static void
compact(struct memrange *list, uint32 *n)
{
  uint32 kept = 0;

  for (uint32 i = 0; i < *n; i++)
    if (list[i].base < list[i].end)
      list[kept++] = list[i];
  *n = kept;
}

// Step 4: whole pages only, and nothing beyond the direct map.
static void
trim(struct memrange *list, uint32 *n)
{
  for (uint32 i = 0; i < *n; i++) {
    struct memrange *r = &list[i];
    r->base = round_up(r->base, PGSIZE);
    r->end = round_down(r->end, PGSIZE);
    if (r->end > DIRECTMAP_SIZE && r->base < r->end) {
      uint64 from = r->base > DIRECTMAP_SIZE ? r->base : DIRECTMAP_SIZE;
      printf("memmap: [mem %p-%p] is beyond the direct map (%lu GiB): not used\n",
             (void *)from, (void *)(r->end - 1), (uint64)DIRECTMAP_SIZE / PGSIZE_1G);
      r->end = from;
    }
  }
  compact(list, n);
}

uint64
memmap_pages(void)
{
  uint64 pages = 0;

  for (uint32 i = 0; i < nusable; i++)
    pages += (usable[i].end - usable[i].base) / PGSIZE;
  return pages;
}

// Clean up the e820 ranges map[0..n), which this reorders, into the
// ranges kalloc may use (steps 1-4 at the top), written to out (room for
// MEMMAP_MAX); returns how many. Keeps nothing: the caller owns both.
uint32
memmap_clean(struct e820_range *map, uint32 n, struct memrange *out)
{
  static struct memrange reserved[MEMMAP_MAX];
  uint32 valid = 0, nout = 0, nres = 0;

  for (uint32 i = 0; i < n; i++)                // 1: no empty entries
    if (map[i].end > map[i].base)
      map[valid++] = map[i];
  sort_map(map, valid);                         // 2: sorted, merged
  for (uint32 i = 0; i < valid; i++) {
    if (map[i].usable)
      append_merged(out, &nout, map[i].base, map[i].end);
    else
      append_merged(reserved, &nres, map[i].base, map[i].end);
  }
  for (uint32 i = 0; i < nres; i++)             // 3: what the map reserves,
    subtract(out, &nout, reserved[i].base, reserved[i].end);
  subtract(out, &nout, 0, LOWMEM_TOP);          //    low memory,
  subtract(out, &nout, KERNEL_PHYS, (uint64)end - KERNBASE);    // the kernel
  compact(out, &nout);
  trim(out, &nout);                             // 4
  return nout;
}

// Clean up the BIOS's map into the ranges kalloc may use, and print them.
void
memmap_init(void)
{
  static struct e820_range map[E820_MAX];

  nbios = e820_ranges(bios, E820_MAX);
  memmove(map, bios, nbios * sizeof(bios[0]));
  nusable = memmap_clean(map, nbios, usable);
  for (uint32 i = 0; i < nusable; i++)
    printf("memmap: [mem %p-%p] usable\n", (void *)usable[i].base, (void *)(usable[i].end - 1));
  if (memmap_pages() < MEM_MIN_PAGES)
    panic("memmap: %lu KiB of usable memory beside the kernel; it needs at least %lu KiB "
          "(is MEM too small?)", memmap_pages() * PGSIZE / 1024,
          (uint64)MEM_MIN_PAGES * PGSIZE / 1024);
}

// The BIOS's map as memmap_init read it (e820_ranges: the valid entries,
// in the BIOS's order); *n is set to how many. A copy is kept because
// e820.c reads the map at P2V, which the kernel's page table leaves
// unmapped.
const struct e820_range *
memmap_bios(uint32 *n)
{
  *n = nbios;
  return bios;
}

// The usable ranges: sorted, disjoint, page-aligned. *n is set to how many.
const struct memrange *
memmap_usable(uint32 *n)
{
  *n = nusable;
  return usable;
}

// The end of the highest usable range: the direct map covers up to here.
uint64
memmap_top(void)
{
  return nusable ? usable[nusable - 1].end : 0;
}

// Take bytes (rounded up to pages) off the lowest range that has them
// within the boot page tables' reach (BOOTMAP_SIZE), for a table that must
// exist before kalloc does. Returns its physical address.
uint64
memmap_steal(uint64 bytes)
{
  bytes = round_up(bytes, PGSIZE);
  for (uint32 i = 0; i < nusable; i++) {
    struct memrange *r = &usable[i];
    if (r->end - r->base >= bytes && r->base + bytes <= BOOTMAP_SIZE) {
      uint64 pa = r->base;
      r->base += bytes;
      compact(usable, &nusable);
      return pa;
    }
  }
  panic("memmap_steal: no %lu bytes free below %p", bytes, (void *)BOOTMAP_SIZE);
}

// Start the memory subsystem, each step needing the one before: the map of
// usable memory; a window on low memory at DIRECTMAP_BASE; the allocator,
// with the pages in that window; the kernel's page table with the whole
// direct map; the rest of the pages. Then the line tests compare.
void
mem_init(void)
{
  memmap_init();
  vm_boot_window();
  kalloc_init(0, BOOTMAP_SIZE);
  if (vm_init() == 0)
    kalloc_init(BOOTMAP_SIZE, DIRECTMAP_SIZE);
  else if (memmap_top() > BOOTMAP_SIZE)
    printf("memmap: memory above %lu MiB is not used (no direct map)\n",
           (uint64)BOOTMAP_SIZE >> 20);
#if LAB >= 5
  kmalloc_init();
#endif
  printf("kalloc: %lu free pages\n", kalloc_nfree());
}
