// The I/O APIC: where device interrupts enter, and which CPU and vector
// each one goes to.
//
// A PC's devices raise interrupts on the I/O APIC's pins (ISA IRQ n on
// the pin of global system interrupt n, unless the MADT overrides it:
// acpi.c), and for each pin a redirection entry says what to do with it:
// send vector V to the local APIC whose ID is D, or nothing while its mask
// bit is set. The 8259 PICs are wired to the same lines; lapic.c masks
// them, so the I/O APIC alone delivers device interrupts from lab 5 on.
//
// Its registers hide behind two memory-mapped words (Intel 82093AA I/O
// APIC datasheet): the kernel writes a register's index to IOREGSEL, then
// reads or writes the register in IOWIN. Registers are 32 bits wide; a
// redirection entry is 64 bits, two registers (IOREDTBL + 2 * pin is its
// low half). The registers' page (an I/O APIC sits on any 1 KiB boundary)
// is mapped uncached at MMIO_IOAPIC (memlayout.h), as lapic.c maps the
// local APIC's.
//
// ioapic_init (once, after acpi_init) uses the I/O APIC whose first GSI is
// 0, the one the ISA IRQs arrive at; any other that the MADT lists is left
// as the firmware left it (a reset masks every entry). It reads how many
// pins it has, masks them all, then routes COM1's IRQ 4 to T_SERIAL on
// the boot CPU. Until lab 7 nothing arrives there: the UART raises its
// IRQ only for the events its IER enables, and uart_init leaves IER 0
// (lab 7 sets it, and handles T_SERIAL in trap()). Should one come anyway,
// trap() reports the unknown vector and panics: loud, as it should be.
//
// ioapic_route(irq, vector, apicid) programs ISA IRQ irq's pin, unmasked:
// fixed delivery of vector to the CPU whose local APIC ID is apicid
// (physical destination mode), with the polarity and trigger mode the
// MADT gives (ISA's own, edge and active-high, if it gives none).
// IOREGSEL and IOWIN are one pair for the whole I/O APIC: two CPUs using
// them at once would mix their writes. Today only the boot CPU calls
// these functions, before the others start; a caller on several CPUs must
// hold a lock around them.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "trap.h"
#include "defs.h"

// The two memory-mapped words: byte offsets from the I/O APIC's address.
#define IOREGSEL        0x00        // the index of the register IOWIN shows
#define IOWIN           0x10        // that register
#define IOAPIC_BYTES    0x20        // what the kernel uses of its space

// Registers, by index.
#define IOAPICID        0x00        // bits 24..27: its ID
#define IOAPICVER       0x01        // bits 16..23: the last entry's index (pins - 1)
#define IOREDTBL        0x10        // entry n: registers IOREDTBL + 2n (low), + 2n + 1 (high)

// A redirection entry's low half (its high half: the destination in bits 24..31).
#define RED_FIXED       0x00000     // delivery mode (bits 8..10): fixed, to the destination
#define RED_PHYSICAL    0x00000     // bit 11 clear: the destination is one local APIC ID
#define RED_ACTIVE_LOW  0x02000     // bit 13: polarity
#define RED_LEVEL       0x08000     // bit 15: trigger mode, level (else edge)
#define RED_MASKED      0x10000     // bit 16: nothing delivered
#define RED_DEST_SHIFT  24          // the destination's place in the high half
#define VECTOR_MAX      254         // the highest vector an entry may name (255: spurious)

_Static_assert(MMIO_IOAPIC + PGSIZE <= ISTSTACKS_BASE, "memlayout.h: MMIO_IOAPIC is not free");

static volatile uint32 *regs;       // its registers, once mapped (NULL: no I/O APIC)
static uint32 gsibase;              // the GSI of its pin 0
static int npins;

static uint32
ioapic_read(uint32 reg)
{
  regs[IOREGSEL / 4] = reg;
  return regs[IOWIN / 4];
}

static void
ioapic_write(uint32 reg, uint32 val)
{
  regs[IOREGSEL / 4] = reg;
  regs[IOWIN / 4] = val;
}

// Set pin's entry to lo (low half) and hi (high half). It is masked while
// it changes, so that no interrupt goes out half-programmed.
static void
set_entry(int pin, uint32 lo, uint32 hi)
{
  ioapic_write(IOREDTBL + 2 * pin, RED_MASKED);
  ioapic_write(IOREDTBL + 2 * pin + 1, hi);
  ioapic_write(IOREDTBL + 2 * pin, lo);
}

// The I/O APIC that ISA IRQs arrive at (first GSI 0), or NULL.
static struct acpi_ioapic *
isa_ioapic(void)
{
  for (int i = 0; i < nioapic; i++)
    if (ioapics[i].gsibase == 0)
      return &ioapics[i];
  return NULL;
}

// Map io's registers at MMIO_IOAPIC; 0, or -1 with a line saying why not.
static int
ioapic_map(struct acpi_ioapic *io)
{
  uint64 page = io->addr & ~(uint64)(PGSIZE - 1), off = io->addr - page;

  if (off + IOAPIC_BYTES > PGSIZE) {
    printf("ioapic: registers at 0x%x cross a page boundary: not used, no device interrupts\n",
           io->addr);
    return -1;
  }
  if (kvm_map(MMIO_IOAPIC, page, PGSIZE, PTE_W | PTE_PCD | PTE_PWT) < 0)
    panic("ioapic_init: cannot map the I/O APIC");
  regs = (volatile uint32 *)(MMIO_IOAPIC + off);
  return 0;
}

// Once, after acpi_init: map the ISA I/O APIC, mask every pin, and route
// COM1's IRQ to T_SERIAL on the boot CPU (see the top).
void
ioapic_init(void)
{
  struct acpi_ioapic *io = isa_ioapic();
  int low, level;

  if (io == NULL) {
    printf("ioapic: none known for ISA interrupts (GSI base 0): no device interrupts\n");
    return;
  }
  if (ioapic_map(io) < 0)
    return;
  gsibase = io->gsibase;
  npins = ((ioapic_read(IOAPICVER) >> 16) & 0xff) + 1;
  for (int pin = 0; pin < npins; pin++)
    set_entry(pin, RED_MASKED, 0);
  if (ioapic_route(IRQ_COM1, T_SERIAL, cpu_apicid[0]) < 0) {
    printf("ioapic: id %u at 0x%x, %d pins, all masked (irq %d has no pin)\n",
           ioapic_read(IOAPICID) >> 24, io->addr, npins, IRQ_COM1);
    return;
  }
  printf("ioapic: id %u at 0x%x, %d pins, all masked but irq %d (gsi %u) -> vector %d on apic %d\n",
         ioapic_read(IOAPICID) >> 24, io->addr, npins, IRQ_COM1,
         acpi_irq_to_gsi(IRQ_COM1, &low, &level), T_SERIAL, cpu_apicid[0]);
}

// Send ISA IRQ irq (its GSI, polarity and trigger mode from acpi.c) as
// vector to the CPU whose local APIC ID is apicid, unmasked. Returns 0,
// or -1 if there is no I/O APIC or no pin for its GSI.
int
ioapic_route(int irq, int vector, int apicid)
{
  int low, level;
  uint32 gsi = acpi_irq_to_gsi(irq, &low, &level);

  if (vector < T_NEXCEPT || vector > VECTOR_MAX)
    panic("ioapic_route: vector %d for irq %d is not a device's", vector, irq);
  if (regs == NULL || gsi < gsibase || gsi - gsibase >= (uint32)npins)
    return -1;
  uint32 lo = vector | RED_FIXED | RED_PHYSICAL;
  lo |= (low ? RED_ACTIVE_LOW : 0) | (level ? RED_LEVEL : 0);
  set_entry(gsi - gsibase, lo, (uint32)apicid << RED_DEST_SHIFT);
  return 0;
}

// The redirection entry of gsi's pin, whole, in *entry: 0, or -1 if there
// is no I/O APIC or no pin for gsi. (For self-tests and debugging.)
int
ioapic_entry(uint32 gsi, uint64 *entry)
{
  if (regs == NULL || gsi < gsibase || gsi - gsibase >= (uint32)npins)
    return -1;
  uint32 pin = gsi - gsibase;
  *entry = (uint64)ioapic_read(IOREDTBL + 2 * pin + 1) << 32 | ioapic_read(IOREDTBL + 2 * pin);
  return 0;
}
