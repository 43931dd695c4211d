// Stage 2 of the boot loader: load the kernel ELF from disk and jump to it.
//
// Stage 1 (boot.S) calls bootmain() in 32-bit protected mode, paging off,
// interrupts off. The kernel is an ELF-64 file that starts at sector
// KERNEL_LBA of the boot disk (the primary ATA master). We read its header
// into a scratch buffer, check it, copy every PT_LOAD segment to its
// physical address, zero the segment's bss part, and call the entry point,
// which is 32-bit code (kern/entry.S) despite living in a 64-bit file.
//
// The disk is read with programmed I/O, one sector at a time, polling the
// status register: no interrupts, no DMA, the simplest ATA there is. The
// kernel's own driver (lab 7) does it properly.
//
// On a bad kernel we print one line on COM1 and return to stage 1, which
// halts. The serial port works here without setup in QEMU, so we only wait
// for the transmitter to be empty.

#include "../types.h"
#include "../x86.h"
#include "../elf.h"
#include "../memlayout.h"

#define ATA_DATA        0x1f0   // data port, 16 or 32 bits at a time
#define ATA_COUNT       0x1f2   // sector count
#define ATA_LBA0        0x1f3   // LBA bits 0-7
#define ATA_LBA1        0x1f4   // LBA bits 8-15
#define ATA_LBA2        0x1f5   // LBA bits 16-23
#define ATA_DRIVE       0x1f6   // drive select and LBA bits 24-27
#define ATA_STATUS      0x1f7   // status (read) and command (write)
#define ATA_BSY         0x80    // status: busy
#define ATA_DRDY        0x40    // status: drive ready
#define ATA_LBA_MASTER  0xe0    // drive register: LBA mode, master drive
#define ATA_CMD_READ    0x20    // command: read sectors with retry

#define COM1            0x3f8   // data register of the first serial port
#define COM1_LSR        (COM1 + 5)
#define LSR_THRE        0x20    // line status: transmitter holding register empty

static void
serial_puts(const char *s)
{
  for (; *s; s++) {
    while ((inb(COM1_LSR) & LSR_THRE) == 0)
      ;
    outb(COM1, *s);
  }
}

static void
ata_wait(void)
{
  while ((inb(ATA_STATUS) & (ATA_BSY | ATA_DRDY)) != ATA_DRDY)
    ;
}

// Read disk sector lba into dst.
static void
read_sector(void *dst, uint32 lba)
{
  ata_wait();
  outb(ATA_COUNT, 1);
  outb(ATA_LBA0, lba);
  outb(ATA_LBA1, lba >> 8);
  outb(ATA_LBA2, lba >> 16);
  outb(ATA_DRIVE, ATA_LBA_MASTER | ((lba >> 24) & 0x0f));
  outb(ATA_STATUS, ATA_CMD_READ);
  ata_wait();
  insl(ATA_DATA, dst, SECTOR_SIZE / 4);
}

// Read count bytes at byte offset off of the kernel file into physical
// address pa. Whole sectors are read, so up to a sector before pa may be
// overwritten too: segments are laid out in ascending order, so that is
// either the previous segment's tail, rewritten with the same bytes, or free.
static void
read_kernel(uint8 *pa, uint32 count, uint32 off)
{
  uint8 *end = pa + count;
  uint32 lba = KERNEL_LBA + off / SECTOR_SIZE;

  pa -= off % SECTOR_SIZE;
  for (; pa < end; pa += SECTOR_SIZE, lba++)
    read_sector(pa, lba);
}

// Is the segment inside the physical range the kernel may occupy?
static int
segment_fits(struct proghdr *ph)
{
  return ph->paddr >= KERNEL_PHYS && ph->memsz <= KERNEL_LOAD_LIMIT &&
         ph->paddr + ph->memsz <= KERNEL_LOAD_LIMIT && ph->filesz <= ph->memsz;
}

void
bootmain(void)
{
  struct elfhdr *elf = (struct elfhdr *)BOOT_SCRATCH;
  struct proghdr *ph, *eph;

  read_kernel((uint8 *)elf, KERNEL_HDR_SIZE, 0);
  if (elf->magic != ELF_MAGIC || elf->machine != EM_X86_64 ||
      elf->phoff + elf->phnum * sizeof(*ph) > KERNEL_HDR_SIZE) {
    serial_puts("boot: the kernel is not an x86-64 ELF file\r\n");
    return;
  }

  ph = (struct proghdr *)((uint8 *)elf + elf->phoff);
  eph = ph + elf->phnum;
  for (; ph < eph; ph++) {
    if (ph->type != PT_LOAD)
      continue;
    if (!segment_fits(ph)) {
      serial_puts("boot: a kernel segment lies outside 1 MiB .. KERNEL_LOAD_LIMIT\r\n");
      return;
    }
    read_kernel((uint8 *)(uintptr)ph->paddr, ph->filesz, ph->off);
    stosb((uint8 *)(uintptr)(ph->paddr + ph->filesz), 0, ph->memsz - ph->filesz);
  }

  // The entry point is 32-bit code at a physical address (kern/entry.S).
  ((void (*)(void))(uintptr)elf->entry)();
}
