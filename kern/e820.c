// The BIOS memory map (e820), as the boot sector left it.
//
// Only the BIOS knows which physical memory is RAM, and it only tells
// real-mode code: stage 1 of the boot loader (kern/boot/boot.S) calls
// int 0x15 with eax=0xE820 once per entry and stores the entries at
// physical E820_MAP (memlayout.h). Each entry is a range and a type;
// ranges may be listed in any order, and may overlap. This file prints the
// map and sums the usable memory for the boot banner, as the BIOS gave it;
// e820_ranges() hands the valid entries to whoever cleans them up.
//
// ACPI 3.0 BIOSes return 24-byte entries whose last word holds attributes:
// an entry whose bit 0 (E820_ATTR_VALID) is clear must be ignored. Older
// BIOSes return 20 bytes and leave that word alone; stage 1 presets it to
// E820_ATTR_VALID before each call, so their entries all count as valid.
// Every function here skips the invalid ones.

#include "types.h"
#include "memlayout.h"
#include "defs.h"

#define E820_USABLE     1       // RAM we may use
#define E820_RESERVED   2       // in use by the firmware or devices
#define E820_ACPI       3       // ACPI tables, reusable once read
#define E820_NVS        4       // ACPI non-volatile storage
#define E820_BAD        5       // defective RAM

struct e820_entry {
  uint64 base;
  uint64 length;
  uint32 type;
  uint32 attrs;
};

_Static_assert(sizeof(struct e820_entry) == E820_ENTRY_SIZE, "e820 entry layout");
_Static_assert(__builtin_offsetof(struct e820_entry, attrs) == E820_ATTRS, "e820 attrs offset");

static const char *
type_name(uint32 type)
{
  switch (type) {
  case E820_USABLE:   return "usable";
  case E820_RESERVED: return "reserved";
  case E820_ACPI:     return "ACPI data";
  case E820_NVS:      return "ACPI NVS";
  case E820_BAD:      return "unusable";
  default:            return "unknown";
  }
}

// The entries the boot sector stored, and (returned) how many there are.
static struct e820_entry *
e820_entries(uint32 *count)
{
  *count = *(uint32 *)P2V(E820_MAP);
  if (*count > E820_MAX)
    *count = E820_MAX;
  return (struct e820_entry *)P2V(E820_ENTRIES);
}

// Does the entry count? Not if the BIOS marked it invalid (see the top).
static int
e820_valid(struct e820_entry *e)
{
  return (e->attrs & E820_ATTR_VALID) != 0;
}

void
e820_print(void)
{
  uint32 count, ignored = 0;
  struct e820_entry *e = e820_entries(&count);

  if (count == 0)
    printf("e820: the BIOS gave no memory map\n");
  for (uint32 i = 0; i < count; i++) {
    if (!e820_valid(&e[i])) {
      ignored++;
      continue;
    }
    printf("e820: [mem %p-%p] %s\n", (void *)e[i].base,
           (void *)(e[i].base + e[i].length - 1), type_name(e[i].type));
  }
  if (ignored)
    printf("e820: %u entries marked invalid by the BIOS, ignored\n", ignored);
}

// Total bytes of usable RAM.
uint64
e820_usable_bytes(void)
{
  uint32 count;
  struct e820_entry *e = e820_entries(&count);
  uint64 total = 0;

  for (uint32 i = 0; i < count; i++)
    if (e820_valid(&e[i]) && e[i].type == E820_USABLE)
      total += e[i].length;
  return total;
}

// Copy the valid entries, in the BIOS's order, into out (at most max of
// them): each as [base, end) and whether it is usable RAM. An entry whose
// end would pass 2^64 ends at the last page below it. Returns how many.
uint32
e820_ranges(struct e820_range *out, uint32 max)
{
  uint32 count, n = 0;
  struct e820_entry *e = e820_entries(&count);

  for (uint32 i = 0; i < count && n < max; i++) {
    if (!e820_valid(&e[i]))
      continue;
    out[n].base = e[i].base;
    out[n].end = e[i].base + e[i].length < e[i].base ? ~0xfffull : e[i].base + e[i].length;
    out[n].usable = e[i].type == E820_USABLE;
    n++;
  }
  return n;
}
