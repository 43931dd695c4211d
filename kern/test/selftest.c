// Kernel self-tests, chosen on the command line with test=NAME.
//
// The graders (grade/labN.py) boot the kernel with test=NAME and check what
// it prints; a student can run one by hand with
//     make qemu KARGS="test=backtrace seed=7"
// Each test prints its results and then stops the kernel (most by panic,
// which is itself under test). Tests that take a seed=N option derive what
// they do from it with seed_next(), and the grader, which picks N, works
// out the same thing: the output can't be learned by heart. Tests that
// belong to a lab are named after what they exercise.
//
// A test registers itself where it is written, with SELFTEST(name, fn)
// (defs.h): the macro puts a {name, fn} entry into the .selftests section,
// which kernel.ld gathers between selftests_start and selftests_end. So a
// later lab adds its tests in a file of its own (kern/test/memtest.c, say)
// without touching this one.
//
// The functions whose frames a test's backtrace must show are global and
// noinline, so that each stays a real frame, and each does some work after
// its calls, so that no call can become a jump (a tail call leaves no frame
// behind).

#include "types.h"
#include "param.h"
#include "x86.h"
#include "mmu.h"
#include "defs.h"

extern char boot_stack_guard[];     // kernel.ld: the unmapped page below the boot stack

volatile int bt_calls;              // the work each test function does after its calls

// Parse a hexadecimal number (an optional 0x, then digits) at *s, and
// advance *s past it.
static uint64
parse_hex(const char **s)
{
  const char *p = *s;
  uint64 n = 0;

  if (p[0] == '0' && p[1] == 'x')
    p += 2;
  for (;; p++) {
    if (*p >= '0' && *p <= '9')
      n = n * 16 + (*p - '0');
    else if (*p >= 'a' && *p <= 'f')
      n = n * 16 + (*p - 'a' + 10);
    else
      break;
  }
  *s = p;
  return n;
}

// The next number of the sequence that starts at the seed option: a 64-bit
// linear congruential step (Knuth's MMIX constants), of which the high 31
// bits are returned. The grader computes the same sequence.
uint64
seed_next(uint64 *x)
{
  *x = *x * 6364136223846793005ull + 1442695040888963407ull;
  return *x >> 33;
}

// The seed=N option, 0 if none.
uint64
selftest_seed(void)
{
  return cmdline_uint("seed");
}

//// backtrace: a chain of calls that the seed chooses ////////////////////

// The chain runs through bt_a .. bt_f (repeats allowed) in an order and to
// a length that come from the seed, and its last function panics. Each
// function's body differs (bt_calls += a different number), so that the
// compiler can't merge them into one.
#define BT_FUNCS        6           // bt_a .. bt_f
#define BT_CHAIN_MAX    8           // longest chain
#define BT_CHAIN_MIN    2           // shortest chain

void bt_a(int level);
void bt_b(int level);
void bt_c(int level);
void bt_d(int level);
void bt_e(int level);
void bt_f(int level);

static void (*const bt_funcs[BT_FUNCS])(int) = { bt_a, bt_b, bt_c, bt_d, bt_e, bt_f };
static const char *const bt_names[BT_FUNCS] = { "bt_a", "bt_b", "bt_c", "bt_d", "bt_e", "bt_f" };
static int bt_chain[BT_CHAIN_MAX];  // the function called at level i + 1: index into bt_funcs
static int bt_levels;               // the chain's length

// The end of level level of the chain: call the next function, or panic
// after the last. A macro rather than an inline function, so that GDB too
// sees its calls as made by each bt_ function itself.
#define BT_NEXT(level)                                                  \
  do {                                                                  \
    if ((level) == bt_levels)                                           \
      panic("selftest: backtrace from %s, %d calls deep",               \
            bt_names[bt_chain[(level) - 1]], (level));                  \
    bt_funcs[bt_chain[(level)]]((level) + 1);                           \
  } while (0)

__attribute__((noinline)) void bt_a(int level) { bt_calls += 1; BT_NEXT(level); bt_calls += 1; }
__attribute__((noinline)) void bt_b(int level) { bt_calls += 2; BT_NEXT(level); bt_calls += 2; }
__attribute__((noinline)) void bt_c(int level) { bt_calls += 3; BT_NEXT(level); bt_calls += 3; }
__attribute__((noinline)) void bt_d(int level) { bt_calls += 4; BT_NEXT(level); bt_calls += 4; }
__attribute__((noinline)) void bt_e(int level) { bt_calls += 5; BT_NEXT(level); bt_calls += 5; }
__attribute__((noinline)) void bt_f(int level) { bt_calls += 6; BT_NEXT(level); bt_calls += 6; }

// Choose the chain from the seed, say what it is, and run it.
__attribute__((noinline)) void
bt_test(void)
{
  uint64 x = selftest_seed();

  bt_levels = BT_CHAIN_MIN + seed_next(&x) % (BT_CHAIN_MAX - BT_CHAIN_MIN + 1);
  printf("bt_test: main -> selftest_run -> bt_test");
  for (int i = 0; i < bt_levels; i++) {
    bt_chain[i] = seed_next(&x) % BT_FUNCS;
    printf(" -> %s", bt_names[bt_chain[i]]);
  }
  printf(" -> panic\n");
  bt_funcs[bt_chain[0]](1);
  bt_calls++;
}
SELFTEST(backtrace, bt_test);

//// bt_corrupt and bt_cycle: broken frame chains /////////////////////////

static volatile uint64 bt_garbage;  // what bt_corrupt_frame writes over its saved %rbp
static volatile int bt_by_panic;    // then: 1 panic, 0 call backtrace() itself

// Overwrite this frame's saved %rbp with bt_garbage, show the backtrace
// (through panic, or directly), and put the saved %rbp back.
__attribute__((noinline)) void
bt_corrupt_frame(void)
{
  uint64 *frame = __builtin_frame_address(0);
  uint64 saved = frame[0], lo, hi;

  stack_bounds(rrsp(), &lo, &hi);
  frame[0] = bt_garbage;
  if (bt_by_panic)
    panic("selftest: bt_corrupt: a saved rbp is %p", (void *)bt_garbage);
  backtrace((uint64)frame, lo, hi);
  frame[0] = saved;
  bt_calls++;
}

// Backtraces through a frame whose saved %rbp is garbage of each kind the
// seed varies, the last one through panic: each must stop at the garbage.
__attribute__((noinline)) void
bt_corrupt_test(void)
{
  uint64 x = selftest_seed(), lo, hi;
  uint64 mine = (uint64)__builtin_frame_address(0);

  stack_bounds(rrsp(), &lo, &hi);
  const struct {
    const char *what;
    uint64 rbp;
  } cases[] = {
    { "non-canonical", (1ull << 47) | (seed_next(&x) % (1u << 24)) << 3 },
    { "in low memory", 0x1000 + seed_next(&x) % 512 * 8 },
    { "above the stack", hi + seed_next(&x) % 64 * 8 },
    { "misaligned", mine + 1 + seed_next(&x) % 7 },
    { "in the guard page below the stack", (uint64)boot_stack_guard + seed_next(&x) % 512 * 8 },
  };

  for (uint64 i = 0; i < NELEM(cases); i++) {
    printf("bt_corrupt: saved rbp <- %p (%s)\n", (void *)cases[i].rbp, cases[i].what);
    bt_garbage = cases[i].rbp;
    bt_by_panic = (i == NELEM(cases) - 1);
    bt_corrupt_frame();
  }
  bt_calls++;
}
SELFTEST(bt_corrupt, bt_corrupt_test);

// A frame whose saved %rbp points at itself.
__attribute__((noinline)) void
bt_cycle_self(void)
{
  uint64 *frame = __builtin_frame_address(0);
  uint64 saved = frame[0], lo, hi;

  stack_bounds(rrsp(), &lo, &hi);
  printf("bt_cycle: saved rbp <- %p (its own frame)\n", (void *)frame);
  frame[0] = (uint64)frame;
  if (bt_by_panic)
    panic("selftest: bt_cycle: a frame points at itself");
  backtrace((uint64)frame, lo, hi);
  frame[0] = saved;
  bt_calls++;
}

// Point outer's saved %rbp at this (lower) frame: outer -> inner -> outer.
__attribute__((noinline)) void
bt_cycle_inner(uint64 *outer)
{
  uint64 *frame = __builtin_frame_address(0);
  uint64 saved = outer[0], lo, hi;

  stack_bounds(rrsp(), &lo, &hi);
  printf("bt_cycle: saved rbp <- %p (a lower frame)\n", (void *)frame);
  outer[0] = (uint64)frame;
  if (bt_by_panic)
    panic("selftest: bt_cycle: a frame points down the stack");
  backtrace((uint64)frame, lo, hi);
  outer[0] = saved;
  bt_calls++;
}

__attribute__((noinline)) void
bt_cycle_outer(void)
{
  bt_cycle_inner(__builtin_frame_address(0));
  bt_calls++;
}

// Backtraces through chains that loop: each must stop where the chain
// turns back down, the last one through panic.
__attribute__((noinline)) void
bt_cycle_test(void)
{
  bt_by_panic = 0;
  bt_cycle_self();
  bt_cycle_outer();
  bt_by_panic = 1;
  bt_cycle_outer();
  bt_calls++;
}
SELFTEST(bt_cycle, bt_cycle_test);

//// bt_deep: more frames than a backtrace shows //////////////////////////

// n calls deeper, then panic (if bt_by_panic says so: the compiler would
// rightly object to a recursion that can't return).
__attribute__((noinline)) void
bt_deep(int n)
{
  bt_calls++;
  if (n == 0) {
    if (bt_by_panic)
      panic("selftest: bt_deep at the bottom");
    return;
  }
  bt_deep(n - 1);
  bt_calls++;
}

// Recurse deeper than BACKTRACE_DEPTH (how much deeper: the seed), then
// panic: the backtrace must show BACKTRACE_DEPTH frames and say it stopped.
__attribute__((noinline)) void
bt_deep_test(void)
{
  uint64 x = selftest_seed();
  int depth = BACKTRACE_DEPTH + seed_next(&x) % 16;

  printf("bt_deep: %d calls deep, BACKTRACE_DEPTH is %d\n", depth + 1, BACKTRACE_DEPTH);
  bt_by_panic = 1;
  bt_deep(depth);
  bt_calls++;
}
SELFTEST(bt_deep, bt_deep_test);

//// ksym_lookup: addresses the grader chose //////////////////////////////

// Look up each address of the addrs option (hexadecimal, separated by
// ':') and print what ksym_lookup returned.
static void
ksym_test(void)
{
  const char *p = cmdline_get("addrs");

  while (p && *p) {
    uint64 addr = parse_hex(&p), offset = 0;
    const char *name = ksym_lookup(addr, &offset);
    if (name)
      printf("ksym_lookup: %p -> %s+0x%lx\n", (void *)addr, name, offset);
    else
      printf("ksym_lookup: %p -> NULL\n", (void *)addr);
    if (*p != ':')
      break;
    p++;
  }
  printf("ksym_lookup: done\n");
}
SELFTEST(ksym_lookup, ksym_test);

//// printf ////////////////////////////////////////////////////////////////

// Read through a volatile so the compiler can't object to printing NULL.
static const char *volatile null_string = NULL;

// Fixed edge cases, then numbers made from the seed option, so that the
// grader can check values it chose itself.
static void
printf_test(void)
{
  uint64 x = selftest_seed();

  printf("printf: d [%d] [%d] [%d] [%i] [%d]\n", 42, -42, 0, 2147483647, -2147483647 - 1);
  printf("printf: u [%u] [%lu] [%u]\n", 4294967295u, 18446744073709551615ul, 0u);
  printf("printf: x [%x] [%lx] [%x] [%llx]\n", 0xffffffffu, 0xdeadbeefcafeul, 0u, 0x1234abcdull);
  printf("printf: ld [%ld] [%ld] [%lld]\n", -9223372036854775807l - 1,
         9223372036854775807l, -1ll);
  printf("printf: width [%4d] [%04d] [%08x] [%4d] [%2d]\n", 7, -7, 42u, -7, 12345);
  printf("printf: s [%s] [%s] [%6s] c [%c] pct [%%]\n", "kestrel", null_string, "ok", 'K');
  printf("printf: p [%p] [%p]\n", (void *)0xffffffff80100000ull, (void *)0);
  seed_next(&x);
  printf("printf: seed [%lu] [%lx] [%ld] [%d] [%x]\n", x, x, (int64)x, (int32)x, (uint32)x);
  printf("printf: done\n");
}
SELFTEST(printf, printf_test);

// The accelerator probe (tools/probe-accel.py boots it under TCG and KVM
// and times it): run what this lab's kernel needs from the CPU, each thing
// that a nested KVM has been seen to get wrong: stac/clac where SMAP is on,
// timer interrupts, and from lab 4 a user process that makes a system
// call (syscall/sysret) and exits. QEMU ends with the power-off, status 0
// from the kernel's side; a panic or a wrong exit status is a failed probe.
static void
probe_test(void)
{
#if LAB >= 2
  if (rcr4() & CR4_SMAP) {
    stac();
    clac();
  }
#endif
#if LAB >= 3
  for (uint64 i = 0; i < 2; i++)
    wait_for_interrupt();       // returns only once an interrupt (the timer) came
#endif
  printf("selftest: probe ok\n");
#if LAB >= 4
  if (userinit("probe") == 0)
    scheduler();        // user/probe.c; its exit powers off
#endif
}
SELFTEST(probe, probe_test);

extern const struct selftest selftests_start[], selftests_end[];  // kernel.ld

int selftest_running;

void
selftest_run(const char *name)
{
  const struct selftest *t;

  selftest_running = 1;
  for (t = selftests_start; t < selftests_end; t++) {
    if (strcmp(t->name, name) == 0) {
      printf("selftest: %s\n", name);
      t->run();
      return;
    }
  }
  printf("selftest: no test named '%s'; known:", name);
  for (t = selftests_start; t < selftests_end; t++)
    printf(" %s", t->name);
  printf("\n");
}
