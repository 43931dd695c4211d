// Memory layout: where everything lives, physically and virtually.
//
// This header is the one home for addresses. It is included by C, by
// assembly (boot sector, kernel entry) and by the linker script kernel.ld
// (which the Makefile runs through the C preprocessor), so it holds only
// #defines outside the !__ASSEMBLER__ part at the bottom.
//
// Physical memory during boot (low 1 MiB is what the BIOS leaves us):
//
//   0x00000000 +---------------------------+
//              | BIOS data, IVT            |
//   0x00005000 +---------------------------+ E820_MAP: count (4 bytes, then
//              | e820 map from the BIOS    |   4 bytes pad), then up to
//              |                           |   E820_MAX entries of 24 bytes
//   0x00007000 +---------------------------+
//              | boot loader stack (grows  |
//              | down from 0x7c00)         |
//   0x00007c00 +---------------------------+ BOOT1_ADDR: boot sector (stage 1)
//   0x00007e00 +---------------------------+ BOOT2_ADDR: stage 2 (C), at most
//              |                           |   BOOT2_SECTORS sectors
//   0x00010000 +---------------------------+ BOOT_SCRATCH: stage 2 reads the
//              | kernel ELF headers        |   kernel's ELF header here
//   0x000a0000 +---------------------------+
//              | VGA, ROMs, BIOS           |
//   0x00100000 +---------------------------+ KERNEL_PHYS
//              | guard page (unmapped)     |
//              | boot stack, KSTACKSIZE    |
//              | kernel text, data, bss    |
//              +---------------------------+ end (symbol from kernel.ld)
//              | free memory ...           |
//
// Disk layout of the boot disk (512-byte sectors):
//
//   sector 0                      stage 1 (boot sector, ends in 0x55 0xAA)
//   sectors 1 .. BOOT2_SECTORS    stage 2
//   sector KERNEL_LBA onwards     the kernel ELF file (debug info stripped)
//
// The virtual address space is drawn below, beside its constants.

#ifndef KERN_MEMLAYOUT_H
#define KERN_MEMLAYOUT_H

// Boot loader, physical addresses.
#define BOOT1_ADDR      0x7c00      // where the BIOS loads the boot sector
#define BOOT2_ADDR      0x7e00      // where stage 1 loads stage 2
#define BOOT2_SECTORS   8           // room for stage 2 on the disk (4 KiB)
#define BOOT_SCRATCH    0x10000     // stage 2 reads ELF headers here
#define KERNEL_HDR_SIZE 4096        // how much of the kernel file holds its headers
#define SECTOR_SIZE     512
#define KERNEL_LBA      (1 + BOOT2_SECTORS) // first disk sector of the kernel ELF

// The e820 map that stage 1 collects from the BIOS (int 0x15, eax=0xE820).
#define E820_MAP        0x5000      // uint32 count, uint32 pad, then entries
#define E820_ENTRIES    (E820_MAP + 8)
#define E820_ENTRY_SIZE 24          // base (8), length (8), type (4), attrs (4)
#define E820_ATTRS      20          // offset of attrs (ACPI 3.0) in an entry
#define E820_ATTR_VALID 1           // attrs bit 0: clear means "ignore this entry";
                                    //   stage 1 presets it for 20-byte BIOSes
#define E820_MAX        128         // entries that fit below 0x7000

// The kernel image.
#define KERNEL_PHYS     0x100000    // physical load address: 1 MiB
#define KERNBASE        0xFFFFFFFF80000000  // virtual address of physical 0
#define KERNEL_LOAD_LIMIT 0x1000000 // the image must end below 16 MiB physical
#define KSTACKSIZE      0x4000      // 16 KiB boot stack, below it a guard page

// The boot stack sits at the very start of the image, so that its guard page
// is in the first 2 MiB, the one region entry.S maps with 4 KiB pages.
#define BOOT_STACK_GUARD KERNEL_PHYS

#if LAB >= 2
// Virtual address space once the kernel's own page table is in use
// (vm_init in vm.c builds it, replacing entry.S's boot page tables):
//
//   0xFFFFFFFFFFFFFFFF +---------------------------+
//                      | unmapped                  |
//   end (kernel.ld) -> +---------------------------+
//                      | data, bss       RW-  NX   |  kernel image, mapped
//                      | rodata, ksyms   R--  NX   |  section by section
//                      | text            R-X       |  with 4 KiB pages
//                      | boot stack      RW-  NX   |
//   KERNBASE + 1 MiB   | guard page: unmapped      |  BOOT_STACK_GUARD
//   KERNBASE --------> +---------------------------+  0xFFFFFFFF80000000
//                      |          unmapped         |
//                      +---------------------------+  DIRECTMAP_BASE + DIRECTMAP_SIZE
//                      | direct map of physical    |
//                      | 0 .. top of usable RAM,   |
//                      | RW- NX, 1 GiB pages (or   |
//                      | 2 MiB: see vm.c)          |
//   DIRECTMAP_BASE --> +---------------------------+  0xFFFF800000000000
//                      | non-canonical: no address |
//                      | here can be used at all   |
//   0x00007FFFFFFFFFFF +---------------------------+
//                      | user space (lab 4):       |
//                      | unmapped in the kernel's  |
//                      | own page table            |
//   0x0000000000000000 +---------------------------+  page 0 is never mapped: NULL faults
//
// kalloc() hands out pages as direct-map addresses (KADDR); a page-table
// entry holds a physical address (PADDR). Physical memory beyond
// DIRECTMAP_SIZE is left unused (memmap.c says so at boot).
//
// Before vm_init, the boot page tables map physical 0 .. BOOTMAP_SIZE at
// 0, at KERNBASE, and (vm_boot_window in vm.c borrows the identity map's
// table for it) at DIRECTMAP_BASE: enough to build the new tables with.

#define DIRECTMAP_BASE  0xFFFF800000000000  // virtual address of physical 0 in the direct map
#define DIRECTMAP_SIZE  0x8000000000        // 512 GiB: what one PML4 entry maps
#define BOOTMAP_SIZE    0x40000000          // 1 GiB: what entry.S's boot tables map
#define LOWMEM_TOP      0x100000            // below 1 MiB: BIOS, boot data, never handed out

#endif
#if LAB >= 3
// The first MiB above KERNBASE, which the kernel's page table otherwise
// leaves unmapped (the image starts at KERNBASE + 1 MiB), holds what needs
// pages of its own, mapped one by one in the page table the boot stack's
// guard page already uses (so no new table page):
//   - device registers (memory-mapped I/O), uncached: lapic.c maps the
//     local APIC's page at MMIO_LAPIC (the direct map stops at the top
//     of RAM and never maps devices);
//   - the IST stacks (cpu.c), each ISTSTACKSIZE below an unmapped guard
//     page: memory of the image's .bss, mapped a second time here.
//
//   KERNBASE + 1 MiB ----> +---------------------------+ BOOT_STACK_GUARD
//                          | unmapped                  |
//                          | IST stack (cpu 0, IST 3)  |
//                          | guard page                |
//                          | ...                       |
//                          | IST stack (cpu 0, IST 1)  |
//   ISTSTACKS_BASE ------> | guard page                |
//                          | local APIC registers      |
//   MMIO_BASE -----------> +---------------------------+ KERNBASE
#define MMIO_BASE       KERNBASE            // first device page
#define MMIO_LAPIC      MMIO_BASE           // the local APIC's registers (lapic.c)
#define ISTSTACKS_BASE  (KERNBASE + 0x10000)  // the IST stacks and their guards (cpu.c)
#endif
#if LAB >= 4
// Processes (lab 4). Each has its own page table: the lower half is its
// own, the upper half is the kernel's (the same PML4 entries in every
// process, so a kernel mapping made once is seen by all):
//
//   USERTOP ---------> +---------------------------+ 0x0000800000000000
//                      | user stack, USTACKSIZE    | RW- NX; argv at its top
//                      | guard page: never mapped  |
//                      | ... unmapped ...          |
//                      | heap, grown by sbrk       | RW- NX, up to the guard
//                      | data, bss                 | RW- NX  (as the ELF file's
//                      | read-only data            | R-- NX   segments ask,
//   UTEXT -----------> | text                      | R-X      user/user.ld)
//                      | unmapped: NULL faults     |
//   0 ---------------> +---------------------------+
//
// The kernel stacks of processes sit below the IST stacks, each
// KSTACKSIZE with an unmapped guard page below it (proc.c):
//
//   KSTACKS_BASE + NPROC * (KSTACKSIZE + PGSIZE)
//                      | ...                       |
//                      | kernel stack of slot 0    |
//   KSTACKS_BASE ----> | guard page                |
#define UTEXT           0x400000            // where user programs are linked (user/user.ld)
#define USERTOP         0x0000800000000000  // the first address above the user half
#define USTACKSIZE      0x4000              // 16 KiB of user stack, a guard page below it
#define USTACKTOP       USERTOP
#define UHEAPTOP        (USTACKTOP - USTACKSIZE - 0x1000)  // the heap ends below the stack's guard page
#define KSTACKS_BASE    (KERNBASE - 0x40000000)  // processes' kernel stacks: 1 GiB below KERNBASE
#endif
#if LAB >= 5
// Lab 5 adds the I/O APIC's registers (ioapic.c), in the page above the
// local APIC's, uncached like them; the pages above it, up to
// ISTSTACKS_BASE, stay unmapped:
//
//                          | guard page of IST 1       | ISTSTACKS_BASE
//                          | unmapped                  |
//   MMIO_IOAPIC ---------> | I/O APIC registers        | KERNBASE + 4 KiB
//   MMIO_LAPIC ----------> | local APIC registers      | KERNBASE
#define MMIO_IOAPIC     (MMIO_BASE + 0x1000)  // the I/O APIC's registers (ioapic.c)
// The other CPUs start in real mode in this page (smp.c, apentry.S): below
// 1 MiB, between the boot loader's stage 2 and its scratch area, both done
// with by then.
#define AP_TRAMPOLINE   0x9000
#endif
#if LAB >= 2
#ifndef __ASSEMBLER__
// Physical address to direct-map address, and back.
#define KADDR(pa) ((void *)((uint64)(pa) + DIRECTMAP_BASE))
#define PADDR(va) ((uint64)(va) - DIRECTMAP_BASE)
#endif
#else
// Virtual address space once the kernel runs in long mode (lab 1):
//
//   0xFFFFFFFFFFFFFFFF +---------------------------+
//                      | kernel image: physical    |
//                      | 0 .. 1 GiB mapped at      |
//   KERNBASE ------->  | KERNBASE (-mcmodel=kernel)|
//   0xFFFFFFFF80000000 +---------------------------+
//                      |          unmapped         |
//   0x0000000040000000 +---------------------------+
//                      | identity map of physical  |
//                      | 0 .. 1 GiB (boot only)    |
//   0x0000000000000000 +---------------------------+
//
// The identity map exists only so that the instruction after the switch to
// paging can execute; lab 2 replaces both maps with the kernel's own page
// table and a direct map of all physical memory.
#endif

#ifndef __ASSEMBLER__
// Physical to kernel-virtual through KERNBASE: valid for physical memory
// below 1 GiB while the boot page tables are in use.
#define P2V(pa) ((void *)((uint64)(pa) + KERNBASE))
#endif

#endif
