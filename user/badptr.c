// badptr SEED: every system call that takes a pointer, given bad ones.
//
// Each call must return -1 and leave the process alive: the kernel checks
// every user pointer before it copies. The bad pointers (r1, r2, ... are
// the kernel's LCG draws, seed_next as in kern/test/selftest.c, x = SEED, in
// this order; the addresses are kern/memlayout.h's, copied below):
//
//   null       0
//   unmapped   0x10000000 + (r1 % 4096) * 4096       user half, nothing mapped
//   kernel     KERNBASE + 1 MiB + r2 % 1 MiB          the kernel image
//   directmap  DIRECTMAP_BASE + 1 MiB + r3 % 1 MiB    the direct map
//   noncanon   USERTOP + (r4 % 65536) * 4096          non-canonical
//   top        USERTOP - k, k = 1 + r5 % 15           the last user page is the
//                                                     stack's, mapped; the range
//                                                     runs past USERTOP
//   heapend    BRK - k, k = 1 + r6 % 15               BRK page-aligned, the page
//                                                     below it heap, the page at
//                                                     it unmapped
// The last page of the heap, below BRK, is filled with 'a's and ends with
// "hello" (no NUL), so that a string at heapend or at BRK - 5 runs into
// the unmapped page. Where a pointer of the list is a valid one for a
// call, the call uses another:
//   - wait(0) is valid: wait leaves null out;
//   - an int is 4 bytes, an argv entry 8: wait and exec's argv array take
//     k = 1 + r5 % 3 and 1 + r6 % 3 for top and heapend, so that their
//     first access straddles;
//   - the stack's top may end in a NUL, so that USERTOP - k can be a valid
//     string: exec's path and argument take BRK - 5 ("hello", no NUL) for top;
//   - a NULL argument ends argv: exec's argument leaves null out.
//
// The calls (45), one output line each ("badptr: CALL = R", pointers in hex):
//   write(1, PTR, LEN)             7: LEN 16 for a point, k + 16 for a straddle
//   write(1, BUF, -1)              BUF a valid string
//   write(1, BUF, 2147483647)
//   wait(PTR)                      6: a zombie child present, reaped after;
//                                  and 1 more: main, read-only code
//   exec(PTR, argv)                7: argv = {"hello", 0}
//   exec("hello", {"hello", PTR, 0})   6
//   exec("hello", PTR)             7: PTR as the argv array
//   exec("hello", BRK - 8)         an array whose one entry ("hello") is valid,
//                                  and whose end would be at BRK
//   sysinfo(PTR)                   7, and main, read-only code
// and, which must work:
//   badptr: break 0xBRK                     first
//   badptr: write(1, BUF, 0) = 0
//   badptr: a valid write                   what the next line's write wrote
//   badptr: write(1, BUF, N) = N
//   badptr: fork = P, wait(0) = P           after the wait tests
// The last line is "badptr: N calls, all -1" (exit 0) or "badptr: FAILED:
// N calls did not return -1" (exit 1); a valid call that went wrong also
// prints "badptr: FAILED: ...".

#include "kernel/types.h"
#include "user/user.h"

int main(int argc, char *argv[]);

#define PGSIZE          4096
#define KERNBASE        0xFFFFFFFF80000000ul  // kern/memlayout.h KERNBASE
#define DIRECTMAP_BASE  0xFFFF800000000000ul  // kern/memlayout.h DIRECTMAP_BASE
#define USERTOP         0x0000800000000000ul  // kern/memlayout.h USERTOP
#define UNMAPPED        0x10000000ul          // far above any program's heap
#define MIB             0x100000ul
#define NPTR            7                     // bad pointers, as listed above
#define TOP             5                     // index of the two straddling ones
#define HEAPEND         6

static uint64 ptrs[NPTR];       // the bad pointers
static uint64 kbig[2];          // k of TOP and HEAPEND, for write and sysinfo
static uint64 ksmall[2];        // k of TOP and HEAPEND, for wait
static char *brk;               // the page-aligned break
static int ncalls, nbad;        // calls that had to fail, and those that did not

// Count a call that had to return -1 and returned r.
static void
tally(int r)
{
  ncalls++;
  if (r != -1)
    nbad++;
}

// Make the bad pointers from the seed, and the heap's end: grow the heap
// to a page boundary and one page more, so [brk - PGSIZE, brk) is heap,
// and fill that page with 'a's and an unterminated "hello".
static void
make_ptrs(uint64 seed)
{
  uint64 x = seed, r[6];

  for (int i = 0; i < 6; i++)
    r[i] = seed_next(&x);
  uint64 cur = (uint64)sbrk(0);
  sbrk((-cur & (PGSIZE - 1)) + PGSIZE);
  brk = sbrk(0);
  memset(brk - PGSIZE, 'a', PGSIZE);
  memmove(brk - 5, "hello", 5);
  ptrs[0] = 0;
  ptrs[1] = UNMAPPED + (r[0] % 4096) * PGSIZE;
  ptrs[2] = KERNBASE + MIB + r[1] % MIB;
  ptrs[3] = DIRECTMAP_BASE + MIB + r[2] % MIB;
  ptrs[4] = USERTOP + (r[3] % 65536) * PGSIZE;
  kbig[0] = 1 + r[4] % 15;
  kbig[1] = 1 + r[5] % 15;
  ksmall[0] = 1 + r[4] % 3;
  ksmall[1] = 1 + r[5] % 3;
  ptrs[TOP] = USERTOP - kbig[0];
  ptrs[HEAPEND] = (uint64)brk - kbig[1];
  printf("badptr: break 0x%lx\n", (uint64)brk);
}

// The straddling pointer of index i (TOP or HEAPEND) with k from ks[].
static uint64
straddle(int i, uint64 *ks)
{
  return i == TOP ? USERTOP - ks[0] : (uint64)brk - ks[1];
}

// write: every bad pointer, then a valid buffer with bad and good lengths.
static void
test_write(void)
{
  static char msg[] = "badptr: a valid write\n";
  int n = strlen(msg), r;

  for (int i = 0; i < NPTR; i++) {
    int len = i >= TOP ? kbig[i - TOP] + 16 : 16;
    tally(r = write(1, (void *)ptrs[i], len));
    printf("badptr: write(1, 0x%lx, %d) = %d\n", ptrs[i], len, r);
  }
  tally(r = write(1, msg, -1));
  printf("badptr: write(1, 0x%lx, -1) = %d\n", (uint64)msg, r);
  tally(r = write(1, msg, 0x7fffffff));
  printf("badptr: write(1, 0x%lx, %d) = %d\n", (uint64)msg, 0x7fffffff, r);
  r = write(1, msg, 0);
  printf("badptr: write(1, 0x%lx, 0) = %d\n", (uint64)msg, r);
  if (r != 0)
    printf("badptr: FAILED: write of 0 bytes returned %d\n", r);
  r = write(1, msg, n);
  printf("badptr: write(1, 0x%lx, %d) = %d\n", (uint64)msg, n, r);
  if (r != n)
    printf("badptr: FAILED: valid write returned %d\n", r);
}

// wait: a child that exits at once, then wait with every bad pointer but
// NULL (wait(0) is valid); the child stays a zombie until wait(0).
static void
test_wait(void)
{
  int pid = fork(), r;

  if (pid == 0)
    exit(0);
  for (int i = 1; i < NPTR; i++) {
    uint64 p = i >= TOP ? straddle(i, ksmall) : ptrs[i];
    tally(r = wait((int *)p));
    printf("badptr: wait(0x%lx) = %d\n", p, r);
  }
  tally(r = wait((int *)main));         // read-only: the kernel must not write there
  printf("badptr: wait(0x%lx) = %d\n", (uint64)main, r);
  r = wait(0);
  printf("badptr: fork = %d, wait(0) = %d\n", pid, r);
  if (r != pid)
    printf("badptr: FAILED: wait(0) did not reap child %d\n", pid);
}

// exec with a bad path, argument or argv array. (USERTOP - k is no bad
// string: the stack's top may end in a NUL; brk - 5 replaces it. And NULL
// is a valid argument: it ends argv.)
static void
test_exec(void)
{
  char *ok[] = { "hello", 0 };
  char *one[] = { "hello", 0, 0 };
  char **arr = (char **)(brk - sizeof(char *));
  int r;

  for (int i = 0; i < NPTR; i++) {
    uint64 p = i == TOP ? (uint64)brk - 5 : ptrs[i];
    tally(r = exec((char *)p, ok));
    printf("badptr: exec(0x%lx, argv) = %d\n", p, r);
  }
  for (int i = 1; i < NPTR; i++) {
    one[1] = (char *)(i == TOP ? (uint64)brk - 5 : ptrs[i]);
    tally(r = exec("hello", one));
    printf("badptr: exec(\"hello\", {\"hello\", 0x%lx, 0}) = %d\n", (uint64)one[1], r);
  }
  for (int i = 0; i < NPTR; i++) {
    uint64 p = i >= TOP ? straddle(i, ksmall) : ptrs[i];
    tally(r = exec("hello", (char **)p));
    printf("badptr: exec(\"hello\", 0x%lx) = %d\n", p, r);
  }
  arr[0] = "hello";                     // a valid entry, and no room for the 0
  tally(r = exec("hello", arr));
  printf("badptr: exec(\"hello\", 0x%lx) = %d\n", (uint64)arr, r);
}

// sysinfo: every bad pointer, and read-only memory: main's code.
static void
test_sysinfo(void)
{
  int r = sysinfo((struct sysinfo *)main);

  tally(r);
  printf("badptr: sysinfo(0x%lx) = %d\n", (uint64)main, r);
  for (int i = 0; i < NPTR; i++) {
    uint64 p = i >= TOP ? straddle(i, kbig) : ptrs[i];
    tally(r = sysinfo((struct sysinfo *)p));
    printf("badptr: sysinfo(0x%lx) = %d\n", p, r);
  }
}

int
main(int argc, char *argv[])
{
  if (argc != 2) {
    printf("badptr: usage: badptr SEED\n");
    exit(1);
  }
  make_ptrs(atoi(argv[1]));
  test_write();
  test_wait();
  test_exec();
  test_sysinfo();
  if (nbad) {
    printf("badptr: FAILED: %d calls did not return -1\n", nbad);
    exit(1);
  }
  printf("badptr: %d calls, all -1\n", ncalls);
  exit(0);
}
