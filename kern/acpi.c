// ACPI: which CPUs and I/O APICs the machine has, read from the tables the
// firmware leaves in memory.
//
// The firmware describes the machine in ACPI tables (ACPI spec, chapter 5):
//
//   RSDP  "RSD PTR ", on a 16-byte boundary in the first KiB of the EBDA
//         (whose segment is the 16-bit word at physical 0x40E) or in the
//         BIOS area 0xE0000-0xFFFFF. 20 bytes whose sum is 0 (revision 0,
//         ACPI 1.0); from revision 2 on, `length` bytes (36) whose sum is
//         0 too, with the address of the XSDT.
//   XSDT  a table of 64-bit physical addresses of the other tables; the
//   RSDT  same with 32-bit addresses (ACPI 1.0). The XSDT wins if present.
//   MADT  signature "APIC": after its header, entries of varying type and
//         length, of which three matter here:
//           0  a CPU's local APIC: its APIC ID, and flags: bit 0 enabled
//              (usable now), bit 1 online capable (could be hot-plugged;
//              it is counted, never used);
//           1  an I/O APIC: its ID, its registers' physical address, and
//              the global system interrupt (GSI) of its first pin;
//           2  an interrupt source override: ISA IRQ n is not GSI n, or
//              not edge-triggered active-high as ISA's are; QEMU's pc
//              machine wires the PIT's IRQ 0 to GSI 2, for one.
// Every table starts with the same 36-byte header (struct sdt), whose
// bytes, all `length` of them, sum to 0.
//
// The tables lie in e820-reserved RAM below 4 GiB, which the direct map
// covers (vm.c maps physical 0 up to the top of RAM, holes too). They are
// read through it, and a table that lies beyond it, or is longer than
// TABLE_MAX, counts as missing: a pointer from the firmware is trusted
// no further than the page table can check it.
//
// acpi_init reads them once, at boot, after trap_init (it asks the local
// APIC for the boot CPU's ID), and prints one line: what it found, or why
// it could not use the tables. A table missing or corrupt is never a panic:
// the kernel then runs on the boot CPU alone, with no I/O APIC. The result:
//   ncpu, cpu_apicid[]  the enabled CPUs' APIC IDs, the boot CPU's first
//                       (it is CPU 0 already: trap_init), then the others
//                       in the MADT's order, at most NCPU of them;
//   ioapics[], nioapic  the I/O APICs, at most NIOAPIC;
//   acpi_irq_to_gsi     an ISA IRQ's GSI, polarity and trigger mode.
// Nothing here locks: it runs before any other CPU is started, and what
// it leaves is only read afterwards.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "defs.h"

#define EBDA_SEGMENT    0x40E       // BIOS data area: the EBDA's real-mode segment
#define EBDA_SCAN       1024        // the RSDP is in its first KiB, if there
#define BIOS_AREA       0xE0000     // or in the BIOS area, up to 1 MiB
#define BIOS_AREA_END   0x100000
#define RSDP_ALIGN      16
#define RSDP_V1_SIZE    20          // the bytes of the ACPI 1.0 checksum
#define TABLE_MAX       0x100000    // a table longer than 1 MiB is taken for garbage
#define ISA_IRQS        16

// MADT entry types, and the bits of their flags.
#define MADT_LAPIC      0
#define MADT_IOAPIC     1
#define MADT_OVERRIDE   2
#define LAPIC_ENABLED   0x1         // the CPU is usable
#define LAPIC_ONLINE_CAPABLE 0x2    // not enabled, but could be hot-plugged
#define LAPIC_ID_NONE   0xFF        // no xAPIC ID: the CPU is listed as an x2APIC
#define ISA_BUS         0           // the only bus an override names
// An override's flags (the MPS INTI flags): polarity in bits 0..1,
// trigger mode in bits 2..3; 0 in either means "as the bus does", which
// for ISA is active-high and edge-triggered.
#define INTI_POLARITY   0x3
#define INTI_ACTIVE_LOW 0x3
#define INTI_TRIGGER    0xC
#define INTI_LEVEL      0xC

struct rsdp {
  char sig[8];                  // "RSD PTR "
  uint8 checksum;               // the first RSDP_V1_SIZE bytes sum to 0
  char oem[6];
  uint8 revision;               // 0: ACPI 1.0, these 20 bytes; 2 and up: all of it
  uint32 rsdt;                  // physical address of the RSDT
  uint32 length;                // bytes of this structure (revision >= 2)
  uint64 xsdt;                  // physical address of the XSDT (revision >= 2)
  uint8 xchecksum;              // all `length` bytes sum to 0 (revision >= 2)
  uint8 reserved[3];
} __attribute__((packed));

struct sdt {                    // the header of every other table
  char sig[4];
  uint32 length;                // of the whole table, this header included
  uint8 revision;
  uint8 checksum;               // all `length` bytes sum to 0
  char oem[6];
  char oem_table[8];
  uint32 oem_revision;
  uint32 creator;
  uint32 creator_revision;
} __attribute__((packed));

struct madt {
  struct sdt h;
  uint32 lapic_addr;            // the local APICs' address (lapic.c asks the MSR instead)
  uint32 flags;                 // bit 0: the 8259 PICs are there too (lapic.c masks them)
} __attribute__((packed));      // the entries follow

struct madt_entry {             // the start of every MADT entry
  uint8 type;
  uint8 length;                 // of the whole entry
} __attribute__((packed));

struct madt_lapic {             // MADT_LAPIC
  struct madt_entry e;
  uint8 acpi_id;                // the CPU's ACPI processor ID (not used here)
  uint8 apic_id;
  uint32 flags;                 // LAPIC_*
} __attribute__((packed));

struct madt_ioapic {            // MADT_IOAPIC
  struct madt_entry e;
  uint8 id;
  uint8 reserved;
  uint32 addr;
  uint32 gsibase;
} __attribute__((packed));

struct madt_override {          // MADT_OVERRIDE
  struct madt_entry e;
  uint8 bus;                    // ISA_BUS
  uint8 irq;                    // the ISA IRQ
  uint32 gsi;                   // the GSI it arrives at
  uint16 flags;                 // INTI_*
} __attribute__((packed));

_Static_assert(sizeof(struct rsdp) == 36, "ACPI: the RSDP is 36 bytes");
_Static_assert(sizeof(struct sdt) == 36, "ACPI: a table header is 36 bytes");
_Static_assert(sizeof(struct madt) == 44, "ACPI: the MADT's entries start at 44");
_Static_assert(sizeof(struct madt_lapic) == 8, "ACPI: a local APIC entry is 8 bytes");
_Static_assert(sizeof(struct madt_ioapic) == 12, "ACPI: an I/O APIC entry is 12 bytes");
_Static_assert(sizeof(struct madt_override) == 10, "ACPI: an override is 10 bytes");

int ncpu = 1;
uint8 cpu_apicid[NCPU];
int nioapic;
struct acpi_ioapic ioapics[NIOAPIC];
uint64 acpi_rsdp, acpi_root, acpi_madt;

static struct {                 // what each ISA IRQ is, overrides applied
  uint32 gsi;
  uint16 flags;                 // INTI_*
} isa[ISA_IRQS];
static int noverride;           // overrides of ISA IRQs in the MADT
static int cpus_left_out;       // enabled CPUs beyond NCPU
static int cpus_hotplug;        // CPUs that could be hot-plugged: not used
static int ioapics_left_out;    // I/O APICs beyond NIOAPIC
static int boot_cpu_listed;     // did the MADT name the boot CPU?

//// Reading physical memory ///////////////////////////////////////////////////

// Physical [pa, pa + len) through the direct map; NULL if any page of it
// is not mapped there (it lies beyond the top of RAM: see the top).
static void *
phys(uint64 pa, uint64 len)
{
  pte_t *pml4 = vm_kernel_pml4();
  uint64 pgsize;

  if (pml4 == NULL || pa + len < pa || pa + len > DIRECTMAP_SIZE)
    return NULL;
  for (uint64 page = pa & ~(uint64)(PGSIZE - 1); page < pa + len; page += PGSIZE)
    if (vm_lookup(pml4, (uint64)KADDR(page), &pgsize) == NULL)
      return NULL;
  return KADDR(pa);
}

// Do the len bytes at p sum to 0 (mod 256), as every ACPI checksum asks?
static int
sum_ok(const void *p, uint64 len)
{
  const uint8 *b = p;
  uint8 sum = 0;

  for (uint64 i = 0; i < len; i++)
    sum += b[i];
  return sum == 0;
}

//// Finding the tables ////////////////////////////////////////////////////////

// The first RSDP in physical [pa, pa + len) whose ACPI 1.0 checksum is
// right; NULL if none. Counts in *bad the ones whose checksum is wrong.
static struct rsdp *
rsdp_scan(uint64 pa, uint64 len, int *bad)
{
  uint8 *area = phys(pa, len);

  for (uint64 off = 0; area && off + RSDP_V1_SIZE <= len; off += RSDP_ALIGN) {
    struct rsdp *r = (struct rsdp *)(area + off);
    if (memcmp(r->sig, "RSD PTR ", sizeof(r->sig)) != 0)
      continue;
    if (sum_ok(r, RSDP_V1_SIZE))
      return r;
    (*bad)++;
  }
  return NULL;
}

// The RSDP: in the EBDA's first KiB, else in the BIOS area.
static struct rsdp *
rsdp_find(int *bad)
{
  uint16 *segment = phys(EBDA_SEGMENT, sizeof(uint16));
  uint64 ebda = segment ? (uint64)*segment << 4 : 0;
  struct rsdp *r = NULL;

  if (ebda != 0)
    r = rsdp_scan(ebda, EBDA_SCAN, bad);
  if (r == NULL)
    r = rsdp_scan(BIOS_AREA, BIOS_AREA_END - BIOS_AREA, bad);
  return r;
}

// The table at physical pa, if its header and its whole length lie in the
// direct map and it has signature sig; NULL if not. Its checksum is the
// caller's to check.
static struct sdt *
table_at(uint64 pa, const char *sig)
{
  struct sdt *t = phys(pa, sizeof(struct sdt));

  if (t == NULL || memcmp(t->sig, sig, sizeof(t->sig)) != 0)
    return NULL;
  if (t->length < sizeof(struct sdt) || t->length > TABLE_MAX || phys(pa, t->length) == NULL)
    return NULL;
  return t;
}

// Say in one line why the tables can't be used; the caller goes on with
// the boot CPU alone. Returns -1, for the caller to return.
static int
fail(const char *table, const char *problem)
{
  printf("acpi: %s %s: booting on one CPU\n", table, problem);
  return -1;
}

// The XSDT (or, with none, the RSDT) that rsdp points to, checked, in
// *root, and the size of its entries in *entsize; 0, or -1 after fail().
static int
root_find(struct rsdp *rsdp, struct sdt **root, int *entsize)
{
  uint64 xsdt = 0;

  if (rsdp->revision >= 2) {
    if (rsdp->length < sizeof(*rsdp) || rsdp->length > TABLE_MAX ||
        phys(acpi_rsdp, rsdp->length) == NULL)
      return fail("RSDP", "length bad");
    if (!sum_ok(rsdp, rsdp->length))
      return fail("RSDP", "extended checksum bad");
    xsdt = rsdp->xsdt;
  }
  const char *name = xsdt ? "XSDT" : "RSDT";
  acpi_root = xsdt ? xsdt : rsdp->rsdt;
  *entsize = xsdt ? sizeof(uint64) : sizeof(uint32);
  *root = table_at(acpi_root, name);
  if (*root == NULL)
    return fail(name, "missing (or beyond the direct map)");
  if (!sum_ok(*root, (*root)->length))
    return fail(name, "checksum bad");
  return 0;
}

// The MADT that root lists (entries of entsize bytes), or NULL.
static struct madt *
madt_find(struct sdt *root, int entsize)
{
  uint8 *entries = (uint8 *)(root + 1);
  uint64 n = (root->length - sizeof(*root)) / entsize;

  for (uint64 i = 0; i < n; i++) {
    uint64 pa = 0;
    // An XSDT's entries are only 4-byte aligned; a copy of the low entsize
    // bytes (x86 is little-endian) reads either kind.
    memcpy(&pa, entries + i * entsize, entsize);
    struct sdt *t = table_at(pa, "APIC");
    if (t != NULL && t->length >= sizeof(struct madt)) {
      acpi_madt = pa;
      return (struct madt *)t;
    }
  }
  return NULL;
}

//// The MADT's entries ////////////////////////////////////////////////////////

// A CPU: the boot CPU is cpu_apicid[0] already; another enabled one is
// added if there is room.
static void
add_cpu(struct madt_lapic *l)
{
  if (!(l->flags & LAPIC_ENABLED)) {
    if (l->flags & LAPIC_ONLINE_CAPABLE)
      cpus_hotplug++;
    return;
  }
  if (l->apic_id == LAPIC_ID_NONE)
    return;
  if (l->apic_id == cpu_apicid[0])
    boot_cpu_listed = 1;
  else if (ncpu < NCPU)
    cpu_apicid[ncpu++] = l->apic_id;
  else
    cpus_left_out++;
}

static void
add_ioapic(struct madt_ioapic *io)
{
  if (nioapic == NIOAPIC) {
    ioapics_left_out++;
    return;
  }
  ioapics[nioapic].id = io->id;
  ioapics[nioapic].addr = io->addr;
  ioapics[nioapic].gsibase = io->gsibase;
  nioapic++;
}

static void
add_override(struct madt_override *o)
{
  if (o->bus != ISA_BUS || o->irq >= ISA_IRQS)
    return;
  isa[o->irq].gsi = o->gsi;
  isa[o->irq].flags = o->flags;
  noverride++;
}

// The entry's length, at least: an entry shorter than its type's
// structure is malformed.
static uint8
entry_size(uint8 type)
{
  switch (type) {
  case MADT_LAPIC:    return sizeof(struct madt_lapic);
  case MADT_IOAPIC:   return sizeof(struct madt_ioapic);
  case MADT_OVERRIDE: return sizeof(struct madt_override);
  default:            return sizeof(struct madt_entry);
  }
}

// Walk the MADT's entries and take the three kinds the top describes;
// 0, or -1 after fail() if an entry is malformed.
static int
madt_parse(struct madt *m)
{
  uint8 *p = (uint8 *)(m + 1), *end = (uint8 *)m + m->h.length;

  while (p < end) {
    struct madt_entry *e = (struct madt_entry *)p;
    if (end - p < (int64)sizeof(*e) || e->length < entry_size(e->type) || e->length > end - p)
      return fail("MADT", "has a malformed entry");
    if (e->type == MADT_LAPIC)
      add_cpu((struct madt_lapic *)e);
    else if (e->type == MADT_IOAPIC)
      add_ioapic((struct madt_ioapic *)e);
    else if (e->type == MADT_OVERRIDE)
      add_override((struct madt_override *)e);
    p += e->length;
  }
  return 0;
}

//// The interface /////////////////////////////////////////////////////////////

// The answer when there are no tables: the boot CPU alone, no I/O APIC,
// every ISA IRQ its own GSI.
static void
one_cpu(void)
{
  ncpu = 1;
  cpu_apicid[0] = lapic_id();
  nioapic = 0;
  noverride = cpus_left_out = cpus_hotplug = ioapics_left_out = boot_cpu_listed = 0;
  for (int irq = 0; irq < ISA_IRQS; irq++) {
    isa[irq].gsi = irq;
    isa[irq].flags = 0;
  }
}

// Find the tables and read the MADT; 0, or -1 after fail().
static int
acpi_read(void)
{
  int bad = 0, entsize;
  struct rsdp *rsdp = rsdp_find(&bad);
  struct sdt *root;
  struct madt *madt;

  if (rsdp == NULL)
    return fail("RSDP", bad ? "checksum bad" : "not found (EBDA, 0xe0000-0xfffff)");
  acpi_rsdp = PADDR(rsdp);
  if (root_find(rsdp, &root, &entsize) < 0)
    return -1;
  madt = madt_find(root, entsize);
  if (madt == NULL)
    return fail("MADT", "missing (or beyond the direct map)");
  if (!sum_ok(madt, madt->h.length))
    return fail("MADT", "checksum bad");
  return madt_parse(madt);
}

// The summary line: the CPUs, the I/O APICs, the overrides, and what was
// left out.
static void
print_summary(void)
{
  printf("acpi: %d CPU%s (apic ids", ncpu, ncpu == 1 ? "" : "s");
  for (int i = 0; i < ncpu; i++)
    printf(" %d", cpu_apicid[i]);
  printf(")");
  for (int i = 0; i < nioapic; i++)
    printf(", ioapic %d at 0x%x (gsi base %u)", ioapics[i].id, ioapics[i].addr,
           ioapics[i].gsibase);
  if (nioapic == 0)
    printf(", no ioapic");
  printf(", %d override%s", noverride, noverride == 1 ? "" : "s");
  if (cpus_left_out)
    printf("; %d more CPUs left out (NCPU is %d)", cpus_left_out, NCPU);
  if (cpus_hotplug)
    printf("; %d hot-pluggable CPUs not used", cpus_hotplug);
  if (ioapics_left_out)
    printf("; %d more ioapics left out (NIOAPIC is %d)", ioapics_left_out, NIOAPIC);
  if (!boot_cpu_listed)
    printf("; the boot CPU is not in the MADT");
  printf("\n");
}

// Read the ACPI tables (see the top); returns ncpu.
int
acpi_init(void)
{
  acpi_rsdp = acpi_root = acpi_madt = 0;
  one_cpu();
  if (acpi_read() < 0)
    one_cpu();
  else
    print_summary();
  return ncpu;
}

// ISA IRQ irq's global system interrupt, and (in *active_low, *level) its
// polarity and trigger mode: the MADT's override if it has one, else the
// ISA default (the same number, active-high, edge-triggered). An irq
// outside 0..15 is no ISA IRQ: it is returned as it is, with the defaults.
uint32
acpi_irq_to_gsi(int irq, int *active_low, int *level)
{
  uint16 flags = 0;
  uint32 gsi = irq;

  if (irq >= 0 && irq < ISA_IRQS) {
    gsi = isa[irq].gsi;
    flags = isa[irq].flags;
  }
  *active_low = (flags & INTI_POLARITY) == INTI_ACTIVE_LOW;
  *level = (flags & INTI_TRIGGER) == INTI_LEVEL;
  return gsi;
}
