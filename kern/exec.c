// exec: replace a process's memory with a program, and start it.
//
// Until lab 8 brings a file system, the programs are the ELF files of
// user/, which the Makefile links into the kernel (build/uprogs.S): the
// table uprogs[] gives each one's name, bytes and size. exec(p, path,
// argv) finds the program named by path (a leading "/" is allowed), then:
//
//   1. checks the ELF file from its first byte to its last: the header's
//      identity and sizes, every program header inside the file, every
//      loadable segment inside the user half, above page 0, below the
//      stack, not overlapping another, its file bytes inside the file,
//      the entry point inside an executable segment (elf_check). The
//      programs are built here, but the loader is where a kernel meets
//      files it did not make, so it trusts nothing (proctest.c feeds it
//      damaged files);
//   2. builds a new address space: each segment in fresh zeroed pages,
//      text R-X, the rest NX and writable only if the segment says so;
//      the heap starts on the page after the last segment; the user stack
//      (USTACKSIZE, a guard page below it) ends at USTACKTOP;
//   3. copies the arguments onto the new stack: the strings at the top,
//      then argv[] (argc pointers and a NULL), %rsp 16-byte aligned;
//   4. only then frees the old address space, and points the trap frame
//      at the entry point: %rdi = argc, %rsi = argv, as a C call to
//      main would have them (user/usys.S's _start calls main).
// Any failure before step 4 leaves the process as it was, and exec
// returns -1.
//
// The new address space is not the one loaded in CR3, so exec writes it
// through the direct map (put), never through user addresses.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "elf.h"
#include "trap.h"
#include "proc.h"
#include "defs.h"

// The built-in program called name (a leading '/' ignored); NULL if none.
const struct uprog *
uprog_find(const char *name)
{
  if (name[0] == '/')
    name++;
  for (const struct uprog *u = uprogs; u->name; u++)
    if (strcmp(u->name, name) == 0)
      return u;
  return NULL;
}

// Do [a, a + alen) and [b, b + blen) overlap?
static int
overlap(uint64 a, uint64 alen, uint64 b, uint64 blen)
{
  return a < b + blen && b < a + alen;
}

// Is the ELF file elf[0 .. size) one that exec can load? NULL if so,
// else why not.
const char *
elf_check(const uint8 *elf, uint64 size)
{
  const struct elfhdr *eh = (const struct elfhdr *)elf;
  uint64 entry_ok = 0;

  if (size < sizeof(*eh) || eh->magic != ELF_MAGIC)
    return "not an ELF file";
  if (eh->ident[0] != ELF_CLASS64 || eh->ident[1] != ELF_DATA2LSB ||
      eh->ident[2] != ELF_VERSION || eh->version != ELF_VERSION)
    return "not a 64-bit little-endian ELF file of version 1";
  if (eh->type != ET_EXEC || eh->machine != EM_X86_64)
    return "not an x86-64 executable";
  if (eh->ehsize != sizeof(struct elfhdr) || eh->phentsize != sizeof(struct proghdr))
    return "header sizes are wrong";
  if (eh->phnum == 0 || eh->phoff > size || eh->phnum > (size - eh->phoff) / sizeof(struct proghdr))
    return "program headers are outside the file";
  if (eh->phoff % 8 != 0)
    return "program headers are misaligned";

  const struct proghdr *ph = (const struct proghdr *)(elf + eh->phoff);
  for (int i = 0; i < eh->phnum; i++) {
    const struct proghdr *s = &ph[i];
    if (s->type != PT_LOAD)
      continue;
    if (s->filesz > s->memsz)
      return "a segment has more file bytes than memory";
    if (s->off > size || s->filesz > size - s->off)
      return "a segment's bytes are outside the file";
    if (s->vaddr < UTEXT || s->vaddr > UHEAPTOP || s->memsz > UHEAPTOP - s->vaddr)
      return "a segment is outside the user program's addresses";
    if (s->vaddr % PGSIZE != s->off % PGSIZE)
      return "a segment's address and file offset disagree within a page";
    for (int j = 0; j < i; j++)
      if (ph[j].type == PT_LOAD &&
          overlap(PGROUNDDOWN(s->vaddr), PGROUNDUP(s->vaddr + s->memsz) - PGROUNDDOWN(s->vaddr),
                  PGROUNDDOWN(ph[j].vaddr), PGROUNDUP(ph[j].vaddr + ph[j].memsz) - PGROUNDDOWN(ph[j].vaddr)))
        return "two segments share a page";
    if ((s->flags & ELF_PF_X) && eh->entry >= s->vaddr && eh->entry - s->vaddr < s->filesz)
      entry_ok = 1;
  }
  if (!entry_ok)
    return "the entry point is not in an executable segment";
  return NULL;
}

// Write len bytes of src at user address va of pml4 (not the loaded page
// table), page by page through the direct map. -1 if a page is missing.
static int
put(pte_t *pml4, uint64 va, const void *src, uint64 len)
{
  uint64 pgsize;

  while (len > 0) {
    pte_t *pte = vm_lookup(pml4, PGROUNDDOWN(va), &pgsize);
    if (pte == NULL)
      return -1;
    uint64 n = PGROUNDDOWN(va) + PGSIZE - va;
    if (n > len)
      n = len;
    memmove((char *)KADDR(*pte & PTE_ADDR) + va % PGSIZE, src, n);
    va += n;
    src = (const char *)src + n;
    len -= n;
  }
  return 0;
}

// Map and fill the loadable segments of a checked ELF file; the end of
// the highest one in *top. Returns 0 or -1 (out of memory).
static int
load_segments(pte_t *pml4, const uint8 *elf, uint64 *top)
{
  const struct elfhdr *eh = (const struct elfhdr *)elf;
  const struct proghdr *ph = (const struct proghdr *)(elf + eh->phoff);

  *top = UTEXT;
  for (int i = 0; i < eh->phnum; i++) {
    const struct proghdr *s = &ph[i];
    if (s->type != PT_LOAD)
      continue;
    uint64 perm = ((s->flags & ELF_PF_W) ? PTE_W : 0) | ((s->flags & ELF_PF_X) ? 0 : user_nx);
    uint64 start = PGROUNDDOWN(s->vaddr), end = PGROUNDUP(s->vaddr + s->memsz);
    if (uvm_alloc(pml4, start, end - start, perm) < 0 ||
        put(pml4, s->vaddr, elf + s->off, s->filesz) < 0)
      return -1;
    if (end > *top)
      *top = end;
  }
  return 0;
}

// Build the user stack: the argument strings, then argv[], below
// USTACKTOP. Returns the new %rsp (16-byte aligned) with argv at it, or
// 0 if the arguments do not fit in the stack's first page.
static uint64
push_args(pte_t *pml4, char **argv, int argc)
{
  uint64 sp = USTACKTOP, uargv[MAXARG + 1];

  for (int i = 0; i < argc; i++) {
    uint64 len = strlen(argv[i]) + 1;
    sp -= len;
    if (sp < USTACKTOP - PGSIZE || put(pml4, sp, argv[i], len) < 0)
      return 0;
    uargv[i] = sp;
  }
  uargv[argc] = 0;
  sp = (sp - (argc + 1) * sizeof(uint64)) & ~0xfull;
  if (sp < USTACKTOP - PGSIZE || put(pml4, sp, uargv, (argc + 1) * sizeof(uint64)) < 0)
    return 0;
  return sp;
}

// Replace p's program with the one named path, with arguments argv (in
// kernel memory, NULL-terminated, at most MAXARG). Returns argc, which
// becomes the system call's result, or -1 with p unchanged.
int
exec(struct proc *p, const char *path, char **argv)
{
  const struct uprog *u = uprog_find(path);
  const char *why;
  int argc = 0;
  uint64 top, sp;

  if (u == NULL)
    return -1;
  if ((why = elf_check(u->elf, u->size)) != NULL) {
    printf("exec: %s: %s\n", u->name, why);
    return -1;
  }
  while (argv[argc])
    if (++argc > MAXARG)
      return -1;

  pte_t *pml4 = uvm_create();
  if (pml4 == NULL)
    return -1;
  if (load_segments(pml4, u->elf, &top) < 0 ||
      uvm_alloc(pml4, USTACKTOP - USTACKSIZE, USTACKSIZE, PTE_W | user_nx) < 0 ||
      (sp = push_args(pml4, argv, argc)) == 0) {
    uvm_free(pml4);
    return -1;
  }

  // Past the point of no return: commit.
  pte_t *old = p->pml4;
  p->pml4 = pml4;
  p->heap = p->brk = top;
  safestrcpy(p->name, u->name, sizeof(p->name));
  memset(p->tf, 0, sizeof(*p->tf));
  p->tf->rip = ((const struct elfhdr *)u->elf)->entry;
  p->tf->rsp = sp;
  p->tf->rdi = argc;
  p->tf->rsi = sp;
  p->tf->cs = SEG_UCODE | DPL_USER;
  p->tf->ss = SEG_UDATA | DPL_USER;
  p->tf->rflags = FL_IF;
  fpu_default(p->fpu);          // a new program: no MXCSR or x87 modes of the old one
  if (myproc() == p)
    fpu_restore(p->fpu);        // ... in the registers, which are live while p runs
  if (old) {
    if (myproc() == p)
      lcr3(PADDR(pml4));        // leave the old table before freeing it
    uvm_free(old);
  }
  return argc;
}
