// sbrktest SEED: grow and shrink the heap with sbrk, and check what comes back.
//
// SIZE = N pages + E bytes, N = 1 + SEED % 40, E = SEED % 4096. First the
// heap grows by E bytes, so that the test's memory starts E bytes into a
// page (the kernel starts the heap on a page boundary). Then it grows by
// SIZE from P; the new memory must read as zeros; we fill it, give it
// back with sbrk(-SIZE) and grow again: it must read as zeros again, the
// rest of the page that P lies in included (that page stays mapped while
// the heap is shrunk, holding our pattern, unless the kernel clears it).
// sysinfo's free-page count must fall by at least the pages the growth
// mapped, and rise by at least as many when the heap shrinks (page-table
// pages may stay). A huge sbrk must fail and leave
// the break where it was; so must a shrink below the program's own data.
// Then a child shrinks its heap and touches a page it gave back: the kernel
// must kill it (wait's status -1).
//
// Output (addresses in hex, SIZE and counts in decimal):
//   sbrktest: size SIZE (N pages + E bytes)
//   sbrktest: sbrk(E) = 0xA, break now 0xB            the offset into a page
//   sbrktest: free pages before F
//   sbrktest: sbrk(SIZE) = 0xP, break now 0xB          B must be P + SIZE
//   sbrktest: free pages after growing F, M new pages mapped
//   sbrktest: sbrk(-SIZE) = 0xR, break now 0xB         B must be P again
//   sbrktest: free pages after shrinking F
//   sbrktest: sbrk(SIZE) = 0xP, break now 0xB          the same P again
//   sbrktest: zeroed ok
//   sbrktest: sbrk(0x7fffffff) = -1, break now 0xB     B unchanged
//   sbrktest: sbrk(-0x7fffffff) = -1, break now 0xB    B unchanged
//   sbrktest: child touches freed heap at 0xA
//   sbrktest: child touching freed heap: status S      S must be -1
//   sbrktest: ok                                       (exit 0)
// Each failed check prints "sbrktest: FAILED: ..."; then the last line is
// "sbrktest: FAILED: N checks" (exit 1).

#include "kernel/types.h"
#include "user/user.h"

#define PGSIZE 4096
#define HUGE   0x7fffffff
#define PGROUNDUP(a) (((a) + PGSIZE - 1) & ~(uint64)(PGSIZE - 1))

static int bad;

// Count a failed check, saying what failed.
static void
fail(char *what, uint64 got, uint64 want)
{
  printf("sbrktest: FAILED: %s: 0x%lx, expected 0x%lx\n", what, got, want);
  bad++;
}

// Pages kalloc could hand out now.
static uint64
freepages(void)
{
  struct sysinfo si;

  if (sysinfo(&si) < 0) {
    fail("sysinfo", -1, 0);
    return 0;
  }
  return si.freepages;
}

// sbrk(n), printed with the break after it. Returns what sbrk returned.
static char *
grow(int n)
{
  char *r = sbrk(n);

  if (n == HUGE || n == -HUGE)
    printf("sbrktest: sbrk(%s0x%x)", n < 0 ? "-" : "", HUGE);
  else
    printf("sbrktest: sbrk(%d)", n);
  if (r == (char *)-1)
    printf(" = -1");
  else
    printf(" = 0x%lx", (uint64)r);
  printf(", break now 0x%lx\n", (uint64)sbrk(0));
  return r;
}

// Check that [p, p+n) reads as zeros; says where it does not.
static void
check_zero(char *p, int n, char *when)
{
  for (int i = 0; i < n; i++) {
    if (p[i] != 0) {
      printf("sbrktest: FAILED: byte at 0x%lx is 0x%x %s\n",
             (uint64)(p + i), p[i] & 0xff, when);
      bad++;
      return;
    }
  }
}

// A child gives back 3 pages of heap and touches the second of them:
// the kernel must kill it. Prints its status.
static void
touch_freed(void)
{
  int status = 0;
  int pid = fork();

  if (pid == 0) {
    char *p = sbrk(3 * PGSIZE);
    memset(p, 1, 3 * PGSIZE);
    sbrk(-3 * PGSIZE);
    volatile char *a = (char *)PGROUNDUP((uint64)p) + PGSIZE;  // wholly freed
    printf("sbrktest: child touches freed heap at 0x%lx\n", (uint64)a);
    *a = 2;
    printf("sbrktest: FAILED: child wrote freed heap at 0x%lx\n", (uint64)a);
    exit(0);
  }
  if (pid < 0 || wait(&status) != pid)
    fail("fork and wait", pid, 0);
  printf("sbrktest: child touching freed heap: status %d\n", status);
  if (status != -1)
    fail("freed heap: status", status, -1);
}

// A huge growth (more than RAM) and a shrink below the program's data
// must both fail and leave the break alone.
static void
huge(void)
{
  char *brk = sbrk(0);

  char *r = grow(HUGE);
  if (r != (char *)-1)
    fail("sbrk(huge)", (uint64)r, -1);
  if (sbrk(0) != brk)
    fail("break after sbrk(huge)", (uint64)sbrk(0), (uint64)brk);
  r = grow(-HUGE);
  if (r != (char *)-1)
    fail("sbrk(-huge)", (uint64)r, -1);
  if (sbrk(0) != brk)
    fail("break after sbrk(-huge)", (uint64)sbrk(0), (uint64)brk);
}

int
main(int argc, char *argv[])
{
  if (argc != 2) {
    printf("sbrktest: usage: sbrktest SEED\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]);
  int npages = 1 + seed % 40, extra = seed % PGSIZE;
  int size = npages * PGSIZE + extra;
  printf("sbrktest: size %d (%d pages + %d bytes)\n", size, npages, extra);
  grow(extra);

  uint64 before = freepages();
  printf("sbrktest: free pages before %ld\n", before);
  char *p = grow(size);
  if (p == (char *)-1) {
    printf("sbrktest: FAILED: sbrk(%d) = -1\n", size);
    exit(1);
  }
  if (sbrk(0) != p + size)
    fail("break after growing", (uint64)sbrk(0), (uint64)(p + size));
  uint64 mapped = (PGROUNDUP((uint64)p + size) - PGROUNDUP((uint64)p)) / PGSIZE;
  check_zero(p, size, "after growing");
  memset(p, 0xa5, size);
  uint64 grown = freepages();
  printf("sbrktest: free pages after growing %ld, %ld new pages mapped\n", grown, mapped);
  if ((long)(before - grown) < (long)mapped)
    fail("pages used by growing", before - grown, mapped);

  char *r = grow(-size);
  if (r != p + size)
    fail("sbrk(-size)", (uint64)r, (uint64)(p + size));
  if (sbrk(0) != p)
    fail("break after shrinking", (uint64)sbrk(0), (uint64)p);
  uint64 shrunk = freepages();
  printf("sbrktest: free pages after shrinking %ld\n", shrunk);
  if ((long)(shrunk - grown) < (long)mapped)
    fail("pages freed by shrinking", shrunk - grown, mapped);

  r = grow(size);
  if (r != p)
    fail("sbrk(size) again", (uint64)r, (uint64)p);
  int zbad = bad;
  check_zero(p, size, "after growing again");
  if (bad == zbad)
    printf("sbrktest: zeroed ok\n");
  sbrk(-size);

  huge();
  touch_freed();
  if (bad) {
    printf("sbrktest: FAILED: %d checks\n", bad);
    exit(1);
  }
  printf("sbrktest: ok\n");
  exit(0);
}
