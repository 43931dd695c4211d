// Lab 5's self-tests: what the kernel learned about the machine's CPUs
// and interrupt routing.
//
// test=acpi prints what acpi_init found and what ioapic_init programmed,
// one fact a line, for the grader (grade/lab5.py) to compare with the
// machine QEMU was told to build (-smp N: N CPUs, APIC IDs 0..N-1; the
// pc machine's I/O APIC at 0xfec00000 with 24 pins; its ISA overrides):
//
//   acpitest: tables rsdp 0x... XSDT|RSDT 0x... madt 0x...   (0: not found)
//   acpitest: ncpu N (NCPU M)
//   acpitest: cpu I apic A          (I = 0 is the boot CPU: lapic_id())
//   acpitest: ioapic I id D at 0xADDR gsi base G
//   acpitest: irq Q -> gsi G edge|level active-high|active-low   (Q = 0..15)
//   acpitest: gsi G entry 0x...     (each pin's redirection entry, from GSI 0)
//   acpitest: pins P
//   acpitest: done
//
// Nothing here changes the hardware: the test only reads.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "defs.h"

#define ISA_IRQS        16

// Where the tables were, and whether the root is an XSDT or an RSDT (its
// signature, which acpi.c checked).
static void
print_tables(void)
{
  const char *root = acpi_root ? KADDR(acpi_root) : "root";

  printf("acpitest: tables rsdp 0x%lx %c%c%c%c 0x%lx madt 0x%lx\n", acpi_rsdp, root[0],
         root[1], root[2], root[3], acpi_root, acpi_madt);
}

// Each ISA IRQ: its GSI, polarity and trigger mode.
static void
print_irqs(void)
{
  for (int irq = 0; irq < ISA_IRQS; irq++) {
    int low, level;
    uint32 gsi = acpi_irq_to_gsi(irq, &low, &level);
    printf("acpitest: irq %d -> gsi %u %s %s\n", irq, gsi, level ? "level" : "edge",
           low ? "active-low" : "active-high");
  }
}

// The redirection entry of every GSI that has a pin, from 0, and how many
// pins there are.
static void
print_pins(void)
{
  uint64 entry;
  uint32 gsi;

  for (gsi = 0; ioapic_entry(gsi, &entry) == 0; gsi++)
    printf("acpitest: gsi %u entry 0x%016lx\n", gsi, entry);
  printf("acpitest: pins %u\n", gsi);
}

static void
acpi_test(void)
{
  print_tables();
  printf("acpitest: ncpu %d (NCPU %d)\n", ncpu, NCPU);
  for (int i = 0; i < ncpu; i++)
    printf("acpitest: cpu %d apic %d%s\n", i, cpu_apicid[i],
           cpu_apicid[i] == lapic_id() ? " (boot)" : "");
  for (int i = 0; i < nioapic; i++)
    printf("acpitest: ioapic %d id %d at 0x%x gsi base %u\n", i, ioapics[i].id,
           ioapics[i].addr, ioapics[i].gsibase);
  print_irqs();
  print_pins();
  printf("acpitest: done\n");
}
SELFTEST(acpi, acpi_test);
