// Kernel self-tests, chosen on the command line with test=NAME.
//
// The graders (grade/labN.py) boot the kernel with test=NAME and check what
// it prints; a student can run one by hand with
//     make qemu KARGS="test=backtrace"
// Each test prints its results and then stops the kernel (most by panic,
// which is itself under test). Tests that belong to a lab are named after
// what they exercise; add new ones to the table at the bottom.

#include "types.h"
#include "param.h"
#include "x86.h"
#include "defs.h"

// The backtrace test: a known chain of calls that ends in panic, whose
// backtrace must name bt_leaf, bt_middle, bt_top, selftest_run, main.
// The functions are global and noinline so that the compiler keeps each
// one as a real frame, and each does work after its call so that the call
// can't become a jump (a tail call leaves no frame behind).
volatile int bt_calls;

__attribute__((noinline)) void
bt_leaf(void)
{
  bt_calls++;
  panic("selftest: backtrace from bt_leaf after %d calls", bt_calls);
}

__attribute__((noinline)) void
bt_middle(void)
{
  bt_calls++;
  bt_leaf();
  bt_calls++;
}

__attribute__((noinline)) void
bt_top(void)
{
  bt_calls++;
  bt_middle();
  bt_calls++;
}

// Parse a decimal number; 0 for anything else.
static uint64
parse_uint(const char *s)
{
  uint64 n = 0;

  for (; s && *s >= '0' && *s <= '9'; s++)
    n = n * 10 + (*s - '0');
  return n;
}

// Read through a volatile so the compiler can't object to printing NULL.
static const char *volatile null_string = NULL;

// The printf test: fixed edge cases, then numbers made from the seed
// option, so that the grader can check values it chose itself.
static void
printf_test(void)
{
  uint64 x = parse_uint(cmdline_get("seed"));

  printf("printf: d [%d] [%d] [%d] [%i] [%d]\n", 42, -42, 0, 2147483647, -2147483647 - 1);
  printf("printf: u [%u] [%lu] [%u]\n", 4294967295u, 18446744073709551615ul, 0u);
  printf("printf: x [%x] [%lx] [%x] [%llx]\n", 0xffffffffu, 0xdeadbeefcafeul, 0u, 0x1234abcdull);
  printf("printf: ld [%ld] [%ld] [%lld]\n", -9223372036854775807l - 1,
         9223372036854775807l, -1ll);
  printf("printf: width [%4d] [%04d] [%08x] [%4d] [%2d]\n", 7, -7, 42u, -7, 12345);
  printf("printf: s [%s] [%s] [%6s] c [%c] pct [%%]\n", "kestrel", null_string, "ok", 'K');
  printf("printf: p [%p] [%p]\n", (void *)0xffffffff80100000ull, (void *)0);
  // A 64-bit linear congruential step (Knuth's MMIX constants) mixes the seed.
  x = x * 6364136223846793005ull + 1442695040888963407ull;
  printf("printf: seed [%lu] [%lx] [%ld] [%d] [%x]\n", x, x, (int64)x, (int32)x, (uint32)x);
  printf("printf: done\n");
}

// Used by the Makefile's KVM probe: boot, say so, and power off QEMU.
static void
probe_test(void)
{
  printf("selftest: probe ok\n");
  outb(DEBUG_EXIT_PORT, 0);
}

static const struct {
  const char *name;
  void (*run)(void);
} tests[] = {
  { "backtrace", bt_top },
  { "printf", printf_test },
  { "probe", probe_test },
};

void
selftest_run(const char *name)
{
  for (uint64 i = 0; i < NELEM(tests); i++) {
    if (strcmp(tests[i].name, name) == 0) {
      printf("selftest: %s\n", name);
      tests[i].run();
      return;
    }
  }
  printf("selftest: no test named '%s'; known:", name);
  for (uint64 i = 0; i < NELEM(tests); i++)
    printf(" %s", tests[i].name);
  printf("\n");
}
