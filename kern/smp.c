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

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"

#define AP_START_MS     1000    // how long the boot CPU waits for an AP

extern char ap_trampoline[], ap_trampoline_end[];   // apentry.S
extern uint64 ap_tramp_cr3[], ap_tramp_stack[], ap_tramp_cpu[];
extern char boot_pml4[];                            // entry.S: the boot page tables

static uint8 ap_stacks[NCPU][KSTACKSIZE] __attribute__((aligned(PGSIZE)));
static volatile int ap_up[NCPU];        // set by each AP once it runs the kernel
static void (*ap_work)(void);           // what the APs run, once smp_go says

// The copy's variable that corresponds to the trampoline's var.
static uint64 *
in_copy(uint64 *var)
{
  return (uint64 *)((uint8 *)KADDR(AP_TRAMPOLINE) + ((char *)var - ap_trampoline));
}

// Start CPU id and wait for it; 0 if it came up, -1 if not by the deadline.
static int
start_ap(int id)
{
  *in_copy(ap_tramp_cr3) = (uint64)boot_pml4 - KERNBASE;
  *in_copy(ap_tramp_stack) = (uint64)ap_stacks[id] + KSTACKSIZE;
  *in_copy(ap_tramp_cpu) = id;
  lapic_start_ap(cpu_apicid[id], AP_TRAMPOLINE);
  uint64 deadline = rdtsc() + tsc_hz / 1000 * AP_START_MS;
  while (!ap_up[id])
    if (rdtsc() > deadline)
      return -1;
  return 0;
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
    if (start_ap(id) < 0)
      printf("cpu %d (apic id %d): did not start within %d ms\n", id, cpu_apicid[id],
             AP_START_MS);
}

// A panic stops every CPU (the first CPU to panic calls this): it sends
// the others an NMI, which no cli holds off; trapasm.S's NMI entry sees
// cpus_stopping and halts there, before any C. 0 for the CPU that is
// first, -1 for any other, which must stop quietly too.
volatile int cpus_stopping;

int
smp_stop_others(void)
{
  if (__atomic_exchange_n(&cpus_stopping, 1, __ATOMIC_ACQ_REL) != 0)
    return -1;
  if (ncpu > 1)
    lapic_nmi_others();
  return 0;
}

// How many CPUs run: the boot CPU and the APs that came up.
int
smp_running(void)
{
  int n = 1;

  for (int id = 1; id < ncpu; id++)
    n += __atomic_load_n(&ap_up[id], __ATOMIC_ACQUIRE);
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
}
