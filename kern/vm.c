// Page tables: the kernel's own, built in C, and the functions that walk,
// map and unmap pages (lab 4 reuses them for user address spaces).
//
// x86-64 translates a virtual address through four levels of tables, each
// a page of 512 eight-byte entries; bits 47..12 of the address index them
// nine bits at a time (PX below). Levels are numbered from the bottom: a
// level-1 entry maps a 4 KiB page; a level-2 or level-3 entry either points
// to the table below it or, with PTE_PS, maps a 2 MiB or 1 GiB page
// itself. An entry holds a physical address (PTE_ADDR) and permission
// bits (mmu.h); the tables themselves are pages from kalloc, which this
// code reads and writes through the direct map (KADDR).
//
// The interface:
//   vm_walk(pml4, va, level, alloc)  the level-`level` entry for va,
//                                    making missing tables if alloc
//   vm_map(pml4, va, pa, size, perm, pgsize)  map a range with one page size
//   vm_lookup(pml4, va, &pgsize)     the entry that maps va, and its page size
//   vm_unmap(pml4, va, size)         remove a range's mappings
//   kvm_map(va, pa, size, perm)      map 4 KiB pages into the kernel's half
// A table entry that points to a lower table is PTE_P | PTE_W | PTE_U:
// the leaf entry alone decides what a page allows (the CPU combines the
// levels: writable only if every level says so, user only if every level
// says so, executable only if no level says PTE_NX).
//
// The kernel's page table (vm_init, once per boot; vm_init_cpu turns on,
// on each CPU, the features it uses and switches to it), replacing
// entry.S's boot tables:
//   - the kernel image at KERNBASE, section by section with 4 KiB pages:
//     text R-X, read-only data R-- NX, data and bss RW- NX, the boot stack
//     RW- NX, and its guard page below it not mapped at all;
//   - the direct map: physical 0 .. the top of usable memory, rounded up
//     to a whole page of the direct map's size, at DIRECTMAP_BASE, RW- NX,
//     with 1 GiB pages where CPUID offers them, else (or with the option
//     directmap=2m) 2 MiB pages. It maps whatever lies below that top,
//     holes too (the PCI hole below 4 GiB, reserved ranges), and the
//     boot line says how much it maps;
//   - nothing else: no identity map, so virtual page 0 is unmapped and a
//     NULL dereference faults.
// Every kernel entry is global (PTE_G, with CR4.PGE): lab 4's switches
// between address spaces will keep them in the TLB. NX is used only if
// CPUID says the CPU has it (EFER.NXE on; else PTE_NX would be a reserved
// bit, and every access through it a fault); SMEP and SMAP are turned on
// where the CPU has them (nested KVM hosts often lack them, and 1 GiB
// pages).
//
// If the new table cannot be built (kalloc has no page, vm_map fails) or
// does not map the running code and stack where they are, the kernel says
// so, gives its pages back and stays on the boot page tables; lab 2's
// handout boots that way.
//
// Lab 2 exercises: vm_walk and vm_map.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "defs.h"
#if LAB >= 5
#include "spinlock.h"
#endif

// The index of va in its level-`level` table.
#define PX(level, va) (((uint64)(va) >> (PGSHIFT + PXBITS * ((level) - 1))) & (NPTENTRIES - 1))
#define PTE_TABLE (PTE_P | PTE_W | PTE_U)  // an entry that points to a lower table

CMDLINE_OPTION(directmap, "2m: build the direct map from 2 MiB pages even if the CPU has 1 GiB pages");

extern char text_start[], etext[], rodata_start[], data_start[], end[];   // kernel.ld
extern char boot_stack[], boot_stack_top[];                              // kernel.ld

static pte_t *kernel_pml4;      // the kernel's page table, once in use
#if LAB >= 5
static struct spinlock kvm_lock;  // taken to add to it: see kvm_map
#endif

struct features {
  int nx;                       // PTE_NX exists
  int page1g;                   // 1 GiB pages exist
  int smep, smap;
};

// The size of the page a level-`level` leaf entry maps.
static uint64
level_size(int level)
{
  return 1ull << (PGSHIFT + PXBITS * (level - 1));
}

// The level whose leaf entries map pages of pgsize bytes; 0 if none does.
static int
page_level(uint64 pgsize)
{
  for (int level = 1; level < PTLEVELS; level++)
    if (level_size(level) == pgsize)
      return level;
  return 0;
}

//// Walking and mapping ///////////////////////////////////////////////////////

// The address of the level-`level` entry (1 to PTLEVELS) that va goes
// through in the table pml4. A table missing on the way is made (a zeroed
// page from kalloc, entered as PTE_TABLE) if alloc, else the answer is
// NULL; NULL too if kalloc has no page, or if an entry on the way maps a
// large page (PTE_PS) instead of pointing to a table.
pte_t *
vm_walk(pte_t *pml4, uint64 va, int level, int alloc)
{
#if SOL >= 2
  pte_t *table = pml4;

  for (int l = PTLEVELS; l > level; l--) {
    pte_t *pte = &table[PX(l, va)];
    if (*pte & PTE_P) {
      if (*pte & PTE_PS)
        return NULL;
    } else {
      void *page = alloc ? kalloc() : NULL;
      if (page == NULL)
        return NULL;
      memset(page, 0, PGSIZE);
      *pte = PADDR(page) | PTE_TABLE;
    }
    table = KADDR(*pte & PTE_ADDR);
  }
  return &table[PX(level, va)];
#else
  // LAB 2: start at pml4 (level PTLEVELS); at each level above `level`,
  // take the entry PX(l, va). If it is present, go down to the table it
  // points to (KADDR of its PTE_ADDR bits), unless it maps a large page
  // (PTE_PS): then return NULL. If it is not present, return NULL unless
  // alloc; then kalloc a page, zero it, and enter it as PADDR(page) |
  // PTE_TABLE. At `level`, return the entry's address.
  (void)pml4;
  (void)va;
  (void)level;
  (void)alloc;
  return NULL;
#endif
}

// Map [va, va + size) to physical [pa, pa + size) with pages of pgsize
// bytes (PGSIZE, PGSIZE_2M or PGSIZE_1G), each entry pa | perm | PTE_P
// (and PTE_PS for a large page). Returns 0, or -1 where vm_walk finds no
// entry of pgsize's level: kalloc had no page for a table, or a larger
// page already maps that address. Panics on a pgsize that is none of the
// three, on a va, pa or size that is not a multiple of it (the range must
// be whole pages of pgsize), and on an entry to fill that is present
// already (a page of that size, or a table of smaller pages).
int
vm_map(pte_t *pml4, uint64 va, uint64 pa, uint64 size, uint64 perm, uint64 pgsize)
{
#if SOL >= 2
  int level = page_level(pgsize);

  if (level == 0 || (va | pa | size) % pgsize != 0)
    panic("vm_map: %p -> %p, 0x%lx bytes: not in whole pages of 0x%lx",
          (void *)va, (void *)pa, size, pgsize);
  for (uint64 off = 0; off < size; off += pgsize) {
    pte_t *pte = vm_walk(pml4, va + off, level, 1);
    if (pte == NULL)
      return -1;
    if (*pte & PTE_P)
      panic("vm_map: %p is mapped already", (void *)(va + off));
    *pte = (pa + off) | perm | PTE_P | (level > 1 ? PTE_PS : 0);
  }
  return 0;
#else
  // LAB 2: check the arguments: panic unless page_level(pgsize), the
  // level of the entries to fill, is not 0 (a size no level maps) and
  // va, pa and size are whole pages of pgsize. Then for each page of the
  // range, vm_walk (with alloc) to its entry at that level: return -1 if
  // there is none (no page for a table, or a larger page in the way),
  // panic("vm_map: %p is mapped already", that page's va) if it is
  // present, else fill it in as the comment above says.
  (void)pml4;
  (void)va;
  (void)pa;
  (void)size;
  (void)perm;
  (void)pgsize;
  (void)page_level;
  return -1;
#endif
}

// The leaf entry that maps va in pml4, with the size of its page in
// *pgsize; NULL if va is not mapped.
pte_t *
vm_lookup(pte_t *pml4, uint64 va, uint64 *pgsize)
{
  for (int level = PTLEVELS - 1; level >= 1; level--) {
    pte_t *pte = vm_walk(pml4, va, level, 0);
    if (pte == NULL || !(*pte & PTE_P))
      return NULL;
    if (level == 1 || (*pte & PTE_PS)) {
      *pgsize = level_size(level);
      return pte;
    }
  }
  return NULL;
}

// Remove the mappings of [va, va + size), which must be mapped, in whole
// pages of whatever size maps them. The tables stay, and so do the pages
// (their owner frees them).
void
vm_unmap(pte_t *pml4, uint64 va, uint64 size)
{
  uint64 pgsize;

  for (uint64 end = va + size; va < end; va += pgsize) {
    pte_t *pte = vm_lookup(pml4, va, &pgsize);
    if (pte == NULL)
      panic("vm_unmap: %p is not mapped", (void *)va);
    if (va % pgsize != 0 || end - va < pgsize)
      panic("vm_unmap: %p is inside a page of 0x%lx bytes", (void *)va, pgsize);
    *pte = 0;
    invlpg((void *)va);
  }
}

//// The kernel's page table ///////////////////////////////////////////////////

// Let the boot page tables show physical 0 .. BOOTMAP_SIZE at
// DIRECTMAP_BASE too, by pointing the boot PML4's direct-map entry at the
// table its identity map uses: kalloc's pages there are reachable at their
// KADDR before vm_init builds the real direct map.
void
vm_boot_window(void)
{
  pte_t *boot_pml4 = P2V(rcr3() & PTE_ADDR);

  boot_pml4[PX(PTLEVELS, DIRECTMAP_BASE)] = boot_pml4[0];
  lcr3(rcr3());
}

static struct features
cpu_features(void)
{
  struct features f = { 0, 0, 0, 0 };
  uint32 a, b, c, d;

  cpuid(CPUID_EXTMAX, 0, &a, &b, &c, &d);
  if (a >= CPUID_EXTFEAT) {
    cpuid(CPUID_EXTFEAT, 0, &a, &b, &c, &d);
    f.nx = (d & CPUID_EDX_NX) != 0;
    f.page1g = (d & CPUID_EDX_1G) != 0;
  }
  cpuid(CPUID_MAXLEAF, 0, &a, &b, &c, &d);
  if (a >= CPUID_STRUCTFEAT) {
    cpuid(CPUID_STRUCTFEAT, 0, &a, &b, &c, &d);
    f.smep = (b & CPUID_EBX_SMEP) != 0;
    f.smap = (b & CPUID_EBX_SMAP) != 0;
  }
  return f;
}

// Map the kernel image's [start, stop) at its KERNBASE address with perm.
static int
map_image(pte_t *pml4, void *start, void *stop, uint64 perm)
{
  uint64 va = (uint64)start & ~(uint64)(PGSIZE - 1);
  uint64 size = ((uint64)stop - va + PGSIZE - 1) & ~(uint64)(PGSIZE - 1);

  return vm_map(pml4, va, va - KERNBASE, size, perm | PTE_G, PGSIZE);
}

// The bytes the direct map covers with pages of dmpage: physical 0 to the
// top of usable memory rounded up to a whole page, at most DIRECTMAP_SIZE.
static uint64
directmap_size(uint64 dmpage)
{
  uint64 size = (memmap_top() + dmpage - 1) / dmpage * dmpage;

  return size < DIRECTMAP_SIZE ? size : DIRECTMAP_SIZE;
}

// Fill pml4 as the top of this file says; 0, or -1 if vm_map failed.
static int
map_kernel(pte_t *pml4, uint64 nx, uint64 dmpage)
{
  if (map_image(pml4, boot_stack, boot_stack_top, PTE_W | nx) < 0 ||
      map_image(pml4, text_start, etext, 0) < 0 ||
      map_image(pml4, rodata_start, data_start, nx) < 0 ||
      map_image(pml4, data_start, end, PTE_W | nx) < 0)
    return -1;
  return vm_map(pml4, DIRECTMAP_BASE, 0, directmap_size(dmpage), PTE_W | PTE_G | nx, dmpage);
}

// Does pml4 map va to physical pa?
static int
maps(pte_t *pml4, uint64 va, uint64 pa)
{
  uint64 pgsize;
  pte_t *pte = vm_lookup(pml4, va, &pgsize);

  return pte != NULL && (*pte & PTE_ADDR) + va % pgsize == pa;
}

// Why pml4 can't be switched to (it must map this code, this stack and
// the direct map where they are now), or NULL.
static const char *
unusable(pte_t *pml4)
{
  uint64 here = (uint64)unusable, sp = rrsp();

  if (!maps(pml4, here, here - KERNBASE) || !maps(pml4, sp, sp - KERNBASE))
    return "it does not map the kernel image where it is";
  if (!maps(pml4, (uint64)pml4, PADDR(pml4)))
    return "it does not map the direct map";
  return NULL;
}

// Give back to kalloc the table page `table`, of level `level`, and every
// table below it (not the pages its leaf entries map: they are not its).
static void
free_tables(pte_t *table, int level)
{
  for (int i = 0; level > 1 && i < NPTENTRIES; i++)
    if ((table[i] & PTE_P) && !(table[i] & PTE_PS))
      free_tables(KADDR(table[i] & PTE_ADDR), level - 1);
  kfree(table);
}

// Build the kernel's page table and switch to it; 0, or -1 (with a line
// saying why) if the kernel stays on the boot page tables.
int
vm_init(void)
{
  struct features f = cpu_features();
  const char *opt = cmdline_get("directmap");
  int use1g = f.page1g && !(opt && strcmp(opt, "2m") == 0);
  uint64 nx = f.nx ? PTE_NX : 0, dmpage = use1g ? PGSIZE_1G : PGSIZE_2M;
  pte_t *pml4 = kalloc();
  const char *why;

  if (pml4 == NULL) {
    why = "kalloc returned no page";
  } else {
    memset(pml4, 0, PGSIZE);
    why = map_kernel(pml4, nx, dmpage) < 0 ? "vm_map failed" : unusable(pml4);
  }
  if (why) {
    printf("vm: no kernel page table (%s): staying on the boot page tables\n", why);
    if (pml4)
      free_tables(pml4, PTLEVELS);    // what was built: not to be lost to kalloc
    return -1;
  }
  kernel_pml4 = pml4;
#if LAB >= 5
  initlock(&kvm_lock, "kvm");
#endif
  vm_init_cpu();
  printf("vm: kernel page table at %p; direct map of %lu MiB in %s pages; NX %s, SMEP %s, SMAP %s\n",
         (void *)PADDR(pml4), directmap_size(dmpage) >> 20, use1g ? "1 GiB" : "2 MiB",
         f.nx ? "on" : "absent", f.smep ? "on" : "absent", f.smap ? "on" : "absent");
  return 0;
}

// On each CPU, once vm_init has built the kernel's page table: turn on
// what it relies on (NX for PTE_NX, global pages, SMEP and SMAP where the
// CPU has them; each CPU has its own EFER and CR4) and switch to it. A
// CPU that lab 5 starts later runs this part only.
void
vm_init_cpu(void)
{
  struct features f = cpu_features();

  if (f.nx)
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
  lcr4(rcr4() | CR4_PGE | (f.smep ? CR4_SMEP : 0) | (f.smap ? CR4_SMAP : 0));
  lcr3(PADDR(kernel_pml4));
}

// The kernel's page table; NULL while the boot page tables are in use.
pte_t *
vm_kernel_pml4(void)
{
  return kernel_pml4;
}

// The kernel's half is one set of tables that every page table shares
// (uvm_create copies its top-level entries) and every CPU uses at once,
// so a mapping added to it takes the kernel page table's lock (lab 5):
// two CPUs adding a table at the same place would each see it missing,
// and one table, with what was mapped through it, would be lost.
// Map [va, va + size) to pa in the kernel's half, 4 KiB pages, global:
// what the kernel maps after boot (IST stacks, kernel stacks, the local
// APIC's and I/O APIC's registers). 0, or -1 if vm_map fails.
int
kvm_map(uint64 va, uint64 pa, uint64 size, uint64 perm)
{
  int r;

  if (kernel_pml4 == NULL)
    panic("kvm_map: %p: the kernel page table is not in use yet", (void *)va);
#if LAB >= 5
  acquire(&kvm_lock);
#endif
  r = vm_map(kernel_pml4, va, pa, size, perm | PTE_G, PGSIZE);
#if LAB >= 5
  release(&kvm_lock);
#endif
  return r;
}
