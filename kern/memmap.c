// Physical memory: which pages the kernel may use, from the e820 map; and
// the order in which the memory subsystem starts (mem_init).
//
// The BIOS's map (e820.c) lists ranges in any order; they may overlap,
// repeat, or have length zero, and RAM may sit anywhere, above 4 GiB too.
// memmap_init() turns it into a short sorted list of disjoint, page-aligned
// ranges that kalloc may hand out:
//
//   1. copy the valid entries, dropping empty ones;
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
// The result is printed ("memmap: [mem ...] usable"). A machine with less
// than MEM_MIN_PAGES of it gets a panic that says so, not a hang later.
// The page tables kalloc's pages go into are made from those pages, so
// they are never handed out twice; memmap_steal() takes pages off the list
// for a table that kalloc itself needs (its map of free pages).
//
// Test hook: e820test=SEED perturbs the BIOS's map before step 1 (splits,
// duplicates, overlapping copies, empty entries, a shuffle, and one usable
// range beyond the direct map), in a way that leaves its meaning alone:
// the cleaned list must come out the same as without the option.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"

#define MEMMAP_MAX      (4 * E820_MAX + 8)  // entries, with e820test's extras

extern char end[];                  // kernel.ld: the first byte after the kernel

CMDLINE_OPTION(e820test, "a seed: feed the kernel a shuffled, split, overlapping copy of the e820 map");

static struct e820_range map[MEMMAP_MAX];   // steps 1-2: the copy
static uint32 nmap;
static struct memrange usable[MEMMAP_MAX];  // steps 2-4: what kalloc may use
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

// Insertion sort by base: the map holds a few dozen entries.
static void
sort_map(void)
{
  for (uint32 i = 1; i < nmap; i++) {
    struct e820_range e = map[i];
    uint32 j = i;
    for (; j > 0 && map[j - 1].base > e.base; j--)
      map[j] = map[j - 1];
    map[j] = e;
  }
}

// Append [base, end) to list (n entries, sorted by base), merging it with
// the last entry when they overlap or touch.
static void
append_merged(struct memrange *list, uint32 *n, uint64 base, uint64 end)
{
  if (*n > 0 && base <= list[*n - 1].end) {
    if (end > list[*n - 1].end)
      list[*n - 1].end = end;
    return;
  }
  list[*n].base = base;
  list[*n].end = end;
  (*n)++;
}

// Take [lo, hi) out of usable[], splitting a range that holds it.
static void
subtract(uint64 lo, uint64 hi)
{
  for (uint32 i = 0; i < nusable; i++) {
    struct memrange *r = &usable[i];
    if (hi <= r->base || lo >= r->end)
      continue;
    if (lo > r->base && hi < r->end) {          // a hole in the middle: split
      if (nusable == MEMMAP_MAX)
        panic("memmap: more than %d ranges", MEMMAP_MAX);
      memmove(r + 2, r + 1, (nusable - i - 1) * sizeof(*r));
      r[1].base = hi;
      r[1].end = r->end;
      r->end = lo;
      nusable++;
      i++;
    } else if (lo > r->base) {
      r->end = lo;
    } else {
      r->base = hi < r->end ? hi : r->end;
    }
  }
}

// Drop empty ranges from usable[].
static void
compact(void)
{
  uint32 n = 0;

  for (uint32 i = 0; i < nusable; i++)
    if (usable[i].base < usable[i].end)
      usable[n++] = usable[i];
  nusable = n;
}

// e820test=SEED: replace the map by a copy that means the same.
static void
perturb(uint64 seed)
{
  static struct e820_range out[MEMMAP_MAX];
  uint64 x = seed;
  uint32 n = 0;

  for (uint32 i = 0; i < nmap && n + 4 < MEMMAP_MAX; i++) {
    struct e820_range e = map[i];
    uint64 len = e.end - e.base;
    uint64 cut = e.base + (len > 1 ? seed_next(&x) % len : 0);
    switch (seed_next(&x) % 4) {
    case 0:                                     // as it is
      out[n++] = e;
      break;
    case 1:                                     // split in two
      out[n] = e, out[n++].end = cut;
      out[n] = e, out[n++].base = cut;
      break;
    case 2:                                     // twice
      out[n++] = e;
      out[n++] = e;
      break;
    default:                                    // and an overlapping piece
      out[n++] = e;
      out[n] = e, out[n++].base = cut;
      break;
    }
    if (seed_next(&x) % 2)                      // an empty entry of any type
      out[n++] = (struct e820_range){ cut, cut, (int)(seed_next(&x) % 2) };
  }
  // Usable RAM beyond the direct map: it must be reported and left alone.
  uint64 far = DIRECTMAP_SIZE + (seed_next(&x) % 64) * PGSIZE_1G;
  out[n++] = (struct e820_range){ far, far + (1 + seed_next(&x) % 4) * PGSIZE_1G, 1 };
  for (uint32 i = n - 1; i > 0; i--) {          // Fisher-Yates shuffle
    uint32 j = seed_next(&x) % (i + 1);
    struct e820_range t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  printf("e820test: seed %lu: %u entries in place of %u\n", seed, n, nmap);
  memmove(map, out, n * sizeof(out[0]));
  nmap = n;
}

// Steps 1 and 2: the valid entries, sorted; the usable ones merged into
// usable[], the others into reserved (returned, with their count in *nres).
static struct memrange *
read_map(uint32 *nres)
{
  static struct memrange reserved[MEMMAP_MAX];
  uint32 n = 0;

  nmap = e820_ranges(map, E820_MAX);
  if (cmdline_get("e820test"))
    perturb(cmdline_uint("e820test"));
  for (uint32 i = 0; i < nmap; i++)
    if (map[i].end > map[i].base)
      map[n++] = map[i];
  nmap = n;
  sort_map();
  *nres = nusable = 0;
  for (uint32 i = 0; i < nmap; i++) {
    if (map[i].usable)
      append_merged(usable, &nusable, map[i].base, map[i].end);
    else
      append_merged(reserved, nres, map[i].base, map[i].end);
  }
  return reserved;
}

// Step 4: whole pages only, and nothing beyond the direct map.
static void
trim(void)
{
  for (uint32 i = 0; i < nusable; i++) {
    struct memrange *r = &usable[i];
    r->base = round_up(r->base, PGSIZE);
    r->end = round_down(r->end, PGSIZE);
    if (r->end > DIRECTMAP_SIZE && r->base < r->end) {
      uint64 from = r->base > DIRECTMAP_SIZE ? r->base : DIRECTMAP_SIZE;
      printf("memmap: [mem %p-%p] is beyond the direct map (%lu GiB): not used\n",
             (void *)from, (void *)(r->end - 1), (uint64)DIRECTMAP_SIZE / PGSIZE_1G);
      r->end = from;
    }
  }
  compact();
}

uint64
memmap_pages(void)
{
  uint64 pages = 0;

  for (uint32 i = 0; i < nusable; i++)
    pages += (usable[i].end - usable[i].base) / PGSIZE;
  return pages;
}

// Clean up the e820 map into the ranges kalloc may use (see the top).
void
memmap_init(void)
{
  uint32 nres;
  struct memrange *reserved = read_map(&nres);

  for (uint32 i = 0; i < nres; i++)
    subtract(reserved[i].base, reserved[i].end);
  subtract(0, LOWMEM_TOP);
  subtract(KERNEL_PHYS, (uint64)end - KERNBASE);
  compact();
  trim();
  for (uint32 i = 0; i < nusable; i++)
    printf("memmap: [mem %p-%p] usable\n", (void *)usable[i].base, (void *)(usable[i].end - 1));
  if (memmap_pages() < MEM_MIN_PAGES)
    panic("memmap: %lu KiB of usable memory beside the kernel; it needs at least %lu KiB "
          "(is MEM too small?)", memmap_pages() * PGSIZE / 1024,
          (uint64)MEM_MIN_PAGES * PGSIZE / 1024);
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
      compact();
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
  printf("kalloc: %lu free pages\n", kalloc_nfree());
}
