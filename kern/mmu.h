// x86-64 paging, segmentation and control-register bits, one comment each.
//
// Included by C and by assembly (entry.S, boot.S), so only #defines here.

#ifndef KERN_MMU_H
#define KERN_MMU_H

#define PGSIZE          4096        // bytes in a page
#define PGSHIFT         12          // log2(PGSIZE)
#define PDSHIFT         21          // log2 of the 2 MiB a page-directory entry maps
#define NPTENTRIES      512         // entries in every level of page table

// Page-table entry bits (the same at every level unless noted).
#define PTE_P           0x001       // present
#define PTE_W           0x002       // writable
#define PTE_U           0x004       // user may access
#define PTE_PS          0x080       // page size: 2 MiB (PD) or 1 GiB (PDPT) page
#define PTE_NX_HI       0x80000000  // no-execute is bit 63: bit 31 of the high word

// Control register 0.
#define CR0_PE          0x00000001  // protection enable: protected mode
#define CR0_WP          0x00010000  // write protect: ring 0 honours read-only pages
#define CR0_PG          0x80000000  // paging

// Control register 4.
#define CR4_PAE         0x00000020  // physical address extension (needed for long mode)
#define CR4_OSFXSR      0x00000200  // the OS saves SSE state with FXSAVE
#define CR4_SMEP        0x00100000  // supervisor mode execution prevention
#define CR4_SMAP        0x00200000  // supervisor mode access prevention

// The extended feature enable register, a model-specific register.
#define MSR_EFER        0xC0000080
#define EFER_SCE        0x001       // syscall/sysret enable
#define EFER_LME        0x100       // long mode enable (takes effect with CR0.PG)
#define EFER_LMA        0x400       // long mode active (read-only, set by the CPU)
#define EFER_NXE        0x800       // no-execute bit in page tables is honoured

// Segment selectors of the kernel's GDT (entry.S): index << 3.
#define SEG_KCODE       0x08        // 64-bit kernel code
#define SEG_KDATA       0x10        // kernel data

// Boot loader GDT selectors (boot.S): flat 32-bit protected mode.
#define BOOT_SEG_CODE32 0x08
#define BOOT_SEG_DATA32 0x10

#endif
