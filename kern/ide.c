// The IDE disk driver: the disks on the PC's primary IDE channel (QEMU's
// PIIX3), read and written a block (BSIZE bytes, 8 sectors) per request,
// each request ended by the disk's interrupt.
//
// The channel is a handful of I/O ports (the ATA "task file"): a command
// names a sector (its 28-bit LBA), a sector count and the drive, master
// (disk 0, the boot disk) or slave (disk 1, DATADEV, the data disk). One
// command at a time: the channel is shared by both drives.
//
// Requests. Any process on any CPU may want a block; ide_rw(b) puts its
// buffer at the tail of a queue (ide.queue, linked through b->qnext) and
// sleeps on b until b->done. The request at the head is the one the disk
// is working on: ide_rw starts it itself only if the queue was empty.
// When the disk is done it raises IRQ 14, which the I/O APIC sends to the
// boot CPU as T_IDE; ide_intr ends the head request (copies the data in,
// for a PIO read; notes an error), wakes its process and starts the next.
// So the disk is never idle while a request waits, and no CPU spins: a
// process waiting for the disk is SLEEPING. ide.lock guards the queue and
// the channel's ports.
//
// Two ways to move the data:
//   PIO   the CPU copies it through the data port, 4 bytes per in/out
//         instruction: READ MULTIPLE / WRITE MULTIPLE move the block's 8
//         sectors with one interrupt (SET MULTIPLE at boot says 8). A read
//         is copied in by ide_intr, once the disk has the data; a write is
//         copied out by ide_start, right after its command.
//   DMA   the PIIX's bus master moves it to or from memory itself, while
//         the CPU does other work: ide_start writes the buffer's physical
//         address into a PRD table (one entry: a block is one page), the
//         table's address into the bus master, then READ DMA / WRITE DMA,
//         then starts the bus master. Its interrupt comes when the whole
//         block has moved.
// DMA is the default when the PCI bus has the IDE controller's bus master;
// the command-line option ide=pio chooses PIO (make bench compares them).
//
// A disk that reports an error (a sector beyond its end, say) ends the
// request with b->error: ide_rw prints what the disk said and returns -1.
//
// Lab 7 exercise: ide_rw and ide_intr.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "proc.h"
#include "spinlock.h"
#include "sleeplock.h"
#include "buf.h"
#include "defs.h"

// The primary channel's ports (ATA/ATAPI-6, the task file).
#define IDE_DATA        0x1f0   // 16/32-bit data
#define IDE_ERROR       0x1f1   // why ERR is set
#define IDE_COUNT       0x1f2   // sectors to move
#define IDE_LBA0        0x1f3   // LBA bits 0..7
#define IDE_LBA1        0x1f4   //          8..15
#define IDE_LBA2        0x1f5   //          16..23
#define IDE_DRIVE       0x1f6   // DRIVE_LBA | slave bit | LBA bits 24..27
#define IDE_STATUS      0x1f7   // read: status (reading it ends the interrupt)
#define IDE_CMD         0x1f7   // write: command
#define IDE_CTRL        0x3f6   // device control (write)

#define DRIVE_LBA       0xe0    // LBA addressing (and two bits that must be 1)
#define DRIVE_SLAVE     0x10
#define CTRL_NIEN       0x02    // no interrupts from the channel

#define ST_BSY          0x80    // busy: the other bits mean nothing yet
#define ST_DRDY         0x40    // ready for a command
#define ST_DF           0x20    // device fault
#define ST_DRQ          0x08    // data to move through IDE_DATA
#define ST_ERR          0x01    // the command failed: IDE_ERROR says why

#define CMD_READ_MUL    0xc4
#define CMD_WRITE_MUL   0xc5
#define CMD_SET_MUL     0xc6
#define CMD_READ_DMA    0xc8
#define CMD_WRITE_DMA   0xca
#define CMD_IDENTIFY    0xec

#define ERR_UNKNOWN     0x100   // b->error when the error register says nothing
#define ID_LBA_SECTORS  60      // IDENTIFY's words 60-61: sectors an LBA28 command reaches

// The PCI configuration space (its two ports), for the bus master.
#define PCI_ADDR        0xcf8
#define PCI_DATA        0xcfc
#define PCI_ENABLE      0x80000000
#define PCI_CMD_REG     0x04    // command (low 16 bits)
#define PCI_CLASS_REG   0x08    // class, subclass, interface, revision
#define PCI_BAR4        0x20    // the IDE controller's bus-master ports
#define PCI_CMD_IO      0x01
#define PCI_CMD_MASTER  0x04    // may start DMA
#define CLASS_IDE       0x0101  // mass storage, IDE

// The bus master's ports (primary channel), from BAR4.
#define BM_CMD          0       // bit 0 start, bit 3 direction
#define BM_STATUS       2       // bit 1 error, bit 2 interrupt (write 1 to clear)
#define BM_PRDT         4       // physical address of the PRD table
#define BM_START        0x01
#define BM_TO_MEMORY    0x08    // the bus master writes memory: a disk read
#define BM_ST_ERR       0x02
#define BM_ST_INTR      0x04

#define SECTORS_PER_BLOCK (BSIZE / SECTOR_SIZE)
#define PRD_EOT         0x8000  // the table's last entry

struct prd {                    // one piece of memory for the bus master
  uint32 addr;                  // its physical address
  uint16 bytes;                 // its size (0 means 64 KiB)
  uint16 flags;                 // PRD_EOT
};

static struct {
  struct spinlock lock;
  struct buf *queue;            // requests; the first is on the disk
  uint32 sectors[NDISK];        // each disk's size (0: none)
  uint16 bm;                    // bus-master ports (0: PIO only)
  struct prd *prd;              // the PRD table, a page of its own
  int dma;                      // requests use DMA
} ide;

uint64 ide_requests;            // requests the disk has ended (for sysinfo)

static void ide_finish(struct buf *b);

CMDLINE_OPTION(ide, "ide=pio: move disk data by PIO, not bus-master DMA (ide.c)");

// Wait until the channel is not busy; its status, or -1 if it stayed
// busy IDE_WAIT_MS (only polled steps wait so: boot's IDENTIFY, a PIO
// write's DRQ).
static int
ide_wait(void)
{
  int st;

  for (uint64 i = 0; i < IDE_WAIT_MS * 1000ull; i++) {
    st = inb(IDE_STATUS);
    if ((st & ST_BSY) == 0)
      return st;
    udelay(1);
  }
  return -1;
}

// Start b's request on the disk (the caller holds ide.lock; the channel
// is idle).
static void
ide_start(struct buf *b)
{
  uint32 sector = b->blockno * SECTORS_PER_BLOCK;
  int dma = ide.dma && PADDR(b->data) < (1ull << 32);   // the PRD's address is 32 bits

  ide_wait();
  outb(IDE_CTRL, 0);                    // interrupts on
  outb(IDE_COUNT, SECTORS_PER_BLOCK);
  outb(IDE_LBA0, sector & 0xff);
  outb(IDE_LBA1, (sector >> 8) & 0xff);
  outb(IDE_LBA2, (sector >> 16) & 0xff);
  outb(IDE_DRIVE, DRIVE_LBA | (b->dev ? DRIVE_SLAVE : 0) | ((sector >> 24) & 0x0f));
  if (dma) {
    ide.prd->addr = PADDR(b->data);
    ide.prd->bytes = BSIZE;
    ide.prd->flags = PRD_EOT;
    outb(ide.bm + BM_CMD, 0);                           // stopped, to set it up
    outl(ide.bm + BM_PRDT, PADDR(ide.prd));
    outb(ide.bm + BM_STATUS, BM_ST_ERR | BM_ST_INTR);   // clear both
    outb(ide.bm + BM_CMD, b->write ? 0 : BM_TO_MEMORY);
    outb(IDE_CMD, b->write ? CMD_WRITE_DMA : CMD_READ_DMA);
    outb(ide.bm + BM_CMD, (b->write ? 0 : BM_TO_MEMORY) | BM_START);
  } else {
    outb(IDE_CMD, b->write ? CMD_WRITE_MUL : CMD_READ_MUL);
    if (b->write) {
      int st = ide_wait();              // until the disk asks for the data
      if (st >= 0 && (st & ST_DRQ))
        outsl(IDE_DATA, b->data, BSIZE / 4);
      // else the disk refused: its interrupt reports ST_ERR to ide_intr
    }
  }
  b->qdma = dma;
}

// Read b's data from, or write it to, the disk; the caller holds b's
// sleep lock. 0, or -1 (with a line that says why) if the disk failed.
int
ide_rw(struct buf *b)
{
  if (!holdingsleep(&b->lock))
    panic("ide_rw: buffer of block %u not held", b->blockno);
  if (b->dev >= NDISK || ide.sectors[b->dev] == 0)
    panic("ide_rw: no disk %u", b->dev);
#if SOL >= 7
  acquire(&ide.lock);
  b->done = b->error = 0;
  b->qnext = NULL;
  struct buf **pp = &ide.queue;
  while (*pp)                           // to the queue's tail
    pp = &(*pp)->qnext;
  *pp = b;
  if (ide.queue == b)                   // the disk is idle: start it
    ide_start(b);
  while (!b->done)
    sleep(b, &ide.lock);
  release(&ide.lock);
#else
  // LAB 7: under ide.lock, clear b's done, error and qnext, append b to
  // the tail of ide.queue and, if it is now the head (the disk was
  // idle), ide_start(b). Then sleep on b with ide.lock until ide_intr
  // says b->done. This stub fails every request.
  (void)ide_start;
  b->error = ERR_UNKNOWN;
#endif
  if (b->error) {
    printf("ide: disk %u block %u: %s failed: error 0x%x\n", b->dev, b->blockno,
           b->write ? "write" : "read", b->error);
    return -1;
  }
  return 0;
}

// End b's request, the one on the disk (ide.lock held): stop the bus
// master, read the status (which ends the disk's interrupt), and for a
// good PIO read copy the data in. b->error says what went wrong (the
// error register: 0x04 aborted, which is QEMU's answer to a sector past
// the disk's end, ...; ERR_UNKNOWN for
// a device fault or a bus-master error).
static void
ide_finish(struct buf *b)
{
  int bmst = 0;

  if (b->qdma) {
    bmst = inb(ide.bm + BM_STATUS);
    outb(ide.bm + BM_CMD, 0);
    outb(ide.bm + BM_STATUS, BM_ST_ERR | BM_ST_INTR);
  }
  int st = inb(IDE_STATUS);
  if (st & ST_ERR)
    b->error = inb(IDE_ERROR) ? inb(IDE_ERROR) : ERR_UNKNOWN;
  else if ((st & ST_DF) || (bmst & BM_ST_ERR))
    b->error = ERR_UNKNOWN;
  else if (!b->write && !b->qdma)
    insl(IDE_DATA, b->data, BSIZE / 4);
  __atomic_fetch_add(&ide_requests, 1, __ATOMIC_RELAXED);
}

// The disk's interrupt (trap() calls this for T_IDE, on the boot CPU).
void
ide_intr(void)
{
#if SOL >= 7
  acquire(&ide.lock);
  struct buf *b = ide.queue;
  if (b == NULL) {                      // none asked for: read the status to end it
    inb(IDE_STATUS);
    release(&ide.lock);
    return;
  }
  ide_finish(b);
  b->done = 1;
  wakeup(b);
  ide.queue = b->qnext;
  if (ide.queue)
    ide_start(ide.queue);
  release(&ide.lock);
#else
  // LAB 7: under ide.lock, take the request at the head of the queue
  // (none: just read IDE_STATUS, which ends the interrupt), ide_finish
  // it, mark it done and wake its process; then the next request
  // becomes the head: start it.
  //
  // This stub ends the interrupt (reading IDE_STATUS does) and nothing more.
  (void)ide_finish;
  inb(IDE_STATUS);
#endif
}

// Read a PCI configuration register of bus 0's device dev, function fn.
static uint32
pci_read(int dev, int fn, int reg)
{
  outl(PCI_ADDR, PCI_ENABLE | dev << 11 | fn << 8 | reg);
  return inl(PCI_DATA);
}

static void
pci_write(int dev, int fn, int reg, uint32 v)
{
  outl(PCI_ADDR, PCI_ENABLE | dev << 11 | fn << 8 | reg);
  outl(PCI_DATA, v);
}

// The IDE controller's bus-master ports, made able to start DMA; 0 if
// bus 0 has no IDE controller with them.
static uint16
find_busmaster(void)
{
  for (int dev = 0; dev < 32; dev++) {
    for (int fn = 0; fn < 8; fn++) {
      if ((pci_read(dev, fn, 0) & 0xffff) == 0xffff)    // no device here
        continue;
      if (pci_read(dev, fn, PCI_CLASS_REG) >> 16 != CLASS_IDE)
        continue;
      uint32 bar = pci_read(dev, fn, PCI_BAR4);
      if ((bar & 1) == 0 || (bar & ~3u) == 0)           // not I/O ports, or not set up
        return 0;
      uint32 cmd = pci_read(dev, fn, PCI_CMD_REG);
      pci_write(dev, fn, PCI_CMD_REG, cmd | PCI_CMD_IO | PCI_CMD_MASTER);
      return bar & ~3u;
    }
  }
  return 0;
}

// Ask disk dev who it is (polled, with the channel's interrupts off):
// its size in sectors, or 0 if there is no ATA disk there.
static uint32
identify(int dev)
{
  uint16 id[SECTOR_SIZE / 2];

  outb(IDE_DRIVE, DRIVE_LBA | (dev ? DRIVE_SLAVE : 0));
  udelay(1);
  outb(IDE_CMD, CMD_IDENTIFY);
  if (inb(IDE_STATUS) == 0)                             // no drive
    return 0;
  int st = ide_wait();
  if (st < 0 || (st & ST_ERR) || !(st & ST_DRQ))        // none that answers, or not ATA
    return 0;
  insl(IDE_DATA, id, SECTOR_SIZE / 4);
  // SET MULTIPLE: a PIO READ/WRITE MULTIPLE moves the whole block at once.
  outb(IDE_COUNT, SECTORS_PER_BLOCK);
  outb(IDE_CMD, CMD_SET_MUL);
  st = ide_wait();
  if (st < 0 || (st & ST_ERR))
    printf("ide: disk %d refused SET MULTIPLE %d\n", dev, SECTORS_PER_BLOCK);
  return id[ID_LBA_SECTORS] | (uint32)id[ID_LBA_SECTORS + 1] << 16;
}

// Disk dev's size in blocks (0: no such disk).
uint32
ide_nblocks(uint32 dev)
{
  return dev < NDISK ? ide.sectors[dev] / SECTORS_PER_BLOCK : 0;
}

// Once, at boot, after ioapic_init: find the disks and the bus master,
// and route IRQ 14 to the boot CPU.
void
ide_init(void)
{
  const char *mode = cmdline_get("ide");

  initlock(&ide.lock, "ide");
  outb(IDE_CTRL, CTRL_NIEN);
  for (int dev = 0; dev < NDISK; dev++)
    ide.sectors[dev] = identify(dev);
  ide.bm = find_busmaster();
  ide.prd = kalloc();
  ide.dma = ide.bm && ide.prd && !(mode && strcmp(mode, "pio") == 0);
  if (ioapic_route(IRQ_IDE, T_IDE, cpu_apicid[0]) < 0)
    panic("ide_init: irq %d has no I/O APIC pin", IRQ_IDE);
  printf("ide: disk 0 %u sectors, disk 1 %u sectors, irq %d -> vector %d, %s\n",
         ide.sectors[0], ide.sectors[1], IRQ_IDE, T_IDE,
         ide.dma ? "dma" : "pio");
}
