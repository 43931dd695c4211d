// Lab 3's self-tests: exceptions, the double fault, NMIs, the timer, and
// what a trap costs.
//
// Each is run with test=NAME seed=N (see selftest.c). A test that faults
// says first what it is about to do ("pagefault: write at 0x..."), and
// the fault itself happens in a function of its own (noinline), so that
// the grader (grade/lab3.py) can check the report's every field: the
// exception, the error code's bits, CR2, and that %rip is inside that
// function (nm says where it is) and the backtrace's first frame in its
// caller. Addresses come from the seed, within a region: the grader works
// out the same address, and so knows the CR2 to expect.
//
// Tests that must not fault (breakpoint, nmi, ticks, trap_bench) end
// with a line that says the kernel went on.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"

#define UNMAPPED_PAGES  0x10000     // faulting addresses: this many pages below MMIO_BASE,
                                    //   where nothing is ever mapped (memlayout.h)
#define NX_BYTES        256         // nx_target's size
#define RET_OPCODE      0xc3        // ret: what nx_target holds, should NX not stop the fetch
#define BENCH_ROUNDS    10000       // trap_bench's int $T_TEST round trips
#define BENCH_REPORTS   4           // and int3 reports
#define TICK_LINES      6           // ticks: lines printed, HZ/2 ticks apart
#define NMI_WAIT_S      30          // nmi: seconds to wait for one

CMDLINE_OPTION(kind, "pagefault test: read, write, fetch, text, nx or null");

extern char text_start[], etext[];  // kernel.ld
extern char boot_stack[], boot_stack_top[];

volatile int trap_calls;            // work after calls, so that none is a tail call
uint8 nx_target[NX_BYTES] = { RET_OPCODE };     // in .data: mapped, no execute

// A seeded address in the never-mapped pages below the MMIO window.
static uint64
unmapped_addr(uint64 *x)
{
  uint64 page = 1 + seed_next(x) % UNMAPPED_PAGES;
  return MMIO_BASE - page * PGSIZE + seed_next(x) % PGSIZE;
}

// Seconds of TSC, for tests that must not wait forever.
static uint64
tsc_after(uint64 ms)
{
  return rdtsc() + tsc_hz / 1000 * ms;
}

//// divide error, invalid opcode, general protection /////////////////////

__attribute__((noinline)) void
divide_fault(uint64 n)
{
  volatile uint64 zero = 0;
  uint64 q, r;

  asm volatile("divq %2" : "=a"(q), "=d"(r) : "r"(zero), "a"(n), "d"(0ull));
  printf("trap_divide: %lu / 0 = %lu: no divide error\n", n, q + r);
  trap_calls++;
}

static void
divide_test(void)
{
  uint64 x = selftest_seed(), n = seed_next(&x);

  printf("trap_divide: dividing %lu by zero in divide_fault\n", n);
  divide_fault(n);
  trap_calls++;
}
SELFTEST(trap_divide, divide_test);

// ud2 is the function's first byte, whatever the compiler (naked: no
// prologue), so that a backtrace through the trap shows illop_fault+0x0.
__attribute__((naked, noinline)) void
illop_fault(void)
{
  asm volatile("ud2");
}

static void
illop_test(void)
{
  printf("trap_illop: ud2 in illop_fault\n");
  illop_fault();
  trap_calls++;
}
SELFTEST(trap_illop, illop_test);

__attribute__((noinline)) void
gp_fault(uint64 addr)
{
  printf("trap_gp: read %lu: no fault\n", (uint64)*(volatile uint8 *)addr);
  trap_calls++;
}

// A read through a non-canonical address (bits 63..47 not all equal): #GP.
static void
gp_test(void)
{
  uint64 x = selftest_seed();
  uint64 addr = (1ull << 47) + (seed_next(&x) << 12) + seed_next(&x) % PGSIZE;

  printf("trap_gp: reading %p (not canonical) in gp_fault\n", (void *)addr);
  gp_fault(addr);
  trap_calls++;
}
SELFTEST(trap_gp, gp_test);

//// page faults ////////////////////////////////////////////////////////////

__attribute__((noinline)) void
pf_read(uint64 addr)
{
  printf("pagefault: read %lu: no fault\n", (uint64)*(volatile uint8 *)addr);
  trap_calls++;
}

__attribute__((noinline)) void
pf_write(uint64 addr)
{
  *(volatile uint8 *)addr = 0x90;
  printf("pagefault: wrote %p: no fault\n", (void *)addr);
  trap_calls++;
}

__attribute__((noinline)) void
pf_fetch(uint64 addr)
{
  ((void (*)(void))addr)();
  printf("pagefault: ran %p: no fault\n", (void *)addr);
  trap_calls++;
}

// kind=: what to do; the seed: where.
static void
pagefault_test(void)
{
  const char *kind = cmdline_get("kind");
  uint64 x = selftest_seed(), addr;

  if (kind == NULL)
    kind = "read";
  if (strcmp(kind, "text") == 0)
    addr = (uint64)text_start + seed_next(&x) % (uint64)(etext - text_start);
  else if (strcmp(kind, "nx") == 0)
    addr = (uint64)nx_target + seed_next(&x) % NX_BYTES;
  else if (strcmp(kind, "null") == 0)
    addr = seed_next(&x) % PGSIZE;
  else
    addr = unmapped_addr(&x);
  printf("pagefault: %s at %p\n", kind, (void *)addr);
  if (strcmp(kind, "write") == 0 || strcmp(kind, "text") == 0)
    pf_write(addr);
  else if (strcmp(kind, "fetch") == 0 || strcmp(kind, "nx") == 0)
    pf_fetch(addr);
  else
    pf_read(addr);
  trap_calls++;
}
SELFTEST(pagefault, pagefault_test);

//// breakpoint: int3 reports and comes back ////////////////////////////////

__attribute__((noinline)) void
brkpt_hit(void)
{
  asm volatile("int3");
  trap_calls++;
}

static void
breakpoint_test(void)
{
  uint64 x = selftest_seed();
  int n = 1 + seed_next(&x) % 4;

  // Where SMAP is on, the int3s come with RFLAGS.AC set, as an interrupt
  // in the middle of a copy from user memory would: the handler must run
  // with it clear all the same (the report prints both).
  int smap = (rcr4() & CR4_SMAP) != 0;
  printf("breakpoint: %d int3 in brkpt_hit%s\n", n, smap ? ", with RFLAGS.AC set" : "");
  for (int i = 0; i < n; i++) {
    if (smap)
      stac();
    brkpt_hit();
    if (smap)
      clac();
  }
  printf("breakpoint: %d int3, %lu reported, all came back\n", n, trapcount[T_BRKPT]);
}
SELFTEST(breakpoint, breakpoint_test);

//// stack overflow and a bad %rsp: double faults ///////////////////////////

static volatile int overflow_on = 1;   // read each time: the compiler can't call it endless

__attribute__((noinline)) void
overflow_recurse(uint64 n)
{
  volatile uint64 pad[16];

  pad[n % 16] = n;
  if (overflow_on)
    overflow_recurse(pad[n % 16] + 1);
  trap_calls++;
}

static void
overflow_test(void)
{
  printf("stack_overflow: recursing in overflow_recurse on the boot stack [%p, %p)\n",
         (void *)boot_stack, (void *)boot_stack_top);
  overflow_recurse(0);
  trap_calls++;
}
SELFTEST(stack_overflow, overflow_test);

// Point %rsp at addr and push: the push faults, and so does the CPU's own
// push of the page fault's frame: a double fault.
__attribute__((noinline)) void
bad_rsp_fault(uint64 addr)
{
  asm volatile("movq %0, %%rsp; pushq $0" : : "r"(addr) : "memory");
  trap_calls++;
}

static void
bad_rsp_test(void)
{
  uint64 x = selftest_seed();
  uint64 addr = unmapped_addr(&x) & ~(uint64)15;

  printf("bad_rsp: %%rsp <- %p in bad_rsp_fault\n", (void *)addr);
  bad_rsp_fault(addr);
  trap_calls++;
}
SELFTEST(bad_rsp, bad_rsp_test);

//// nmi: wait for one (the grader sends it from QEMU's monitor) ////////////

static void
nmi_test(void)
{
  uint64 before = mycpu()->nmis, deadline = tsc_after(NMI_WAIT_S * 1000);

  printf("nmi: waiting for an NMI (QEMU monitor: nmi)\n");
  while (mycpu()->nmis == before && rdtsc() < deadline)
    pause();
  if (mycpu()->nmis == before)
    panic("nmi: none came in %d s", NMI_WAIT_S);
  uint64 t = ticks;
  deadline = tsc_after(1000);
  while (ticks < t + HZ / 10 && rdtsc() < deadline)
    pause();
  printf("nmi: %lu NMI seen; the kernel goes on: %lu ticks since\n", mycpu()->nmis - before,
         ticks - t);
}
SELFTEST(nmi, nmi_test);

//// ticks: the timer's rate, for the grader to hold against its clock //////

static void
ticks_test(void)
{
  uint64 next = ticks + HZ / 2;

  printf("ticks: %lu Hz, a line every %d ticks\n", lapic_hz, HZ / 2);
  for (int line = 0; line < TICK_LINES; line++, next += HZ / 2) {
    uint64 last = ticks, deadline = tsc_after(1000);
    while (ticks < next) {
      if (ticks != last) {
        last = ticks;
        deadline = tsc_after(1000);
      } else if (rdtsc() > deadline) {
        panic("ticks: the tick counter is stuck at %lu", last);
      }
      pause();
    }
    printf("ticks: %lu\n", ticks);
  }
  printf("ticks: done\n");
}
SELFTEST(ticks, ticks_test);

//// trap_bench: what a trap costs //////////////////////////////////////////

static void
bench_test(void)
{
  uint64 count = trapcount[T_TEST], t0 = rdtsc();

  for (int i = 0; i < BENCH_ROUNDS; i++)
    asm volatile("int %0" : : "i"(T_TEST) : "memory");
  uint64 round = (rdtsc() - t0) / BENCH_ROUNDS;
  if (trapcount[T_TEST] - count != BENCH_ROUNDS)
    printf("trap_bench: trap() saw %lu of %d int $%d\n", trapcount[T_TEST] - count,
           BENCH_ROUNDS, T_TEST);
  t0 = rdtsc();
  for (int i = 0; i < BENCH_REPORTS; i++)
    brkpt_hit();
  uint64 report = (rdtsc() - t0) / BENCH_REPORTS;
  printf("trap_bench: int $%d round trip: %lu cycles (%d rounds)\n", T_TEST, round,
         BENCH_ROUNDS);
  printf("trap_bench: int3 with its report on the console: %lu cycles (%d reports); "
         "TSC %lu MHz\n", report, BENCH_REPORTS, tsc_hz / 1000000);
}
SELFTEST(trap_bench, bench_test);

//// syscall_msrs: the syscall instruction's setup //////////////////////////

static void
syscall_msrs_test(void)
{
  printf("syscall_msrs: star %p lstar %p fmask %p efer.sce %d\n", (void *)rdmsr(MSR_STAR),
         (void *)rdmsr(MSR_LSTAR), (void *)rdmsr(MSR_FMASK),
         (rdmsr(MSR_EFER) & EFER_SCE) != 0);
}
SELFTEST(syscall_msrs, syscall_msrs_test);
