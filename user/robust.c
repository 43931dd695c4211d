// robust CASE [SEED]: ways a user program once stopped the whole kernel,
// each kept as a regression test.
//
//   hang SEED   child 1 yields, then dies of a page fault at address
//               r0 % 4096 (page 0: never mapped); child 2 sleeps 1 + r1 % 8
//               ticks and exits with status r1 % 100 (r0, r1: the first
//               draws of the kernel's LCG, seed_next as in
//               kern/test/selftest.c, x = SEED). The parent waits for both.
//               The kernel once reached its scheduler with interrupts off
//               after child 1's death and carried that into child 2,
//               whose sleep then waited forever for a timer tick.
//   compat      far return into the GDT slot that sysret's selector
//               arithmetic needs for 32-bit user code (SEG_UCODE32), then
//               syscall: on AMD CPUs (and QEMU's TCG) a syscall from
//               32-bit code enters the kernel at MSR_CSTAR, once never set.
//               The slot is null now: the far return itself must fault,
//               and only this process dies. Run it as init: no fork needed.
//   fpu SEED    MXCSR and the x87 control word are process state: the
//               parent sets a seeded rounding mode (RC = 1 + r0 % 3 in both:
//               never 0, the default, which a fork that drops the state keeps)
//               and forks; child A checks it inherited them, unmasks
//               divide-by-zero, yields and exits 0; child B execs
//               `robust fpuinit`, which must start from the default state.
//               The parent then checks its own are unchanged and divides by
//               zero, which with the exception masked gives infinity (once,
//               child A's MXCSR leaked into it: #XM killed it).
//
// Output: "robust: CASE: ..." lines; "robust: CASE: ok" and exit 0, or
// "robust: CASE: FAILED: ..." and exit 1. compat ends with its own death.

#include "kernel/types.h"
#include "kern/mmu.h"
#include "user/user.h"

#define MXCSR_DEFAULT   0x1F80  // all exceptions masked, round to nearest
#define MXCSR_ZM        0x0200  // divide-by-zero masked
#define MXCSR_RC_SHIFT  13      // rounding control, 2 bits
#define FCW_DEFAULT     0x037F
#define FCW_RC_SHIFT    10

static int
failed(const char *what)
{
  printf("robust: %s: FAILED\n", what);
  return 1;
}

static int
hang(uint64 seed)
{
  uint64 x = seed, r0 = seed_next(&x), r1 = seed_next(&x);
  int status1 = 0, status2 = 0;
  int pid1 = fork();

  if (pid1 == 0) {
    yield();
    *(volatile int *)(r0 % 4096) = 1;
    exit(1);
  }
  int pid2 = fork();
  if (pid2 == 0) {
    sleep(1 + r1 % 8);
    exit(r1 % 100);
  }
  int w1 = wait(&status1), w2 = wait(&status2);
  if (w1 == pid2) {                     // the order they ended in is the kernel's
    int t = status1;
    status1 = status2, status2 = t;
  }
  printf("robust: hang: child %d status %d, child %d status %d\n", pid1, status1, pid2,
         status2);
  if (pid1 <= 0 || pid2 <= 0 || (w1 != pid1 && w1 != pid2) || (w2 != pid1 && w2 != pid2) ||
      w1 == w2 || status1 != -1 || status2 != (int)(r1 % 100))
    return failed("hang");
  printf("robust: hang: ok\n");
  return 0;
}

// A far jump through a pointer in memory (32-bit offset, then selector:
// the form every x86-64 CPU has), to the syscall below with %cs =
// SEG_UCODE32: the null slot, a #GP. (Not a far return: QEMU's TCG pops
// its stack as a supervisor access, which SMAP refuses with a page fault.)
static void
compat(void)
{
  static struct {
    uint32 offset;
    uint16 selector;
  } __attribute__((packed)) target;
  extern char compat_syscall[];

  target.offset = (uint32)(uint64)compat_syscall;
  target.selector = SEG_UCODE32 | DPL_USER;
  printf("robust: compat: far jump to selector 0x%x\n", target.selector);
  asm volatile(".globl compat_ljmp\n"
               "compat_ljmp: ljmpl *%0\n"
               ".globl compat_syscall\n"
               "compat_syscall: syscall\n"     // the same bytes in 32-bit code
               : : "m"(target) : "rcx", "r11", "memory");
  printf("robust: compat: FAILED: back from 32-bit code\n");
  exit(1);
}

static uint32
get_mxcsr(void)
{
  uint32 v;
  asm volatile("stmxcsr %0" : "=m"(v));
  return v;
}

static void
set_mxcsr(uint32 v)
{
  asm volatile("ldmxcsr %0" : : "m"(v));
}

static uint16
get_fcw(void)
{
  uint16 v;
  asm volatile("fnstcw %0" : "=m"(v));
  return v;
}

static void
set_fcw(uint16 v)
{
  asm volatile("fldcw %0" : : "m"(v));
}

static int
fpuinit(void)
{
  uint32 mxcsr = get_mxcsr();
  uint16 fcw = get_fcw();

  printf("robust: fpuinit: mxcsr 0x%x fcw 0x%x\n", mxcsr, fcw);
  return mxcsr != MXCSR_DEFAULT || fcw != FCW_DEFAULT;
}

static int
fpu(uint64 seed)
{
  uint64 x = seed, rc = 1 + seed_next(&x) % 3;      // never 0, the default: it must show
  uint32 mxcsr = MXCSR_DEFAULT | rc << MXCSR_RC_SHIFT;
  uint16 fcw = FCW_DEFAULT | rc << FCW_RC_SHIFT;
  int status = 0, bad = 0;

  set_mxcsr(mxcsr);
  set_fcw(fcw);
  printf("robust: fpu: parent mxcsr 0x%x fcw 0x%x\n", mxcsr, fcw);
  int pid = fork();
  if (pid == 0) {
    int same = get_mxcsr() == mxcsr && get_fcw() == fcw;
    set_mxcsr(mxcsr & ~MXCSR_ZM);
    yield();
    exit(same ? 0 : 1);
  }
  bad |= pid < 0 || wait(&status) != pid || status != 0;
  if (fork() == 0) {
    char *argv[] = { "robust", "fpuinit", 0 };
    exec("robust", argv);
    exit(2);
  }
  bad |= wait(&status) < 0 || status != 0;
  volatile double zero = 0.0;
  double inf = 1.0 / zero;
  printf("robust: fpu: parent mxcsr 0x%x fcw 0x%x after, 1/0 %s\n", get_mxcsr() & ~0x3f,
         get_fcw(), inf > 1e308 ? "inf" : "not inf");
  if (bad || (get_mxcsr() & ~0x3f) != mxcsr || get_fcw() != fcw)
    return failed("fpu");
  printf("robust: fpu: ok\n");
  return 0;
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 2 ? atoi(argv[2]) : 0;

  if (argc > 1 && strcmp(argv[1], "hang") == 0)
    exit(hang(seed));
  if (argc > 1 && strcmp(argv[1], "compat") == 0)
    compat();
  if (argc > 1 && strcmp(argv[1], "fpu") == 0)
    exit(fpu(seed));
  if (argc > 1 && strcmp(argv[1], "fpuinit") == 0)
    exit(fpuinit());
  printf("usage: robust hang|compat|fpu [SEED]\n");
  exit(1);
}
