// fault KIND SEED: a child commits one fault; the kernel must kill it, and
// only it.
//
// The parent forks; the child says what it will do and does it; the
// parent waits (the kernel must report a killed process as status -1),
// then forks and execs hello and waits for it, to show that programs still
// run. Where a fault has a data address, it comes from the seed through
// the kernel's LCG (seed_next as in kern/test/selftest.c, x = SEED, draw r =
// the first draw); the addresses come from kern/memlayout.h, copied below
// because user programs cannot include it, so every one is printed.
//
//   null       read  r % 4096                              (page 0: never mapped)
//   kread      read  KERNBASE + 1 MiB + r % 1 MiB          (kernel image: supervisor only)
//   kwrite     write DIRECTMAP_BASE + 1 MiB + r % 1 MiB    (direct map: supervisor only)
//   noncanon   read  USERTOP + (r % 65536) * 4096          (non-canonical: #GP, not #PF)
//   unmapped   write 0x10000000 + (r % 4096) * 4096        (user half, nothing mapped)
//   textwrite  write the first byte of main                (text is R-X)
//   nxexec     call  a copy of a small function, in a heap buffer if r is even,
//                    else in a stack buffer: both made before the fork, so
//                    that the child runs in pages fork copied (NX)
//   priv       cli if r is even, else hlt                  (ring 0 only: #GP)
//   io         outb to port 0x80                           (IOPL 0: #GP)
//   div        idiv by zero                                (#DE)
//   ud         ud2                                         (#UD)
//   stack      recursion, 1 KiB a frame, until the guard page below the
//              user stack: USERTOP - USTACKSIZE - 4096
// For the last five and nxexec the address printed is that of the
// faulting instruction (each is the first instruction of a function, so
// we know it), for stack the guard page's.
//
// Output:
//   fault: KIND at 0xADDR                      the child, before its fault
//   fault: KIND survived                       the child, if it did (exit 1)
//   fault: child P exited with status S        S must be -1
//   fault: hello exited with status S          after hello's own output; S 0
// and exit 0 (1 for a bad KIND or usage).

#include "kernel/types.h"
#include "user/user.h"

#define PGSIZE          4096
#define KERNBASE        0xFFFFFFFF80000000ul  // kern/memlayout.h KERNBASE
#define DIRECTMAP_BASE  0xFFFF800000000000ul  // kern/memlayout.h DIRECTMAP_BASE
#define USERTOP         0x0000800000000000ul  // kern/memlayout.h USERTOP
#define USTACKSIZE      0x4000ul              // kern/memlayout.h USTACKSIZE
#define UNMAPPED        0x10000000ul          // far above any program's heap
#define MIB             0x100000ul
#define CODESIZE        32                    // bytes of ret42 that nxexec copies

static char *heapbuf;           // nxexec's heap page, taken before the fork

// Each of these faults at its first instruction, so that its address is
// the faulting instruction's. (A C "1 / zero" would fault too, but at an
// address we could not print beforehand.)
void fault_cli(void);
void fault_hlt(void);
void fault_outb(void);
void fault_idiv(int zero);
void fault_ud2(void);
asm(".text\n"
    "fault_cli:  cli;  ret\n"
    "fault_hlt:  hlt;  ret\n"
    "fault_outb: outb %al, $0x80; ret\n"
    "fault_idiv: idivl %edi; ret\n"         // divides edx:eax by the argument
    "fault_ud2:  ud2;  ret\n");

// What nxexec copies: position-independent code.
static int
ret42(void)
{
  return 42;
}

int main(int argc, char *argv[]);

// Recurse 1 KiB of stack a level, writing each frame, until the guard page
// (16 levels; the bound only tells the compiler that the recursion ends).
// Not inlined into itself, so that no frame is big enough to skip the
// guard page.
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

// Say what the child will touch, as "fault: KIND at 0xADDR".
static void
say(char *kind, uint64 addr)
{
  printf("fault: %s at 0x%lx\n", kind, addr);
}

// Commit the fault KIND, using the draw r. Returns only if it survived.
static void
commit(char *kind, uint64 r)
{
  char stackbuf[CODESIZE];

  if (strcmp(kind, "null") == 0) {
    volatile char *a = (char *)(r % PGSIZE);
    say(kind, (uint64)a);
    (void)*a;
  } else if (strcmp(kind, "kread") == 0) {
    volatile char *a = (char *)(KERNBASE + MIB + r % MIB);
    say(kind, (uint64)a);
    (void)*a;
  } else if (strcmp(kind, "kwrite") == 0) {
    volatile char *a = (char *)(DIRECTMAP_BASE + MIB + r % MIB);
    say(kind, (uint64)a);
    *a = 1;
  } else if (strcmp(kind, "noncanon") == 0) {
    volatile char *a = (char *)(USERTOP + (r % 65536) * PGSIZE);
    say(kind, (uint64)a);
    (void)*a;
  } else if (strcmp(kind, "unmapped") == 0) {
    volatile char *a = (char *)(UNMAPPED + (r % 4096) * PGSIZE);
    say(kind, (uint64)a);
    *a = 1;
  } else if (strcmp(kind, "textwrite") == 0) {
    volatile char *a = (char *)main;
    say(kind, (uint64)a);
    *a = 0xcc;
  } else if (strcmp(kind, "nxexec") == 0) {
    char *buf = r % 2 == 0 ? heapbuf : stackbuf;
    memmove(buf, (void *)ret42, CODESIZE);
    say(kind, (uint64)buf);
    ((int (*)(void))buf)();
  } else if (strcmp(kind, "priv") == 0) {
    void (*f)(void) = r % 2 == 0 ? fault_cli : fault_hlt;
    say(kind, (uint64)f);
    f();
  } else if (strcmp(kind, "io") == 0) {
    say(kind, (uint64)fault_outb);
    fault_outb();
  } else if (strcmp(kind, "div") == 0) {
    say(kind, (uint64)fault_idiv);
    fault_idiv(0);
  } else if (strcmp(kind, "ud") == 0) {
    say(kind, (uint64)fault_ud2);
    fault_ud2();
  } else if (strcmp(kind, "stack") == 0) {
    say(kind, USERTOP - USTACKSIZE - PGSIZE);
    recurse(0);
  } else {
    printf("fault: unknown kind %s\n", kind);
    exit(1);
  }
}

// Fork, run argv in the child (exec), and return its status from wait.
static int
run(char **argv)
{
  int status = -12345;
  int pid = fork();

  if (pid == 0) {
    exec(argv[0], argv);
    printf("fault: exec %s failed\n", argv[0]);
    exit(1);
  }
  if (pid < 0 || wait(&status) != pid)
    printf("fault: fork or wait failed\n");
  return status;
}

int
main(int argc, char *argv[])
{
  char *hello[] = { "hello", 0 };
  int status = -12345;

  if (argc != 3) {
    printf("fault: usage: fault KIND SEED\n");
    exit(1);
  }
  uint64 x = atoi(argv[2]);
  uint64 r = seed_next(&x);
  heapbuf = sbrk(PGSIZE);
  int pid = fork();
  if (pid == 0) {
    commit(argv[1], r);
    printf("fault: %s survived\n", argv[1]);
    exit(1);
  }
  if (pid < 0 || wait(&status) != pid)
    printf("fault: fork or wait failed\n");
  printf("fault: child %d exited with status %d\n", pid, status);
  printf("fault: hello exited with status %d\n", run(hello));
  exit(0);
}
