// fuzz SEED [N]: a seeded system call fuzzer. The kernel must survive any
// system call with any arguments, and any fault of a child: no panic, no
// hang, no leak, and only the faulting process dies.
//
// The run: print the seed; note sysinfo's free pages and nproc; make N
// (default DEFAULT_N) random calls; reap every child, orphans too; note
// free pages and nproc again: they must be as before. Every choice is a
// draw of the kernel's LCG (seed_next, x = SEED), so a seed replays the
// same run, up to the children's timing (which child a wait finds first).
//
// Each of the N calls is, by weight out of 100:
//   30 fork, of a child of a random kind (child()): a fault of a random
//      kind (fault()); a few random calls, then an exit or a fault; a
//      sleep; a spin of yields; the parent of an orphan; now and then a
//      memory hog. A random wait reaps it, or the need for room (MAXKIDS
//      out at once), or the end.
//   70 another call (one_call()), made by sysraw(): every number (each
//      known call, a later lab's, and unknown ones: negative, huge, just
//      past the last, a known one with high bits set); random RFLAGS
//      (arithmetic flags, DF, AC); random high halves where the kernel
//      reads an int; random values in the registers the call does not
//      read; and bad pointers of every kind (badptr()), bad fds, negative
//      and huge lengths, exec with bad paths and argv, sbrk past the
//      heap's start, kill of random pids, wait and sysinfo into read-only
//      memory.
//      From lab 6 (do_fds()): pipe into good and bad memory, dup of the
//      console and of bad fds, close of its own dups and pipe ends and of
//      bad fds, and read and write on its pipes with a bad buffer, a bad
//      length or the wrong end.
// The fuzzer itself never exits early, execs, kills itself or pid 1, or
// grows its heap (the page tables a heap grows into stay until exit, and
// would look like a leak): only its children do.
//
// Checks beyond survival: a call that must fail returns -1 (a pointer bad
// for the bytes the call touches, a bad fd, a negative length, a dead pid,
// an unknown number); %rdi, %rsi, %rdx, %r10, %r8, %r9 and the user flags
// come back unchanged; getpid is right; sbrk(0) is the break; wait returns
// only children (or orphans), each with a status its kind allows. A child
// that found a wrong result exits with BADSTATUS, which is wrong too.
//
// Output: "fuzz: seed S, N calls" first; "fuzz: FAILED: ..." for the
// first MAXSHOWN wrong results (one a child); then, last,
//   fuzz: seed S: N calls, M children, free pages before B after A: ok
// and exit 0; or that line ending in "FAILED", and exit 1. Faulting
// children add the kernel's lines; those that exec, what hello and echo
// print; valid writes, blank lines.

#include "kernel/types.h"
#include "user/user.h"

#define PGSIZE          4096
#define KERNBASE        0xFFFFFFFF80000000ul  // kern/memlayout.h KERNBASE
#define KSTACKS_BASE    (KERNBASE - 0x40000000ul)  // kern/memlayout.h
#define DIRECTMAP_BASE  0xFFFF800000000000ul  // kern/memlayout.h DIRECTMAP_BASE
#define USERTOP         0x0000800000000000ul  // kern/memlayout.h USERTOP
#define USTACKSIZE      0x4000ul              // kern/memlayout.h USTACKSIZE
#define UTEXT           0x400000ul            // kern/memlayout.h UTEXT
#define UNMAPPED        0x10000000ul          // far above our heap
#define MAXARG          32                    // kern/param.h
#define MAXARGLEN       256                   // kern/param.h
#define SEG_KCODE       0x08                  // kern/mmu.h: the GDT's selectors
#define SEG_KDATA       0x10
#define SEG_UCODE32     0x18
#define SEG_UDATA       0x20
#define SEG_UCODE       0x28
#define SEG_TSS         0x30
#define SEG_PAST_GDT    0x40                  // kern/mmu.h SEG_NDESC (8) slots
#define RPL3            3
#define INT_MAX         0x7fffffff
#define INT_MIN         (-INT_MAX - 1)
// RFLAGS: the bits user mode may set, which come back from the kernel as
// they went in (CF, PF, AF, ZF, SF, DF, OF, AC); those always set (IF, 1).
#define FL_USER         0x40cd5ul
#define FL_BASE         0x202ul

#define DEFAULT_N       2000
#define MAXKIDS         8           // children out at once
#define MAXSHOWN        10          // wrong results printed
#define ANY             0x7eadbeef  // a child status we cannot foresee
#define BADSTATUS       0x7ead      // a child that found a wrong result
#define ORPHAN_STATUS   15          // a grandchild, which we reap as an orphan
#define STR(x)          STR1(x)
#define STR1(x)         #x

// The registers of a system call, as sysraw() loads and stores them.
struct regs {
  uint64 rax, rdi, rsi, rdx, r10, r8, r9, rflags;
};

void sysraw(struct regs *r);
void far_ret(uint64 rip, uint64 cs);
void far_jmp(uint64 rip, uint64 cs);
void bad_stack_push(uint64 rsp);
void bad_stack_exit(uint64 rsp, uint64 status);
void trap_flag(void);
void fault_idiv(int zero);
extern char ud2_stub[], priv_stubs[], priv_end[], int_stubs[], compat_stubs[], compat_end[];
asm(".text\n"
    // void sysraw(struct regs *r): system call r->rax with r's arguments
    // and flags; r gets the registers as the kernel returned them. The
    // caller's flags come back after: C wants DF clear.
    "sysraw:\n"
    "  pushq %rbx\n"
    "  pushfq\n"
    "  movq %rdi, %rbx\n"
    "  pushq 56(%rbx)\n"
    "  popfq\n"
    "  movq 0(%rbx), %rax\n  movq 8(%rbx), %rdi\n  movq 16(%rbx), %rsi\n"
    "  movq 24(%rbx), %rdx\n  movq 32(%rbx), %r10\n  movq 40(%rbx), %r8\n"
    "  movq 48(%rbx), %r9\n"
    "  syscall\n"
    "  pushfq\n"
    "  popq 56(%rbx)\n"
    "  movq %rax, 0(%rbx)\n  movq %rdi, 8(%rbx)\n  movq %rsi, 16(%rbx)\n"
    "  movq %rdx, 24(%rbx)\n  movq %r10, 32(%rbx)\n  movq %r8, 40(%rbx)\n"
    "  movq %r9, 48(%rbx)\n"
    "  popfq\n"
    "  popq %rbx\n"
    "  ret\n"
    // Children's faults. Each ends in ud2, in case it is survived.
    "far_ret: pushq %rsi; pushq %rdi; lretq\n"                  // to %cs:%rip
    "far_jmp: movl %edi, -16(%rsp); movw %si, -12(%rsp); ljmpl *-16(%rsp)\n"  // m16:32
    "bad_stack_push: movq %rdi, %rsp; pushq %rax; ud2\n"
    "bad_stack_exit: movq %rdi, %rsp; movq %rsi, %rdi; movl $" STR(SYS_exit) ", %eax; syscall; ud2\n"
    "trap_flag: pushfq; orq $0x100, (%rsp); popfq; movl $" STR(SYS_getpid) ", %eax; syscall; ud2\n"
    "fault_idiv: idivl %edi; ud2\n"
    "ud2_stub: ud2\n"
    // Privileged instructions (and int3), 16 bytes apart.
    ".balign 16, 0xcc\n"
    "priv_stubs:\n"
    "cli; ud2;                .balign 16, 0xcc\n"
    "hlt; ud2;                .balign 16, 0xcc\n"
    "inb $0x60, %al; ud2;     .balign 16, 0xcc\n"
    "outb %al, $0x80; ud2;    .balign 16, 0xcc\n"
    "rdmsr; ud2;              .balign 16, 0xcc\n"
    "wrmsr; ud2;              .balign 16, 0xcc\n"
    "movq %cr3, %rax; ud2;    .balign 16, 0xcc\n"
    "movq %rax, %cr0; ud2;    .balign 16, 0xcc\n"
    "lgdt (%rsp); ud2;        .balign 16, 0xcc\n"
    "lidt (%rsp); ud2;        .balign 16, 0xcc\n"
    "ltr %ax; ud2;            .balign 16, 0xcc\n"
    "invlpg (%rsp); ud2;      .balign 16, 0xcc\n"
    "wbinvd; ud2;             .balign 16, 0xcc\n"
    "clts; ud2;               .balign 16, 0xcc\n"
    "swapgs; ud2;             .balign 16, 0xcc\n"
    "sysretq; ud2;            .balign 16, 0xcc\n"
    "sysenter; ud2;           .balign 16, 0xcc\n"
    "int3; ud2;               .balign 16, 0xcc\n"
    "movw %ax, %ss; ud2;      .balign 16, 0xcc\n"     // %ax: whatever was there
    "priv_end:\n"
    // int $n for every n, 4 bytes apart: no gate is open to user mode.
    "int_stubs:\n"
    ".set i, 0\n"
    ".rept 256\n"
    ".byte 0xcd, i; ud2\n"
    ".set i, i + 1\n"
    ".endr\n"
    // Targets of a far return or jump into the 32-bit user code segment, 16
    // bytes apart: compatibility mode, where syscall enters through MSR_CSTAR.
    ".code32\n"
    ".balign 16, 0xcc\n"
    "compat_stubs:\n"
    "movl $" STR(SYS_getpid) ", %eax; syscall; ud2; .balign 16, 0xcc\n"
    "int $0x80; ud2;          .balign 16, 0xcc\n"
    "sysenter; ud2;           .balign 16, 0xcc\n"
    "movl 0, %eax; ud2;       .balign 16, 0xcc\n"
    "ud2;                     .balign 16, 0xcc\n"
    "compat_end:\n"
    ".code64\n");

// Selectors a far return loads into %cs: null, the kernel's, the user's,
// data, the TSS, past the GDT's end; RPL 0 and 3.
static const uint16 selectors[] = {
  0, SEG_KCODE, SEG_KCODE | RPL3, SEG_KDATA | RPL3, SEG_UCODE32 | RPL3, SEG_UDATA | RPL3,
  SEG_UCODE | RPL3, SEG_UCODE, SEG_TSS | RPL3, SEG_PAST_GDT | RPL3, 0xfff8 | RPL3,
};
#define NSELECTORS      (sizeof(selectors) / sizeof(selectors[0]))

static char *progs[] = { "nop", "echo", "hello", "/nop" };
static const int later[] = {        // kern/syscall.h: calls of labs 6 to 8
  SYS_pipe, SYS_read, SYS_fstat, SYS_chdir, SYS_dup, SYS_open, SYS_mknod,
  SYS_unlink, SYS_link, SYS_mkdir, SYS_close,
};
#define NLATER          (sizeof(later) / sizeof(later[0]))

static uint64 x;                        // the LCG's state
static int mypid, fuzzpid, inchild;     // getpid(); the fuzzer's; 1 in a child
static uint64 heaplow, brk;             // the heap's start; the break now
static char outbuf[PGSIZE];             // what valid writes print: newlines
static char inbuf[PGSIZE];              // where valid waits and sysinfos store
static char longstr[MAXARGLEN + 64];    // 'x's: from +64, 255 of them; before, too many
static char *argvbuf[MAXARG + 16];
static int ncalls, nkids, nwrong;       // calls made, children forked, wrong results
static struct { int pid, want; } kids[MAXKIDS];  // children out, and their status
static int nout, lastpid, deadpid;      // children out; the last forked; the last reaped

static uint64
rnd(void)
{
  return seed_next(&x);
}

static uint64
pick(uint64 n)
{
  return rnd() % n;
}

// A register that the kernel reads as the int v: random high bits.
static uint64
asint(int v)
{
  return (rnd() << 32) | (uint32)v;
}

static uint64
pgroundup(uint64 a)
{
  return (a + PGSIZE - 1) & ~(uint64)(PGSIZE - 1);
}

// Report a wrong result, as printf would (the first MAXSHOWN of them; a
// child's first only: hundreds of children could flood the console).
__attribute__((format(printf, 1, 2))) static void
wrong(const char *fmt, ...)
{
  va_list ap;

  if (nwrong++ >= (inchild ? 1 : MAXSHOWN))
    return;
  printf("fuzz: FAILED: pid %d: ", mypid);
  va_start(ap, fmt);
  vprintf(1, fmt, ap);
  va_end(ap);
}

// Report the call r (as it went in), which returned v, and why it is wrong.
static void
wrong_call(const char *why, const struct regs *r, long v)
{
  wrong("call %ld(0x%lx, 0x%lx, 0x%lx, 0x%lx, ...) = %ld: %s\n",
        (long)r->rax, r->rdi, r->rsi, r->rdx, r->r10, v, why);
}

// A pointer through which no access of size bytes can succeed (size 0: a
// string, which must not be a valid one either): page 0 (but not NULL,
// which is valid for wait and ends argv: callers add it), unmapped, the
// kernel's (image, kernel stacks, direct map), non-canonical, one whose
// bytes run off the heap's end, past 2^64 or USERTOP, or that starts
// just below the user stack or the text.
static uint64
badptr(uint64 size)
{
  uint64 r = rnd(), k = size > 1 ? 1 + r % (size - 1 < 15 ? size - 1 : 15) : 0;

  switch (pick(size == 0 ? 8 : 9)) {    // USERTOP - k holds argv strings: no string
  case 0: return 1 + r % (PGSIZE - 1);
  case 1: return UNMAPPED + (r % 4096) * PGSIZE + pick(PGSIZE);
  case 2: return (uint64[]){ KERNBASE, KSTACKS_BASE, DIRECTMAP_BASE }[r % 3] + pick(1 << 27);
  case 3: return (uint64[]){ USERTOP, 1ul << 63, DIRECTMAP_BASE - (1 << 24) }[r % 3] + pick(1 << 24);
  case 4: return pgroundup(brk) - (size ? k : 1 + r % 15);
  case 5: return 0 - (k ? k : 1 + r % 15);
  case 6: return USERTOP - USTACKSIZE - 1 - r % 15;
  case 7: return UTEXT - 1 - r % 15;
  default: return USERTOP - k;
  }
}

// A bad fd in any lab, and a bad pointer too: a negative int (a kernel
// or wrapping address), or an fd past any file table (in page 0).
static uint64
badfd(void)
{
  switch (pick(3)) {
  case 0: return -1 - pick(PGSIZE);
  case 1: return KERNBASE + pick(1 << 27);
  default: return 1000 + pick(1000);
  }
}

// Random values in every register: those a call does not read must not matter.
static struct regs
args(uint64 n)
{
  return (struct regs){ n, rnd(), rnd(), rnd(), rnd(), rnd(), rnd() };
}

// Make the call r (left as it went in) with random flags; check that it
// failed if it must, and that it kept what it must keep. Its result.
static long
call(struct regs *r, int mustfail)
{
  struct regs out;

  r->rflags = FL_BASE | (rnd() & FL_USER);
  out = *r;
  ncalls++;
  sysraw(&out);
  if (out.rdi != r->rdi || out.rsi != r->rsi || out.rdx != r->rdx || out.r10 != r->r10 ||
      out.r8 != r->r8 || out.r9 != r->r9 || (out.rflags & FL_USER) != (r->rflags & FL_USER))
    wrong_call("registers changed", r, out.rax);
  if (mustfail && (long)out.rax != -1)
    wrong_call("it must fail", r, out.rax);
  return out.rax;
}

// Exit with status, as a child must: with BADSTATUS if it found anything wrong.
__attribute__((noreturn)) static void
exit_with(int status)
{
  struct regs r = args(SYS_exit);

  r.rdi = asint(nwrong ? BADSTATUS : status);
  r.rflags = FL_BASE;
  sysraw(&r);
  for (;;)
    ;
}

// wait returned pid with status (known: the status is real). Wrong if pid
// is neither a child nor a possible orphan, or its status is not one its
// kind allows (-1 always is: a sibling may have killed it).
static void
reaped(int pid, int status, int known)
{
  int i;

  deadpid = pid;
  for (i = 0; i < nout && kids[i].pid != pid; i++)
    ;
  if (i == nout) {
    if (known && status != ORPHAN_STATUS && status != -1)
      wrong("wait = %d, status %d: no child, nor an orphan\n", pid, status);
    return;
  }
  if (known && status == BADSTATUS)
    wrong("child %d found something wrong\n", pid);
  else if (known && kids[i].want != ANY && status != kids[i].want && status != -1)
    wrong("child %d: status %d, expected %d or -1\n", pid, status, kids[i].want);
  kids[i] = kids[--nout];
}

static void
do_write(void)
{
  struct regs r = args(SYS_write);
  int fd = pick(4) ? (int)pick(3) : (int)badfd(), len, mustfail = fd < 0 || fd > 2;

  switch (pick(3)) {
  case 0:               // a bad buffer
    len = (int[]){ 1, 1 + pick(16), 1 + pick(PGSIZE), 2 * PGSIZE, INT_MAX }[pick(5)];
    r.rsi = pick(8) ? badptr(len) : 0;
    mustfail = 1;
    break;
  case 1:               // a good one, and a length negative or running off the heap
    r.rsi = (uint64)outbuf + pick(64);
    len = (int[]){ -1, INT_MIN, -(int)pick(INT_MAX), INT_MAX,
                   pgroundup(brk) - r.rsi + 1 + pick(PGSIZE) }[pick(5)];
    mustfail = 1;
    break;
  default:              // good: at most two newlines
    r.rsi = (uint64)outbuf + pick(64);
    len = pick(3);
  }
  r.rdi = asint(fd);
  r.rdx = asint(len);
  call(&r, mustfail);
}

static void
do_wait(void)
{
  struct regs r = args(SYS_wait);
  int how = pick(5);

  r.rdi = (uint64[]){ 0, (uint64)inbuf + pick(64), (uint64)rnd, (uint64)progs[0], badptr(4) }[how];
  int pid = call(&r, how >= 2);
  if (pid > 0)
    reaped(pid, how == 1 ? *(int *)r.rdi : 0, how == 1);
}

static void
do_sysinfo(void)
{
  struct regs r = args(SYS_sysinfo);
  int how = pick(5);

  r.rdi = (uint64[]){ (uint64)inbuf + pick(64), (uint64)rnd, (uint64)progs[0], 0,
                      badptr(sizeof(struct sysinfo)) }[how];
  call(&r, how > 0);
}

// argvbuf as an argv of n entries, each s, and a NULL.
static uint64
argv_of(int n, char *s)
{
  for (int i = 0; i < n; i++)
    argvbuf[i] = s;
  argvbuf[n] = 0;
  return (uint64)argvbuf;
}

// exec, with one thing wrong: the path (a bad pointer, no such program,
// too long), argv, an argument (a bad pointer, too long), too many
// arguments, more than a page of them, argv running off the heap's end
// with no NULL. In a child, sometimes nothing: then the child is done.
static void
do_exec(void)
{
  struct regs r = args(SYS_exec);
  char *prog = progs[pick(4)], *heapend = (char *)pgroundup(brk);
  int heap = heapend - PGSIZE >= (char *)heaplow;       // the page below heapend is heap

  r.rdi = (uint64)prog;
  switch (pick(inchild ? 9 : 8)) {
  case 0: r.rdi = pick(4) ? badptr(0) : 0; r.rsi = argv_of(1, prog); break;
  case 1: r.rdi = pick(2) ? (uint64)"nosuchprogram" : (uint64)longstr + pick(64); r.rsi = argv_of(1, prog); break;
  case 2: r.rsi = pick(4) ? badptr(8) : 0; break;
  case 3: r.rsi = argv_of(3, prog); argvbuf[1 + pick(2)] = (char *)badptr(0); break;
  case 4: r.rsi = argv_of(MAXARG + 1 + pick(8), prog); break;
  case 5: r.rsi = argv_of(2, prog); argvbuf[1] = longstr + pick(64); break;
  case 6: r.rsi = argv_of(PGSIZE / MAXARGLEN + 1, longstr + 64); break;
  case 7:
    r.rsi = heap ? (uint64)(heapend - 8 * (1 + pick(4))) : badptr(8);
    for (char **a = (char **)r.rsi; heap && a < (char **)heapend; a++)
      *a = prog;
    break;
  default: r.rsi = argv_of(1 + pick(4), prog); break;   // a good one
  }
  call(&r, 1);
  if (heap)
    memset(heapend - PGSIZE, 'a', PGSIZE);      // the heap's end is no string
}

// kill: a child, ourselves (in a child), the pid last reaped, one not
// given yet, 0, a negative, a random one. Never the fuzzer or pid 1.
static void
do_kill(void)
{
  struct regs r = args(SYS_kill);
  int how = pick(7);
  int pid = (int[]){ nout ? kids[pick(nout)].pid : 0, inchild ? mypid : 0, deadpid,
                     lastpid + 100000 + pick(INT_MAX / 2), 0, -1 - pick(INT_MAX),
                     2 + pick(lastpid + 4) }[how];
  int mustfail = pid <= 0 || (how >= 2 && how <= 5);

  if (pid == fuzzpid || pid == 1)
    pid = -1, mustfail = 1;
  r.rdi = asint(pid);
  call(&r, mustfail);
}

static void
do_sleep(void)
{
  struct regs r = args(SYS_sleep);
  int n = pick(2) ? (int)pick(3) : (int)(-1 - pick(INT_MAX));

  r.rdi = asint(n);
  call(&r, n < 0);
}

// sbrk: 0, or to below the heap's start, which must fail; a child also
// grows and shrinks its heap, and now and then asks for more than there is.
static void
do_sbrk(void)
{
  struct regs r = args(SYS_sbrk);
  long n;

  switch (pick(inchild ? 6 : 3)) {
  case 0: n = 0; break;
  case 1: n = INT_MIN; break;
  case 2: n = -(long)(brk - heaplow) - 1 - pick(PGSIZE); break;
  case 3: n = pick(16 * PGSIZE); break;
  case 4: n = -(long)pick(brk - heaplow + 1); break;
  default: n = pick(4) ? (int)pick(64 * PGSIZE) : INT_MAX; break;
  }
  r.rdi = asint(n);
  long old = call(&r, (long)(brk + n) < (long)heaplow);
  if (n == 0 && old != brk)
    wrong("sbrk(0) = 0x%lx, but the break is 0x%lx\n", old, brk);
  brk = (uint64)sbrk(0);
}

// A later lab's call, every argument bad in every lab; or no call at all.
static void
do_other(void)
{
  struct regs r;

  if (pick(2)) {
    r = args(later[pick(NLATER)]);
    r.rdi = badfd(), r.rsi = badfd(), r.rdx = badfd();
  } else {
    r = args((uint64[]){ NSYSCALL, NSYSCALL + 1 + pick(4), -1 - pick(4), 1ul << 63, rnd() << 8,
                         (1ul << 32) | SYS_getpid, 0 }[pick(7)]);
  }
  call(&r, 1);
}

#if LAB >= 6
#define MAXPIPES        3                     // pipes of its own a process keeps open
#define MAXDUPS         4                     // dups of the console it keeps

// The descriptors this process opened itself, to close them again and
// to aim bad calls at. A child forgets its parent's: the copies it
// inherits stay open, unused, until it exits.
static struct { int rfd, wfd, wclosed; } pipes[MAXPIPES];
static int npipes, dups[MAXDUPS], ndups;
static int fdpair[2];

// pipe into good memory (or a bad pointer: it must fail).
static void
fd_pipe(void)
{
  struct regs r = args(SYS_pipe);

  if (npipes == MAXPIPES || pick(4) == 0) {
    r.rdi = badptr(2 * sizeof(int));
    call(&r, 1);
  } else {
    r.rdi = (uint64)fdpair;
    if (call(&r, 0) == 0)       // it may fail: children hold many files
      pipes[npipes].rfd = fdpair[0], pipes[npipes].wfd = fdpair[1],
      pipes[npipes].wclosed = 0, npipes++;
  }
}

// dup of the console (it must work: there is room), or of a bad fd.
static void
fd_dup(void)
{
  struct regs r = args(SYS_dup);

  if (ndups == MAXDUPS || pick(4) == 0) {
    r.rdi = badfd();
    call(&r, 1);
    return;
  }
  r.rdi = asint(pick(3));
  long fd = call(&r, 0);
  if (fd < 3 || fd >= 16)
    wrong("dup(console) = %ld\n", fd);
  else
    dups[ndups++] = fd;
}

// close: a dup, a pipe's write end, then its read end; or a bad fd.
static void
fd_close(void)
{
  struct regs r = args(SYS_close);
  int i = npipes ? pick(npipes) : 0;

  if ((npipes == 0 && ndups == 0) || pick(4) == 0) {
    r.rdi = badfd();
    call(&r, 1);
  } else if (ndups && (npipes == 0 || pick(2))) {
    r.rdi = asint(dups[--ndups]);
    if (call(&r, 0) != 0)
      wrong("close of a dup failed\n");
  } else if (!pipes[i].wclosed) {
    r.rdi = asint(pipes[i].wfd);
    if (call(&r, 0) != 0)
      wrong("close of a pipe's write end failed\n");
    pipes[i].wclosed = 1;
  } else {
    r.rdi = asint(pipes[i].rfd);
    if (call(&r, 0) != 0)
      wrong("close of a pipe's read end failed\n");
    pipes[i] = pipes[--npipes];
  }
}

// read or write with a bad fd, buffer, length or direction, on a pipe
// of ours or not: it must fail. (The pipes' valid traffic is lab 6's
// tests': here a stub's -1 must not count as wrong, since lab 4's grade
// runs this on lab 6's handout.)
static void
fd_rw(int write)
{
  struct regs r = args(write ? SYS_write : SYS_read);
  int i = npipes ? pick(npipes) : 0;
  int len = 1 + pick(64);

  r.rdi = npipes ? asint(write ? pipes[i].wfd : pipes[i].rfd) : badfd();
  r.rsi = (uint64)(write ? outbuf : inbuf) + pick(64);
  switch (pick(4)) {
  case 0: r.rdi = badfd(); break;
  case 1: r.rsi = badptr(len); break;
  case 2: len = (int[]){ -1, INT_MIN, -(int)pick(INT_MAX) }[pick(3)]; break;
  default:                      // the wrong end
    r.rdi = npipes ? asint(write ? pipes[i].rfd : pipes[i].wfd) : badfd();
  }
  if (npipes && pipes[i].wclosed && (int)r.rdi == pipes[i].wfd)
    r.rdi = badfd();            // closed: the fd may be reused, by a dup
  r.rdx = asint(len);
  call(&r, 1);
}

// One of lab 6's descriptor calls.
static void
do_fds(void)
{
  switch (pick(5)) {
  case 0: fd_pipe(); break;
  case 1: fd_dup(); break;
  case 2: fd_close(); break;
  default: fd_rw(pick(2));
  }
}

// Close what this process opened (at the end: a pipe holds a page).
static void
close_fds(void)
{
  while (ndups)
    close(dups[--ndups]);
  for (; npipes > 0; npipes--) {
    if (!pipes[npipes - 1].wclosed)
      close(pipes[npipes - 1].wfd);
    close(pipes[npipes - 1].rfd);
  }
}
#endif

// getpid, uptime, yield, with random values in the registers they ignore.
static void
do_simple(void)
{
  struct regs r = args((uint64[]){ SYS_getpid, SYS_uptime, SYS_yield }[pick(3)]);
  long v = call(&r, 0);

  if (r.rax == SYS_getpid && v != mypid)
    wrong("getpid = %ld, not %d\n", v, mypid);
}

// One call of any kind but fork; in a child, exit too.
static void
one_call(void)
{
  int w = pick(100);

  if (w < 14) do_write();
  else if (w < 26) do_wait();
  else if (w < 34) do_sysinfo();
  else if (w < 46) do_exec();
  else if (w < 54) do_kill();
  else if (w < 58) do_sleep();
  else if (w < 66) do_sbrk();
#if LAB >= 6
  else if (w < 74) do_fds();
#endif
  else if (w < 82) do_other();
  else if (w < 97 || !inchild) do_simple();
  else exit_with((int)rnd());
}

// Recurse 1 KiB of stack a level until the guard page (as user/fault.c).
__attribute__((noinline)) static int
recurse(int n)
{
  volatile char frame[1024];

  if (n > 1000000)
    return 0;
  for (int i = 0; i < sizeof(frame); i++)
    frame[i] = n;
  return recurse(n + 1) + frame[n % sizeof(frame)];
}

// A fault that must kill this child: a data access to a bad address, a
// write to text, a jump to a bad address or to NX data, a bad %rsp for a
// push (or for a system call: exit, with status -1 like a kill), divide by
// zero, ud2, int $n, a privileged instruction, the trap flag, a far return
// or jump into another segment (one in three into 32-bit code), stack
// overflow, an SSE access misaligned. (Under QEMU 7.2's TCG with SMAP,
// lretq in user mode page-faults on its own stack, as a supervisor read:
// the far jump, which reads no stack, reaches the other segments there.)
__attribute__((noreturn)) static void
fault(void)
{
  uint64 cs = pick(3) ? selectors[pick(NSELECTORS)] : SEG_UCODE32 | RPL3;
  uint64 npriv = (priv_end - priv_stubs) / 16, ncompat = (compat_end - compat_stubs) / 16;
  uint64 rip = cs == (SEG_UCODE32 | RPL3) ? (uint64)compat_stubs + 16 * pick(ncompat)
                                          : (uint64)ud2_stub;

  switch (pick(15)) {
  case 0: *(volatile char *)badptr(1); break;
  case 1: *(volatile char *)badptr(1) = 1; break;
  case 2: *(volatile char *)rnd = 1; break;
  case 3: ((void (*)(void))badptr(1))(); break;
  case 4: ((void (*)(void))(outbuf + pick(64)))(); break;
  case 5: bad_stack_push(pick(2) ? badptr(8) : rnd()); break;
  case 6: bad_stack_exit(pick(2) ? badptr(8) : rnd(), asint(-1)); break;
  case 7: fault_idiv(0); break;
  case 8: ((void (*)(void))(int_stubs + 4 * pick(256)))(); break;
  case 9: ((void (*)(void))(priv_stubs + 16 * pick(npriv)))(); break;
  case 10: trap_flag(); break;
  case 11: far_ret(rip, cs); break;
  case 12: far_jmp(rip, cs); break;
  case 13: recurse(0); break;
  default: asm volatile("movaps %%xmm0, (%0)" : : "r"(inbuf + 1 + pick(15)) : "memory");
  }
  exit_with(1);         // survived: a wrong status
}

// Take nearly all free memory, then fork and exec: each runs out of it
// partway, and must give back what it took.
static void
hog(void)
{
  struct sysinfo si;

  sysinfo(&si);
  uint64 pages = si.freepages - pick(64);
  sbrk(pages < INT_MAX / PGSIZE ? pages * PGSIZE : INT_MAX);
  if (fork() == 0)
    exit_with(ORPHAN_STATUS);
  wait(0);
  exec(progs[0], argvbuf);
}

// A child of a random kind: a fault; some calls, then perhaps a fault,
// else an exit; a sleep or a spin of yields, then an exit; the parent of
// an orphan, which exits while its child sleeps; or a memory hog. Never
// returns.
__attribute__((noreturn)) static void
child(int kind, int status)
{
  inchild = 1;
  nwrong = 0;                   // the parent's, before the fork, are not ours
#if LAB >= 6
  npipes = ndups = 0;           // the parent's (do_fds)
#endif
  mypid = getpid();
  x ^= 0x9e3779b97f4a7c15ul;    // another sequence than the parent's
  switch (kind) {
  case 0:
    fault();
  case 1:
    for (int n = 1 + pick(8); n > 0; n--)
      one_call();
    if (pick(4) == 0)
      fault();
    break;
  case 2:
    sleep(pick(4));
    break;
  case 3:
    for (int n = pick(50); n > 0; n--)
      yield();
    break;
  case 4:
    if (fork() == 0) {
      mypid = getpid();
      sleep(pick(3));
      exit_with(ORPHAN_STATUS);
    }
    break;
  default:
    hog();
  }
  exit_with(status);
}

// Reap a child (or an orphan), with the library's wait. If there is
// none but we think some are out, they are lost: say so, and forget them.
static int
reap(void)
{
  int status, pid = wait(&status);

  if (pid > 0) {
    reaped(pid, status, 1);
  } else if (nout > 0) {
    wrong("wait = %d with %d children out\n", pid, nout);
    nout = 0;
  }
  return pid;
}

// Fork a child of a random kind, once there is room for it.
static void
do_fork(void)
{
  int kind = pick(50) ? (int[]){ 0, 0, 0, 1, 1, 1, 2, 3, 4 }[pick(9)] : 5;   // hogs are slow
  int status = (int)rnd() - (1 << 30);
  struct regs r = args(SYS_fork);

  while (nout == MAXKIDS)
    reap();
  int pid = call(&r, 0);
  if (pid == 0)
    child(kind, status);
  if (pid < 0)
    return;             // no slot or no memory: not wrong
  nkids++;
  lastpid = pid;
  kids[nout].pid = pid;
  kids[nout++].want = kind == 0 ? -1 : kind == 1 || kind == 5 ? ANY : status;
}

int
main(int argc, char *argv[])
{
  struct sysinfo before, after;
  int n = argc == 3 ? atoi(argv[2]) : DEFAULT_N;

  if (argc < 2 || argc > 3 || n <= 0) {
    printf("fuzz: usage: fuzz SEED [N]\n");
    exit(1);
  }
  int seed = atoi(argv[1]);
  x = seed;
  printf("fuzz: seed %d, %d calls\n", seed, n);
  fuzzpid = mypid = getpid();
  // A heap of one page, 'a's, so that strings at its end run off it.
  heaplow = (uint64)sbrk(0);
  sbrk(pgroundup(heaplow) - heaplow + PGSIZE);
  brk = (uint64)sbrk(0);
  memset((char *)brk - PGSIZE, 'a', PGSIZE);
  memset(outbuf, '\n', sizeof(outbuf));
  memset(longstr, 'x', sizeof(longstr) - 1);
  sysinfo(&before);

  for (int i = 0; i < n; i++) {
    if (pick(100) < 30)
      do_fork();
    else
      one_call();
  }
  while (reap() > 0)
    ;
#if LAB >= 6
  close_fds();
#endif
  sysinfo(&after);
  if (after.nproc != before.nproc)
    printf("fuzz: FAILED: nproc before %ld after %ld\n", before.nproc, after.nproc);
  int ok = !nwrong && after.freepages == before.freepages && after.nproc == before.nproc;
  printf("fuzz: seed %d: %d calls, %d children, free pages before %ld after %ld: %s\n",
         seed, ncalls, nkids, before.freepages, after.freepages, ok ? "ok" : "FAILED");
  exit(ok ? 0 : 1);
}
