// Starting the other CPUs (application processors, APs).
//
// acpi.c has found them (ncpu, cpu_apicid[]); the boot CPU is CPU 0. For
// each other one, smp_init
//   1. copies the trampoline (apentry.S) to AP_TRAMPOLINE, a page below
//      1 MiB (the STARTUP IPI can only name such a page) that kalloc
//      never hands out, and fills in its CR3, stack and cpu id;
//   2. sends the AP an INIT IPI, waits 10 ms, then a STARTUP IPI naming
//      that page, twice, 200 us apart: the "universal start-up algorithm"
//      of Intel's SDM (vol. 3A, 9.4.4.1), which a CPU that started at the
//      first STARTUP ignores the second of. The waits are timed with the
//      TSC that lapic.c calibrated, not with a guessed loop;
//   3. waits, with a deadline, until the AP says it is up, and names an AP
//      that never came.
// One AP at a time: they share the trampoline page and its variables.
//
// An AP climbs from real mode to long mode in the trampoline and calls
// ap_main on its own stack, which runs only the per-CPU halves of the
// boot: the kernel page table and the CPU features it needs (vm_init_cpu),
// the IDT, GDT, TSS, IST stacks and %gs, the local APIC and its timer
// (trap_init_cpu). The rest (the allocator, the IDT's contents, the
// timer's calibration) the boot CPU did once for all.
//
// An AP then waits, interrupts on (its timer wakes it each tick), until
// the boot CPU gives the APs their work with smp_go: main gives them the
// scheduler once the first process exists; a self-test may give them its
// own function first (and the machine powers off after the test).

// Lab 5 exercises: start_ap and ap_main.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"

extern char ap_trampoline[], ap_trampoline_end[];   // apentry.S
extern uint64 ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_cpu[];
extern char boot_pml4[];                            // entry.S: the boot page tables

// Each AP's stack (its scheduler's, later), above a guard page: smp_init
// unmaps the guard from the kernel page table, so that an AP that
// overflows its stack faults there (and the double fault's IST stack
// reports it) instead of writing over its neighbour's. (An AP runs on the
// boot page tables, without guards, only until vm_init_cpu.)
static uint8 ap_stacks[NCPU][PGSIZE + KSTACKSIZE] __attribute__((aligned(PGSIZE)));
static volatile int ap_up[NCPU];        // set by each AP once it runs the kernel
static void (*ap_work)(void);           // what the APs run, once smp_go says

// The copy's variable that corresponds to the trampoline's var. Volatile:
// the AP reads it, so the stores must all be done before the IPIs.
static volatile uint64 *
in_copy(uint64 *var)
{
  return (volatile uint64 *)((uint8 *)KADDR(AP_TRAMPOLINE) + ((char *)var - ap_trampoline));
}

// AP id's stack: its lowest address, and the address just above it.
static uint64
ap_stack_lo(int id)
{
  return (uint64)ap_stacks[id] + PGSIZE;
}

static uint64
ap_stack_top(int id)
{
  return ap_stack_lo(id) + KSTACKSIZE;
}

// Start CPU id and wait for it; 0 if it came up, -1 if not by the deadline.
static int
start_ap(int id)
{
#if SOL >= 5
  *in_copy(ap_tramp_cr3) = (uint64)boot_pml4 - KERNBASE;
  *in_copy(ap_tramp_stack) = ap_stack_top(id);
  *in_copy(ap_tramp_cpu) = id;
  lapic_send_init(cpu_apicid[id]);
  udelay(AP_INIT_WAIT_US);
  for (int i = 0; i < 2; i++) {
    lapic_send_startup(cpu_apicid[id], AP_TRAMPOLINE);
    udelay(AP_SIPI_WAIT_US);
  }
  uint64 deadline = rdtsc() + tsc_hz / 1000 * AP_START_MS;
  while (!__atomic_load_n(&ap_up[id], __ATOMIC_ACQUIRE))
    if (rdtsc() > deadline)
      return -1;
  return 0;
#else
  // LAB 5: fill in the trampoline's copy's variables (in_copy(var)): the
  // physical address of the boot page tables (boot_pml4) for CR3, the top
  // of this AP's stack (ap_stack_top) and its cpu id. Then the start-up
  // sequence of the top of this file, to APIC ID cpu_apicid[id], with
  // lapic_send_init, lapic_send_startup and udelay (param.h has the
  // waits). Then wait until ap_up[id] is set, reading it with
  // __atomic_load_n(.., __ATOMIC_ACQUIRE), but no longer than AP_START_MS
  // by the TSC (rdtsc(), tsc_hz a second): -1 if it never comes.
  (void)in_copy;
  (void)boot_pml4;
  (void)ap_stack_top;
  return -1;
#endif
}

// Start every other CPU that ACPI found (see the top).
void
smp_init(void)
{
  _Static_assert(AP_TRAMPOLINE % PGSIZE == 0 && AP_TRAMPOLINE < LOWMEM_TOP,
                 "memlayout.h: AP_TRAMPOLINE must be a page below 1 MiB");
  if (ap_trampoline_end - ap_trampoline > PGSIZE)
    panic("smp_init: the trampoline is bigger than a page");
  memmove(KADDR(AP_TRAMPOLINE), ap_trampoline, ap_trampoline_end - ap_trampoline);
  for (int id = 1; id < ncpu; id++)
    vm_unmap(vm_kernel_pml4(), (uint64)ap_stacks[id], PGSIZE);    // the guards: see above
  for (int id = 1; id < ncpu; id++) {
    if (start_ap(id) < 0) {
      printf("cpu %d (apic id %d): did not start within %d ms\n", id, cpu_apicid[id],
             AP_START_MS);
      lapic_send_init(cpu_apicid[id]);          // hold it: it must not come up later
      __atomic_store_n(&ap_up[id], 0, __ATOMIC_RELEASE);
    }
  }
}

// A panic stops every CPU (the first CPU to panic calls this): it sends
// each other CPU that is up an NMI, which no cli holds off; trapasm.S's
// NMI entry sees cpus_stopping and goes to cpu_stopped, before any C,
// where each counts itself in cpus_stopped and halts. The panicking CPU
// waits for them all (STOP_WAIT_MS at most), so that when it prints its
// last line no other CPU runs: an NMI is sent at once, but taken only
// when the CPU's next instruction starts. 0 for the CPU that is first,
// -1 for any other, which must stop quietly too.
volatile int cpus_stopping;
int cpus_stopped;

int
smp_stop_others(void)
{
  if (__atomic_exchange_n(&cpus_stopping, 1, __ATOMIC_ACQ_REL) != 0)
    return -1;
  int self = mycpu()->id, others = 0;
  for (int id = 0; id < ncpu; id++) {
    if (id != self && cpu_is_up(id)) {
      lapic_send_nmi(cpu_apicid[id]);
      others++;
    }
  }
  uint64 deadline = rdtsc() + tsc_hz / 1000 * STOP_WAIT_MS;
  while (__atomic_load_n(&cpus_stopped, __ATOMIC_ACQUIRE) < others && rdtsc() < deadline)
    pause();
  return 0;
}

// Which AP's boot stack holds sp (its scheduler runs there): sets
// [*lo, *hi) to its bounds and returns 1, or returns 0. (backtrace.c)
int
apstack_of(uint64 sp, uint64 *lo, uint64 *hi)
{
  for (int id = 1; id < NCPU; id++) {
    if (sp >= ap_stack_lo(id) && sp <= ap_stack_top(id)) {
      *lo = ap_stack_lo(id);
      *hi = ap_stack_top(id);
      return 1;
    }
  }
  return 0;
}

// Is CPU id running the kernel (the boot CPU, or an AP that came up)?
int
cpu_is_up(int id)
{
  return id == 0 || (id < ncpu && __atomic_load_n(&ap_up[id], __ATOMIC_ACQUIRE));
}

// How many CPUs run: the boot CPU and the APs that came up.
int
smp_running(void)
{
  int n = 1;

  for (int id = 1; id < ncpu; id++)
    n += cpu_is_up(id);
  return n;
}

// Have every AP that is up call fn (once; fn does not return: scheduler).
void
smp_go(void (*fn)(void))
{
  __atomic_store_n(&ap_work, fn, __ATOMIC_RELEASE);
}

// An AP's first C code, on its own stack, with the boot page tables. The
// APIC ID it prints is read from its own local APIC: the proof that this
// CPU, and not the boot CPU for it, runs here.
void
ap_main(uint64 id)
{
#if SOL >= 5
  void (*work)(void);

  cpu_early(id);        // first: printf takes a lock, and locks read %gs
  vm_init_cpu();
  trap_init_cpu(id);
  printf("cpu %lu: up (apic id %d)\n", id, lapic_id());
  __atomic_store_n(&ap_up[id], 1, __ATOMIC_RELEASE);
  while ((work = __atomic_load_n(&ap_work, __ATOMIC_ACQUIRE)) == NULL)
    wait_for_interrupt();
  work();
  panic("ap_main: cpu %lu's work returned", id);
#else
  // LAB 5: %gs first (cpu_early), then this CPU's half of the setup
  // (vm_init_cpu, trap_init_cpu), then "cpu ID: up (apic id A)" with A
  // read from this CPU's own local APIC (lapic_id), then ap_up[id] set
  // with a release store. Then wait, with wait_for_interrupt(), until
  // ap_work is set (an acquire load) and call it: it does not return.
  (void)id;
  for (;;)
    hlt();
#endif
}
