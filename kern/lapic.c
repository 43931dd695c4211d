// Interrupt controllers and the timer: the old 8259 PICs, silenced; the
// local APIC, with its timer calibrated against the PIT.
//
// A PC has two interrupt controllers. The 8259 PICs (master and slave,
// 8 lines each) come up delivering IRQ 0..7 at vectors 8..15, on top of
// the CPU's exceptions, so pic_init remaps them to T_IRQ0..T_IRQ0+15 and
// then masks every line: the kernel uses the local APIC (and, from lab 7,
// the I/O APIC) instead. A masked master PIC can still raise a spurious
// IRQ 7 (the slave's spurious IRQ 15 would need the cascade, IRQ 2, which
// is masked too); trap() counts it and sends no EOI.
//
// The local APIC is each CPU's own controller, its registers a page of
// memory-mapped I/O at the physical address MSR_APIC_BASE gives (0xfee00000
// by default). It is used in xAPIC mode, through that page (QEMU 7.2's
// TCG has no x2APIC), mapped uncached at MMIO_LAPIC (memlayout.h).
// Registers are 32-bit, 16 bytes apart; LAPIC_* below are their offsets.
//
// Its timer counts down from an initial count at the bus clock divided by
// a divisor, and raises T_TIMER at zero, then starts again (periodic
// mode). The bus clock is not known, so lapic_init measures it: it starts
// the timer from 0xffffffff and the PIT's channel 2 (whose clock is known:
// PIT_HZ) for CALIBRATE_MS milliseconds, and reads how far the timer got.
// The TSC is measured in the same window (tsc_hz, for self-tests that
// time things). Then the timer is set to fire HZ times a second; each
// interrupt adds one to ticks, and the boot line says the rate.
//
// Interface: lapic_init once per boot (after vm_init: it maps the page),
// lapic_init_cpu on every CPU, lapic_eoi after each LAPIC interrupt,
// lapic_id, ticks and tsc_hz.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"

// 8259 PIC ports and commands.
#define PIC1_CMD        0x20        // master: command
#define PIC1_DATA       0x21        //   data (the mask, after initialization)
#define PIC2_CMD        0xA0        // slave
#define PIC2_DATA       0xA1
#define PIC_ICW1        0x11        // initialize; edge triggered, cascade, ICW4 follows
#define PIC_ICW4        0x01        // 8086 mode
#define PIC_CASCADE_IRQ 2           // the slave is wired to the master's IRQ 2
#define PIC_MASK_ALL    0xff

// Local APIC registers: byte offsets into its page.
#define LAPIC_ID        0x020       // this APIC's ID, bits 24..31
#define LAPIC_EOI       0x0B0       // write 0: end of interrupt
#define LAPIC_SVR       0x0F0       // spurious vector; bit 8 enables the APIC
#define LAPIC_SVR_ON    0x100
#define LAPIC_TIMER     0x320       // LVT timer: vector, mode, mask
#define LAPIC_PERIODIC  0x20000     //   periodic mode
#define LAPIC_MASKED    0x10000     //   masked
#define LAPIC_TICR      0x380       // timer initial count
#define LAPIC_TCCR      0x390       // timer current count
#define LAPIC_TDCR      0x3E0       // timer divide configuration
#define LAPIC_DIV16     0x3         //   divide the bus clock by 16
#define APIC_BASE_ADDR  0xFFFFFF000 // MSR_APIC_BASE: the page's physical address

// The PIT (8254): channel 2, gated by port 0x61, its output readable there.
#define PIT_HZ          1193182     // its input clock
#define PIT_CH2         0x42        // channel 2 data
#define PIT_MODE        0x43        // mode/command
#define PIT_CH2_ONESHOT 0xB0        // channel 2, lobyte/hibyte, mode 0 (count down once)
#define PIT_GATE_PORT   0x61
#define PIT_GATE2       0x01        // bit 0: channel 2 counts
#define PIT_SPEAKER     0x02        // bit 1: the speaker (keep it off)
#define PIT_OUT2        0x20        // bit 5: channel 2's output, high at zero

volatile uint64 ticks;              // timer interrupts since lapic_init (CPU 0's)
uint64 tsc_hz;                      // TSC cycles a second, measured
uint64 lapic_hz;                    // the timer's rate: HZ, as measured
static volatile uint32 *lapic;      // the register page, once mapped

static uint32
lapic_read(uint32 reg)
{
  return lapic[reg / 4];
}

static void
lapic_write(uint32 reg, uint32 val)
{
  lapic[reg / 4] = val;
  (void)lapic[LAPIC_ID / 4];        // a read: wait until the write is done
}

// Remap the PICs' vectors away from the exceptions, then mask them all.
static void
pic_init(void)
{
  outb(PIC1_CMD, PIC_ICW1);
  outb(PIC2_CMD, PIC_ICW1);
  outb(PIC1_DATA, T_IRQ0);                  // ICW2: the master's first vector
  outb(PIC2_DATA, T_IRQ0 + 8);              //       the slave's
  outb(PIC1_DATA, 1 << PIC_CASCADE_IRQ);    // ICW3: where the slave is
  outb(PIC2_DATA, PIC_CASCADE_IRQ);
  outb(PIC1_DATA, PIC_ICW4);
  outb(PIC2_DATA, PIC_ICW4);
  outb(PIC1_DATA, PIC_MASK_ALL);
  outb(PIC2_DATA, PIC_MASK_ALL);
}

// Count the LAPIC timer (from 0xffffffff, divided by 16) and the TSC over
// CALIBRATE_MS of the PIT's channel 2; how far each got.
static void
calibrate(uint64 *timer, uint64 *tsc)
{
  uint32 count = PIT_HZ * CALIBRATE_MS / 1000;
  uint8 gate = inb(PIT_GATE_PORT) & ~(PIT_GATE2 | PIT_SPEAKER);

  outb(PIT_GATE_PORT, gate);                // gate low: channel 2 waits
  outb(PIT_MODE, PIT_CH2_ONESHOT);
  outb(PIT_CH2, count & 0xff);
  outb(PIT_CH2, count >> 8);
  lapic_write(LAPIC_TDCR, LAPIC_DIV16);
  lapic_write(LAPIC_TIMER, LAPIC_MASKED);
  outb(PIT_GATE_PORT, gate | PIT_GATE2);    // go
  lapic_write(LAPIC_TICR, 0xffffffff);
  uint64 t0 = rdtsc();
  while (!(inb(PIT_GATE_PORT) & PIT_OUT2))
    ;
  *tsc = rdtsc() - t0;
  *timer = 0xffffffffu - lapic_read(LAPIC_TCCR);
  lapic_write(LAPIC_TICR, 0);
  outb(PIT_GATE_PORT, gate);
}

static uint32 timer_count;          // the timer's initial count: one tick (lapic_init)

// Once per boot: silence the PICs, map the local APIC, and measure its
// timer against the PIT. Every CPU's timer runs at the bus clock, so the
// one calibration serves them all (lapic_init_cpu).
void
lapic_init(void)
{
  uint64 pa = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR, timer, tsc;

  pic_init();
  if (kvm_map(MMIO_LAPIC, pa, PGSIZE, PTE_W | PTE_PCD | PTE_PWT) < 0)
    panic("lapic_init: cannot map the local APIC");
  lapic = (volatile uint32 *)MMIO_LAPIC;
  lapic_write(LAPIC_SVR, LAPIC_SVR_ON | T_SPURIOUS);
  calibrate(&timer, &tsc);
  tsc_hz = tsc * 1000 / CALIBRATE_MS;
  uint64 bus = timer * 1000 / CALIBRATE_MS;         // timer counts a second
  uint64 count = bus / HZ;
  if (count == 0)
    panic("lapic_init: the timer did not count while the PIT ran");
  timer_count = count;
  lapic_hz = bus / count;
  printf("timer: %lu Hz (local APIC timer, %lu counts a tick, calibrated against the PIT); "
         "TSC %lu MHz\n", lapic_hz, count, tsc_hz / 1000000);
}

// On each CPU: enable its local APIC and start its timer at HZ, from
// lapic_init's calibration.
void
lapic_init_cpu(void)
{
  lapic_write(LAPIC_SVR, LAPIC_SVR_ON | T_SPURIOUS);
  lapic_write(LAPIC_TDCR, LAPIC_DIV16);
  lapic_write(LAPIC_TIMER, LAPIC_PERIODIC | T_TIMER);
  lapic_write(LAPIC_TICR, timer_count);
  lapic_write(LAPIC_EOI, 0);
}

#if LAB >= 5
#define LAPIC_ICRLO     0x300       // interrupt command: what to send, and status
#define LAPIC_ICRHI     0x310       //   bits 24..31: the destination APIC ID
#define ICR_INIT        0x00500     // delivery mode INIT
#define ICR_STARTUP     0x00600     // delivery mode STARTUP (SIPI): vector = page number
#define ICR_NMI         0x00400     // delivery mode NMI
#define ICR_BUSY        0x01000     // delivery status: not yet accepted
#define ICR_ASSERT      0x04000
#define ICR_LEVEL       0x08000     // level triggered (INIT wants it)

// Busy-wait us microseconds, by the calibrated TSC.
void
udelay(uint64 us)
{
  uint64 end = rdtsc() + tsc_hz / 1000000 * us;

  while (rdtsc() < end)
    pause();
}

// Send an interrupt command to the CPU whose local APIC ID is apicid, and
// wait until its APIC has accepted it.
static void
lapic_ipi(int apicid, uint32 command)
{
  lapic_write(LAPIC_ICRHI, (uint32)apicid << 24);
  lapic_write(LAPIC_ICRLO, command);
  while (lapic_read(LAPIC_ICRLO) & ICR_BUSY)
    pause();
}

// An NMI to the CPU apicid. (Not "all but self": a CPU that never
// started still sits where the BIOS left it, and an NMI wakes it there.)
void
lapic_send_nmi(int apicid)
{
  lapic_ipi(apicid, ICR_NMI);
}

// The two messages that start a CPU (smp.c sends them, and says when):
// INIT resets the CPU apicid and leaves it waiting; STARTUP (SIPI) makes
// a waiting CPU begin, in real mode, at physical address pa, a page
// below 1 MiB (the message has room for its page number only).
void
lapic_send_init(int apicid)
{
  lapic_ipi(apicid, ICR_INIT | ICR_LEVEL | ICR_ASSERT);
}

void
lapic_send_startup(int apicid, uint64 pa)
{
  lapic_ipi(apicid, ICR_STARTUP | (uint32)(pa >> PGSHIFT));
}
#endif

// Tell the local APIC that the interrupt being handled is done.
void
lapic_eoi(void)
{
  if (lapic)
    lapic_write(LAPIC_EOI, 0);
}

// This CPU's local APIC ID.
int
lapic_id(void)
{
  return lapic ? lapic_read(LAPIC_ID) >> 24 : 0;
}
