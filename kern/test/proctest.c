// Lab 4's self-tests: user address spaces seen from the kernel, and the
// ELF loader's checks. (The user programs of user/ test the rest: fork,
// exec, faults, bad pointers.)
//
// The first three run with test=NAME seed=N (selftest.c) and build a page
// table of their own with uvm_create, never loaded in CR3, so they need no
// process:
//
//   uvm_check  maps a few pages with known permissions (the layout is in
//              check_layout below), then asks uvm_check about seeded
//              ranges around them, one line per range with the answer.
//              The grader (grade/lab4.py) works out each answer itself
//              from va, len and the layout.
//   uvm_copy   fills a page table with seeded pages, with seeded
//              contents and permissions, at addresses far apart, copies
//              it with uvm_copy, and compares the two page by page.
//   elf_check  damages a copy of a built-in program one field at a time
//              and checks that elf_check refuses each damaged copy and
//              accepts the whole one.
// Each ends with the free-page count before and after: everything made
// is freed again (uvm_free). Two more check that a process cannot stop
// the kernel where it once could (below: kstack_bt, bad_iret).

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "elf.h"
#include "x86.h"
#include "trap.h"
#include "proc.h"
#include "defs.h"

extern struct proc procs[];     // proc.c

#define COPY_PAGES      24      // uvm_copy: pages of the seeded address space
#define CHECK_RANGES    12      // uvm_check: seeded ranges, beside the fixed ones

//// uvm_check ///////////////////////////////////////////////////////////////

// The layout of uvm_check's page table, from UTEXT up:
//   page 0  user, read-only        page 1  user, writable
//   page 2  not mapped             page 3  kernel only (no PTE_U), writable
// and the last page below USERTOP, user, writable.
#define CHECK_RO        (UTEXT)
#define CHECK_RW        (UTEXT + PGSIZE)
#define CHECK_HOLE      (UTEXT + 2 * PGSIZE)
#define CHECK_KERNEL    (UTEXT + 3 * PGSIZE)
#define CHECK_TOP       (USERTOP - PGSIZE)

static void
check_one(pte_t *pml4, uint64 va, uint64 len, int write)
{
  printf("uvm_check: va %p len 0x%lx %s = %d\n", (void *)va, len, write ? "write" : "read",
         uvm_check(pml4, va, len, write));
}

static void
uvm_check_test(void)
{
  uint64 x = selftest_seed(), before = kalloc_nfree();
  pte_t *pml4 = uvm_create();

  uvm_init();
  if (pml4 == NULL || uvm_alloc(pml4, CHECK_RO, PGSIZE, 0) < 0 ||
      uvm_alloc(pml4, CHECK_RW, PGSIZE, PTE_W) < 0 ||
      uvm_alloc(pml4, CHECK_TOP, PGSIZE, PTE_W) < 0)
    panic("uvm_check test: out of memory");
  void *kpage = kalloc();
  if (kpage == NULL || vm_map(pml4, CHECK_KERNEL, PADDR(kpage), PGSIZE, PTE_W, PGSIZE) < 0)
    panic("uvm_check test: out of memory");

  // The edges every check must get right, then seeded ranges near them.
  check_one(pml4, CHECK_RW + 16, 0, 1);                         // empty: fine
  check_one(pml4, 0xFFFFFFFF80000000, 0, 0);                    // empty, anywhere
  check_one(pml4, CHECK_RO, PGSIZE, 0);
  check_one(pml4, CHECK_RO, PGSIZE, 1);                         // read-only
  check_one(pml4, CHECK_RO + PGSIZE - 8, 16, 0);                // two user pages
  check_one(pml4, CHECK_RW + PGSIZE - 8, 16, 0);                // into the hole
  check_one(pml4, CHECK_KERNEL, 8, 0);                          // no PTE_U
  check_one(pml4, CHECK_TOP, PGSIZE, 1);                        // the last user page
  check_one(pml4, USERTOP - 8, 8, 1);
  check_one(pml4, USERTOP - 8, 9, 0);                           // one byte past USERTOP
  check_one(pml4, CHECK_TOP + 16, (uint64)0 - PGSIZE, 0);       // wraps around
  check_one(pml4, USERTOP, 8, 0);                               // non-canonical
  check_one(pml4, KERNBASE + KERNEL_PHYS, 8, 0);                // the kernel
  check_one(pml4, 0, 8, 0);                                     // NULL
  for (int i = 0; i < CHECK_RANGES; i++) {
    static const uint64 bases[] = { CHECK_RO, CHECK_RW, CHECK_HOLE, CHECK_KERNEL, CHECK_TOP };
    uint64 va = bases[seed_next(&x) % NELEM(bases)] + seed_next(&x) % PGSIZE;
    uint64 len = 1 + seed_next(&x) % (2 * PGSIZE);
    check_one(pml4, va, len, seed_next(&x) % 2);
  }
  vm_unmap(pml4, CHECK_KERNEL, PGSIZE);
  kfree(kpage);
  uvm_free(pml4);
  printf("uvm_check: free pages before %lu after %lu\n", before, kalloc_nfree());
}
SELFTEST(uvm_check, uvm_check_test);

//// uvm_copy ////////////////////////////////////////////////////////////////

// A seeded user page address: anywhere in the user half but page 0, in
// a few clusters so that tables are shared and not.
static uint64
copy_addr(uint64 *x)
{
  static const uint64 clusters[] = { UTEXT, 0x40000000, 0x7f0000000000, USERTOP - 0x200000 };
  return clusters[seed_next(x) % NELEM(clusters)] + (seed_next(x) % 512) * PGSIZE;
}

// uvm_foreach's step for compare_spaces: is the page at va in `from`
// also in the other table, with the same permissions and contents, in
// a page of its own? 0 if so, else why not. In the copy (copy set), an
// entry must hold nothing but its address and those permissions: the
// test gives the original's entries bits a copy must not keep (accessed,
// dirty, global: a global user page would outlive its address space in
// every CPU's TLB).
struct compare {
  pte_t *other;
  int copy;                     // other is the copy
  const char *why;
  uint64 pages;
};

static int
compare_page(uint64 va, pte_t *a, void *arg)
{
  struct compare *c = arg;
  uint64 pgsize, perm = PTE_P | PTE_W | PTE_U | PTE_NX;
  pte_t *b = vm_lookup(c->other, va, &pgsize);

  if (b == NULL)
    c->why = "a page is missing in the other table";
  else if ((*a & perm) != (*b & perm))
    c->why = "a page's permissions differ";
  else if ((*a & PTE_ADDR) == (*b & PTE_ADDR))
    c->why = "a page is shared, not copied";
  else if (c->copy && (*b & ~(perm | PTE_ADDR)))
    c->why = "a copied entry keeps bits beyond P, W, U and NX";
  else if (memcmp(KADDR(*a & PTE_ADDR), KADDR(*b & PTE_ADDR), PGSIZE) != 0)
    c->why = "a page's contents differ";
  c->pages++;
  return c->why != NULL;
}

// Do from and to map the same pages, each with the same permissions and
// contents, but in different physical pages? NULL if so, else why not;
// the number of pages in *n.
static const char *
compare_spaces(pte_t *from, pte_t *to, uint64 *n)
{
  struct compare there = { to, 1, NULL, 0 }, back = { from, 0, NULL, 0 };

  if (uvm_foreach(from, compare_page, &there) || uvm_foreach(to, compare_page, &back))
    return there.why ? there.why : back.why;
  *n = there.pages;
  return NULL;
}

static void
uvm_copy_test(void)
{
  uint64 x = selftest_seed(), before = kalloc_nfree(), pgsize, n = 0;
  pte_t *from = uvm_create(), *to = uvm_create();

  uvm_init();
  if (from == NULL || to == NULL)
    panic("uvm_copy test: out of memory");
  for (int i = 0; i < COPY_PAGES; i++) {
    uint64 va = copy_addr(&x), perm = (seed_next(&x) % 2 ? PTE_W : 0) | (seed_next(&x) % 2 ? user_nx : 0);
    if (vm_lookup(from, va, &pgsize))
      continue;
    if (uvm_alloc(from, va, PGSIZE, perm) < 0)
      panic("uvm_copy test: out of memory");
    pte_t *pte = vm_lookup(from, va, &pgsize);
    *pte |= PTE_A | PTE_D | PTE_G;      // not for the copy to keep (see compare)
    uint8 *page = KADDR(*pte & PTE_ADDR);
    for (int b = 0; b < PGSIZE; b += 8)
      *(uint64 *)(page + b) = seed_next(&x);
  }
  int r = uvm_copy(from, to);
  const char *why = r < 0 ? "uvm_copy returned -1" : compare_spaces(from, to, &n);
  if (why)
    printf("uvm_copy: FAIL: %s\n", why);
  else
    printf("uvm_copy: %lu pages copied, each with its permissions and contents\n", n);
  uvm_free(from);
  uvm_free(to);
  printf("uvm_copy: free pages before %lu after %lu\n", before, kalloc_nfree());
}
SELFTEST(uvm_copy, uvm_copy_test);

//// elf_check ///////////////////////////////////////////////////////////////

// One way to damage an ELF file's headers.
struct damage {
  const char *what;
  void (*apply)(struct elfhdr *eh, struct proghdr *ph, uint64 *size, uint64 r);
};

static struct proghdr *
first_load(struct elfhdr *eh, struct proghdr *ph)
{
  for (int i = 0; i < eh->phnum; i++)
    if (ph[i].type == PT_LOAD)
      return &ph[i];
  return ph;
}

#define DAMAGE(name, body)                                                      \
  static void name(struct elfhdr *eh, struct proghdr *ph, uint64 *size, uint64 r) \
  {                                                                             \
    (void)eh; (void)ph; (void)size; (void)r;                                    \
    body;                                                                       \
  }
DAMAGE(bad_magic, eh->magic ^= 1u << (r % 32))
DAMAGE(bad_class, eh->ident[0] = 1)
DAMAGE(bad_data, eh->ident[1] = 2)
DAMAGE(bad_type, eh->type = 1 + r % 2 * 2)
DAMAGE(bad_machine, eh->machine = 3)
DAMAGE(bad_phentsize, eh->phentsize = sizeof(struct proghdr) - 8)
DAMAGE(phoff_outside, eh->phoff = (*size - r % 48) & ~7ull)
DAMAGE(phnum_huge, eh->phnum = 0xffff - r % 16)
DAMAGE(truncated, *size = eh->phoff + sizeof(struct proghdr) / 2)
DAMAGE(off_outside, first_load(eh, ph)->off = *size + PGSIZE * (1 + r % 8))
DAMAGE(filesz_outside, first_load(eh, ph)->filesz = first_load(eh, ph)->memsz = *size + r % PGSIZE)
DAMAGE(filesz_over_memsz, first_load(eh, ph)->filesz = first_load(eh, ph)->memsz + 1 + r % 64)
DAMAGE(vaddr_zero, first_load(eh, ph)->vaddr = first_load(eh, ph)->off % PGSIZE)
DAMAGE(vaddr_kernel, first_load(eh, ph)->vaddr = KERNBASE + first_load(eh, ph)->off % PGSIZE)
DAMAGE(vaddr_wraps, first_load(eh, ph)->memsz = (uint64)0 - first_load(eh, ph)->vaddr + r % PGSIZE)
DAMAGE(into_stack, first_load(eh, ph)->vaddr = USTACKTOP - PGSIZE + first_load(eh, ph)->off % PGSIZE)
DAMAGE(misaligned, first_load(eh, ph)->vaddr += 1 + r % (PGSIZE - 1))
DAMAGE(entry_outside, eh->entry = UHEAPTOP - r % PGSIZE)
DAMAGE(entry_in_data, eh->entry = ph[eh->phnum - 1].vaddr + r % 8)

static const struct damage damages[] = {
  { "bad magic", bad_magic },           { "32-bit class", bad_class },
  { "big-endian", bad_data },           { "not an executable", bad_type },
  { "not x86-64", bad_machine },        { "wrong phentsize", bad_phentsize },
  { "phoff outside", phoff_outside },   { "phnum huge", phnum_huge },
  { "truncated", truncated },           { "offset outside", off_outside },
  { "filesz outside", filesz_outside }, { "filesz > memsz", filesz_over_memsz },
  { "vaddr 0", vaddr_zero },            { "vaddr in the kernel", vaddr_kernel },
  { "vaddr + memsz wraps", vaddr_wraps }, { "segment in the stack", into_stack },
  { "vaddr and offset disagree", misaligned },
  { "entry outside", entry_outside },   { "entry in data", entry_in_data },
};

static void
elf_check_test(void)
{
  uint64 x = selftest_seed(), before = kalloc_nfree();
  const struct uprog *u = NULL;
  uint8 *copy = kalloc();

  for (int i = 0; uprogs[i].name; i++)
    if (uprogs[i].size <= PGSIZE * 8 && (u == NULL || seed_next(&x) % 2))
      u = &uprogs[i];
  if (u == NULL || copy == NULL)
    panic("elf_check test: no small program, or no page");
  // Only the headers are damaged: the first page of the file holds them.
  uint64 headers = u->size < PGSIZE ? u->size : PGSIZE;
  printf("elf_check: %s (%lu bytes): %s\n", u->name, u->size,
         elf_check(u->elf, u->size) ? elf_check(u->elf, u->size) : "accepted");
  for (uint64 i = 0; i < NELEM(damages); i++) {
    memmove(copy, u->elf, headers);
    struct elfhdr *eh = (struct elfhdr *)copy;
    uint64 size = u->size;
    damages[i].apply(eh, (struct proghdr *)(copy + eh->phoff), &size, seed_next(&x));
    // elf_check reads only the headers, which the copy holds; the
    // rest of the file is the original's, at the same offsets.
    const char *why = elf_check(copy, size);
    printf("elf_check: %s: %s\n", damages[i].what, why ? why : "ACCEPTED");
  }
  kfree(copy);
  printf("elf_check: free pages before %lu after %lu\n", before, kalloc_nfree());
}
SELFTEST(elf_check, elf_check_test);

//// kstack_bt: a panic on a process's kernel stack has a backtrace //////////

// Every panic inside a system call or a process's fault runs on that
// process's kernel stack; backtrace() must know those stacks. The test
// switches (swtch) onto slot seed % NPROC's stack, into kstack_outer,
// which calls kstack_inner, which panics: the backtrace must show both,
// each at an address inside it.

static struct context *kstack_boot_ctx;     // where swtch left the boot stack

__attribute__((noinline)) static void
kstack_inner(int slot)
{
  panic("kstack_bt: a panic on slot %d's kernel stack", slot);
}

__attribute__((noinline)) static void
kstack_outer(void)
{
  uint64 sp = rrsp();
  int slot = (sp - procs[0].kstack) / (KSTACKSIZE + PGSIZE);

  printf("kstack_bt: on slot %d's kernel stack, rsp %p\n", slot, (void *)sp);
  kstack_inner(slot);
}

static void
kstack_bt_test(void)
{
  uint64 x = selftest_seed();
  struct proc *p = &procs[seed_next(&x) % NPROC];

  proc_init();
  // A first context on p's stack, as allocproc lays one out: swtch's pops
  // find zeros (%rbp 0 ends the backtrace), then its ret finds kstack_outer.
  struct context *c = (struct context *)(p->kstack + KSTACKSIZE - 2 * sizeof(*c));
  memset(c, 0, sizeof(*c));
  c->rip = (uint64)kstack_outer;
  swtch(&kstack_boot_ctx, c);
}
SELFTEST(kstack_bt, kstack_bt_test);

//// bad_iret: a fault at the return to user mode is the user's ////////////

// The iretq that returns to user mode checks the frame it pops while still
// in ring 0, so a bad frame faults in the kernel, after the %gs swap
// (trapasm.S's bad_iret). A user program cannot choose %cs, but the fault
// is the same one a non-canonical %rip gives on real CPUs (which TCG does
// not model): here the first process returns to a seeded selector that is
// no code segment (user data, the TSS, one past the GDT's end). Only that
// process may die, of a general protection fault, with the selector as
// the error code; and the machine powers off as usual when it (init)
// exits.
static void
bad_iret_test(void)
{
  static const uint64 bad_cs[] = { SEG_UDATA, SEG_TSS, SEG_NDESC * 8 };
  uint64 x = selftest_seed();
  uint64 cs = bad_cs[seed_next(&x) % 3] | DPL_USER;

  if (userinit("nop") < 0)
    panic("bad_iret: no nop");
  struct proc *p = &procs[0];
  p->tf->cs = cs;
  printf("bad_iret: pid %d returns to cs 0x%lx at rip %p\n", p->pid, cs, (void *)p->tf->rip);
  scheduler();
}
SELFTEST(bad_iret, bad_iret_test);
