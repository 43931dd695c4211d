// The kernel's C entry point: bring up each subsystem in order.
//
// entry.S calls main() on the boot stack, in 64-bit long mode, at a
// KERNBASE address, with interrupts off. Each lab adds lines here; the
// order matters because later subsystems use earlier ones (everything
// prints, so the console comes first).

#include "types.h"
#include "x86.h"
#include "mmu.h"
#include "param.h"
#include "defs.h"

#define MIB (1024 * 1024)

static const char *
cpu_mode(void)
{
  // EFER.LMA is set by the CPU itself when long mode is active, and our
  // code segment is a 64-bit one (entry.S), so we run 64-bit code.
  return (rdmsr(MSR_EFER) & EFER_LMA) ? "64-bit long mode" : "legacy mode (long mode is off!)";
}

// Turn the machine off, as far as a kernel can: QEMU's isa-debug-exit
// device (the Makefile adds it) ends QEMU with status (v << 1) | 1; on a
// machine without it, stop here.
void
poweroff(int status)
{
  printf("kestrel: power off\n");
  outb(DEBUG_EXIT_PORT, status == 0 ? 0 : 1);
  halt_forever();
}

static void
nothing_to_do(void)
{
  printf("kestrel: nothing more to do; halting\n");
  halt_forever();
}

void
main(void)
{
#if LAB >= 5
  cpu_early(0);         // %gs first: spinlocks need it, and printf takes one
#endif
  uart_init();
  printf("\nkestrel: an x86-64 teaching kernel\n");
  cmdline_init();
  e820_print();
  printf("kestrel: running in %s, %lu MiB usable memory (e820)\n", cpu_mode(),
         e820_usable_bytes() / MIB);
#if LAB >= 2
  mem_init();
#endif
#if LAB >= 3
  trap_init();
#endif
#if LAB >= 5
  acpi_init();
  ioapic_init();
  smp_init();
#endif

  // A self-test powers the machine off when it ends (a panic does too), so
  // whoever runs it, the grader above all, never waits to learn it is done.
  const char *test = cmdline_get("test");
  if (test) {
    selftest_run(test);
    poweroff(0);
  }
#if LAB >= 7
  // The devices, for processes (after the self-tests, which count every
  // free page: the buffer cache takes NBUF).
  console_init();
  tty_init();
  uart_intr_on();       // typed input and output through the UART's interrupts
  binit();
  ide_init();
#endif
#if LAB >= 4
  if (userinit(cmdline_get("init")) < 0)
    nothing_to_do();
#endif
#if LAB >= 5
  smp_go(scheduler);    // the other CPUs run processes too
#endif
#if LAB >= 4
  scheduler();          // runs the processes; never returns
#endif
  nothing_to_do();
}
