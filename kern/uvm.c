// User address spaces: making, growing, copying and freeing the lower
// half of a process's page table, and the only routines that touch user
// memory from the kernel (copyin, copyout, copyinstr).
//
// A process's page table is a PML4 of its own. Its entries 0..255 map the
// user half (memlayout.h draws it) through tables and pages owned by this
// process alone; entries 256..511 are copies of the kernel's, so every
// process shares the kernel's tables below them and sees the kernel
// mapped the same way (never with PTE_U: user code cannot touch it).
//
// User pages are 4 KiB pages from kalloc, zeroed before they are mapped,
// each entry PTE_U plus what the page needs: PTE_W for data, heap and
// stack, and PTE_NX on everything but text (where the CPU has NX).
//
// The kernel never trusts a user pointer. Every system call argument that
// is a pointer goes through uvm_check(): the whole range must lie below
// USERTOP, and every page of it must be mapped, user, and writable if the
// kernel is to write there. Only then do copyin/copyout touch it, through
// the user's own addresses (the process's page table is the one loaded),
// between stac and clac: with SMAP on, the kernel faults on any other
// access to a user page, so a forgotten check shows at once.
//
// Lab 4 exercises: uvm_check and copy_page (uvm_copy's step).

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "defs.h"

#define KERNEL_HALF (NPTENTRIES / 2)    // PML4 entries 256..511 map the kernel

static int smap;                // CR4.SMAP is on: stac/clac exist and are needed
uint64 user_nx;                 // PTE_NX where the CPU has it, else 0

// Learn what the CPU offers (vm_init has turned it on already).
void
uvm_init(void)
{
  smap = (rcr4() & CR4_SMAP) != 0;
  user_nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
}

// Let the kernel touch user pages (SMAP's override, RFLAGS.AC), and take
// the permission back. The instructions exist only on CPUs with SMAP.
// (RFLAGS.AC is no privileged flag: user code may set it with popf. The
// syscall instruction clears it (MSR_FMASK), and every other entry to the
// kernel clears it too (trapasm.S's clearflags), so no handler runs with
// the override on, whether a user program set it or an interrupt came in
// the middle of a copy.)
static void
user_access_begin(void)
{
  if (smap)
    stac();
}

void
user_access_end(void)
{
  if (smap)
    clac();
}

// A new page table: an empty user half and the kernel's upper half.
pte_t *
uvm_create(void)
{
  pte_t *pml4 = kalloc();

  if (pml4 == NULL)
    return NULL;
  memset(pml4, 0, PGSIZE);
  memmove(pml4 + KERNEL_HALF, vm_kernel_pml4() + KERNEL_HALF, KERNEL_HALF * sizeof(pte_t));
  return pml4;
}

// Map fresh zeroed pages at [va, va + size) (whole pages) with perm.
// Returns 0, or -1 if memory ran out; the pages mapped until then stay
// mapped, for uvm_free or uvm_dealloc to take back.
int
uvm_alloc(pte_t *pml4, uint64 va, uint64 size, uint64 perm)
{
  for (uint64 a = va; a < va + size; a += PGSIZE) {
    void *page = kalloc();
    if (page == NULL)
      return -1;
    memset(page, 0, PGSIZE);
    if (vm_map(pml4, a, PADDR(page), PGSIZE, perm | PTE_U, PGSIZE) < 0) {
      kfree(page);
      return -1;
    }
  }
  return 0;
}

// Unmap and free the pages of [va, va + size) (whole pages) that are
// mapped; skip those that are not.
void
uvm_dealloc(pte_t *pml4, uint64 va, uint64 size)
{
  uint64 pgsize;

  for (uint64 a = va; a < va + size; a += PGSIZE) {
    pte_t *pte = vm_lookup(pml4, a, &pgsize);
    if (pte == NULL)
      continue;
    void *page = KADDR(*pte & PTE_ADDR);
    vm_unmap(pml4, a, PGSIZE);
    kfree(page);
  }
}

// Free the tables under a level-`level` table (and their user pages at
// level 1), then the table itself.
static void
free_table(pte_t *table, int level)
{
  for (int i = 0; i < NPTENTRIES; i++) {
    if (!(table[i] & PTE_P))
      continue;
    void *below = KADDR(table[i] & PTE_ADDR);
    if (level == 1)
      kfree(below);             // a user page
    else
      free_table(below, level - 1);
  }
  kfree(table);
}

// Free a whole address space: the user pages, the user half's tables,
// and the PML4 (the kernel half's tables are shared: left alone).
void
uvm_free(pte_t *pml4)
{
  for (int i = 0; i < KERNEL_HALF; i++)
    if (pml4[i] & PTE_P)
      free_table(KADDR(pml4[i] & PTE_ADDR), PTLEVELS - 1);
  kfree(pml4);
}

// Call fn(va, pte, arg) for each page mapped in the user half of pml4,
// in address order, with pte its entry; stop at the first nonzero result
// fn returns, and return it (0 if none). Only tables that exist are
// visited: user address spaces are small and far apart.
static int
foreach_in(pte_t *table, int level, uint64 base, int (*fn)(uint64, pte_t *, void *), void *arg)
{
  uint64 span = 1ull << (PGSHIFT + PXBITS * (level - 1));   // what one entry maps
  int entries = level == PTLEVELS ? KERNEL_HALF : NPTENTRIES;

  for (int i = 0; i < entries; i++) {
    int r;
    if (!(table[i] & PTE_P))
      continue;
    if (level == 1)
      r = fn(base + i * span, &table[i], arg);
    else
      r = foreach_in(KADDR(table[i] & PTE_ADDR), level - 1, base + i * span, fn, arg);
    if (r != 0)
      return r;
  }
  return 0;
}

int
uvm_foreach(pte_t *pml4, int (*fn)(uint64 va, pte_t *pte, void *arg), void *arg)
{
  return foreach_in(pml4, PTLEVELS, 0, fn, arg);
}

// uvm_copy's step: copy the page at va, mapped by pte, into page table `to`.
static int
copy_page(uint64 va, pte_t *pte, void *to)
{
#if SOL >= 4
  void *page = kalloc();

  if (page == NULL)
    return -1;
  memmove(page, KADDR(*pte & PTE_ADDR), PGSIZE);
  if (vm_map(to, va, PADDR(page), PGSIZE, *pte & (PTE_W | PTE_U | user_nx), PGSIZE) < 0) {
    kfree(page);
    return -1;
  }
  return 0;
#else
  // LAB 4: kalloc a page (return -1 if there is none), copy the page that
  // pte maps into it (both through the direct map: KADDR of the physical
  // address in pte), and vm_map it into `to` at va with pte's PTE_W,
  // PTE_U and PTE_NX bits and no others (mask pte with them; user_nx is
  // PTE_NX where the CPU has NX, else 0, and masking with it keeps pte's
  // NX bit only where that bit means something). If vm_map fails, kfree
  // the page and return -1; else return 0.
  (void)va;
  (void)pte;
  (void)to;
  return -1;
#endif
}

// Give `to` (a fresh uvm_create table) a copy of every user page of
// `from`, at the same address with the same permissions. Returns 0, or -1
// if memory ran out (the caller frees `to`).
int
uvm_copy(pte_t *from, pte_t *to)
{
  return uvm_foreach(from, copy_page, to);
}

// Is [va, va + len) user memory that the kernel may read (and write, if
// `write`) on the process's behalf? Returns 0 if so, -1 if not: the range
// wraps around or reaches past USERTOP, or one of its pages is not
// mapped, not PTE_U, or (for a write) not PTE_W. An empty range is fine.
int
uvm_check(pte_t *pml4, uint64 va, uint64 len, int write)
{
#if SOL >= 4
  uint64 pgsize, need = PTE_P | PTE_U | (write ? PTE_W : 0);

  if (len == 0)
    return 0;
  if (va >= USERTOP || len > USERTOP - va)
    return -1;
  for (uint64 page = PGROUNDDOWN(va); page < va + len; page += PGSIZE) {
    pte_t *pte = vm_lookup(pml4, page, &pgsize);
    if (pte == NULL || (*pte & need) != need)
      return -1;
  }
  return 0;
#else
  // LAB 4: return -1 unless every byte of [va, va + len) is in the user
  // half (below USERTOP: mind a range that wraps around the top of the
  // address space, and one that starts below USERTOP but ends above it)
  // and every page it touches is mapped (vm_lookup) with PTE_P and PTE_U,
  // and PTE_W too if write. len == 0 is always fine. (User memory is all
  // 4 KiB pages: step by PGSIZE.)
  (void)pml4;
  (void)va;
  (void)len;
  (void)write;
  return -1;
#endif
}

// Copy len bytes from user address src in pml4 (the page table in use)
// to the kernel's dst. Returns 0, or -1 if src is not readable user memory.
int
copyin(pte_t *pml4, void *dst, uint64 src, uint64 len)
{
  if (uvm_check(pml4, src, len, 0) < 0)
    return -1;
  user_access_begin();
  memmove(dst, (void *)src, len);
  user_access_end();
  return 0;
}

// Copy len bytes from the kernel's src to user address dst in pml4 (the
// page table in use). Returns 0, or -1 if dst is not writable user memory.
int
copyout(pte_t *pml4, uint64 dst, const void *src, uint64 len)
{
  if (uvm_check(pml4, dst, len, 1) < 0)
    return -1;
  user_access_begin();
  memmove((void *)dst, src, len);
  user_access_end();
  return 0;
}

// Copy the NUL-terminated string at user address src into dst, at most
// max bytes with its NUL. Returns its length, or -1 if it is not readable
// user memory up to its NUL or is longer than max - 1. Checks page by
// page, so a string may end just before an unmapped page.
int
copyinstr(pte_t *pml4, char *dst, uint64 src, uint64 max)
{
  uint64 n = 0;

  while (n < max) {
    uint64 chunk = PGROUNDDOWN(src + n) + PGSIZE - (src + n);  // to the end of its page
    if (chunk > max - n)
      chunk = max - n;
    if (uvm_check(pml4, src + n, chunk, 0) < 0)
      return -1;
    user_access_begin();
    for (uint64 i = 0; i < chunk; i++, n++) {
      dst[n] = ((char *)src)[n];
      if (dst[n] == '\0') {
        user_access_end();
        return n;
      }
    }
    user_access_end();
  }
  return -1;
}
