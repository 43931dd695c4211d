// x86-64 paging, segmentation and control-register bits, one comment each.
//
// Included by C and by assembly (entry.S, boot.S), so only #defines here,
// and every expression must mean the same to the C compiler and to the
// assembler (no casts, no integer suffixes).

#ifndef KERN_MMU_H
#define KERN_MMU_H

#define PGSHIFT         12          // log2 of a page's 4096 bytes
#define PDSHIFT         21          // log2 of the 2 MiB a page-directory entry maps
#define NPTENTRIES      512         // entries in every level of page table

// Page-table entry bits (the same at every level unless noted).
#define PTE_P           0x001       // present
#define PTE_W           0x002       // writable
#define PTE_PS          0x080       // page size: 2 MiB (PD) or 1 GiB (PDPT) page

// Control register 0.
#define CR0_PE          0x00000001  // protection enable: protected mode
#define CR0_WP          0x00010000  // write protect: ring 0 honours read-only pages
#define CR0_PG          0x80000000  // paging

// Control register 4.
#define CR4_PAE         0x00000020  // physical address extension (needed for long mode)

// The extended feature enable register, a model-specific register.
#define MSR_EFER        0xC0000080
#define EFER_LME        0x100       // long mode enable (takes effect with CR0.PG)
#define EFER_LMA        0x400       // long mode active (read-only, set by the CPU)

// Segment descriptors: the 8-byte entries of a GDT. In 64-bit mode the CPU
// ignores a code or data segment's base and limit; the access byte and the
// L flag still matter. A descriptor's fields, low bit to high:
//
//   0-15 limit 0-15 | 16-39 base 0-23 | 40-47 access | 48-51 limit 16-19 |
//   52-55 flags | 56-63 base 24-31
//
// Access byte bits.
#define SEG_A_RW        0x02        // code: readable; data: writable
#define SEG_A_X         0x08        // executable: a code segment
#define SEG_A_S         0x10        // a code or data segment (not a system one)
#define SEG_A_P         0x80        // present
// DPL (bits 5-6) stays 0 everywhere in lab 1: every segment is the kernel's.
#define SEG_A_CODE      (SEG_A_P | SEG_A_S | SEG_A_X | SEG_A_RW)  // kernel code, execute/read
#define SEG_A_DATA      (SEG_A_P | SEG_A_S | SEG_A_RW)            // kernel data, read/write
// Flag bits (the high nibble of byte 6).
#define SEG_F_L         0x2         // 64-bit code segment (long mode)
#define SEG_F_DB        0x4         // 32-bit default operand size (D/B)
#define SEG_F_G         0x8         // granularity: the limit counts 4 KiB pages
// A descriptor as one 64-bit value, for .quad in assembly.
#define SEG_DESC(base, limit, access, flags)                        \
  (((limit) & 0xffff) | (((base) & 0xffffff) << 16) |               \
   ((access) << 40) | ((((limit) >> 16) & 0xf) << 48) |             \
   ((flags) << 52) | ((((base) >> 24) & 0xff) << 56))

// Segment selectors of the kernel's GDT (entry.S): index << 3.
#define SEG_KCODE       0x08        // 64-bit kernel code
#define SEG_KDATA       0x10        // kernel data

// Boot loader GDT selectors (boot.S): flat 32-bit protected mode.
#define BOOT_SEG_CODE32 0x08
#define BOOT_SEG_DATA32 0x10

#if LAB >= 2
// The kernel's page tables (vm.c). A virtual address's bits 47..39, 38..30,
// 29..21 and 20..12 index the four levels: PML4, PDPT, PD, PT. Levels are
// numbered from the bottom: a level-1 entry maps a 4 KiB page, a level-2
// entry with PTE_PS a 2 MiB page, a level-3 one with PTE_PS a 1 GiB page.
#define PGSIZE          4096        // bytes in a page (1 << PGSHIFT)
#define PDPSHIFT        30          // log2 of the 1 GiB a PDPT entry maps
#define PML4SHIFT       39          // log2 of the 512 GiB a PML4 entry maps
#define PTLEVELS        4           // PML4, PDPT, PD, PT
#define PXBITS          9           // bits of a virtual address that index one level
#define PGSIZE_2M       0x200000    // a 2 MiB page: 1 << PDSHIFT
#define PGSIZE_1G       0x40000000  // a 1 GiB page: 1 << PDPSHIFT
#define PTE_U           0x004       // user: ring 3 may use the page (never in the kernel's map)
#define PTE_A           0x020       // accessed: set by the CPU on any use
#define PTE_D           0x040       // dirty: set by the CPU on a write (leaf entries)
#define PTE_G           0x100       // global: survives a CR3 load (needs CR4.PGE)
#define PTE_NX          0x8000000000000000  // no execute (needs EFER.NXE, else a reserved bit)
#define PTE_ADDR        0x000ffffffffff000  // the physical address an entry holds

// More control-register bits.
#define CR4_PGE         0x00000080  // page global enable: honour PTE_G
#define CR4_SMEP        0x00100000  // supervisor mode execution prevention: no kernel jump to user pages
#define CR4_SMAP        0x00200000  // supervisor mode access prevention: no kernel access to user pages
#define EFER_NXE        0x800       // no-execute enable: PTE_NX means something

// CPUID: which of these the CPU has. Leaf 0x80000001 answers in EDX, leaf
// 7 (subleaf 0) in EBX; leaves 0 and 0x80000000 give the highest leaf.
#define CPUID_MAXLEAF   0x00000000  // EAX: highest basic leaf
#define CPUID_EXTMAX    0x80000000  // EAX: highest extended leaf
#define CPUID_EXTFEAT   0x80000001  // extended features, in EDX:
#define CPUID_EDX_NX    0x00100000  //   bit 20: the NX bit
#define CPUID_EDX_1G    0x04000000  //   bit 26: 1 GiB pages (pdpe1gb)
#define CPUID_STRUCTFEAT 0x00000007 // structured extended features, in EBX:
#define CPUID_EBX_SMEP  0x00000080  //   bit 7: SMEP
#define CPUID_EBX_SMAP  0x00100000  //   bit 20: SMAP
#endif

#if LAB >= 4
// Letting user programs use SSE (cpu.c).
#define CR0_MP          0x00000002  // monitor coprocessor: wait/fwait honours TS
#define CR0_EM          0x00000004  // emulation: no x87/SSE at all if set
#define CR0_TS          0x00000008  // task switched: the next FPU/SSE use traps (#NM)
#define CR4_OSFXSR      0x00000200  // the OS saves SSE state (fxsave): SSE instructions work
#define CR4_OSXMMEXCPT  0x00000400  // SIMD floating-point exceptions raise #XM, not #UD

// Round an address down or up to a page boundary.
#define PGROUNDDOWN(a)  ((a) & ~(PGSIZE - 1))
#define PGROUNDUP(a)    (((a) + PGSIZE - 1) & ~(PGSIZE - 1))
#endif

#if LAB >= 6
// XSAVE (fpu.c; Intel SDM vol. 1, chapter 13).
#define CR4_OSXSAVE     0x00040000  // the OS uses XSAVE: XGETBV/XSETBV and AVX work
#define CPUID_FEAT      0x00000001  // basic features, in ECX:
#define CPUID_ECX_XSAVE 0x04000000  //   bit 26: XSAVE, XRSTOR, XSETBV, XCR0
#define CPUID_XSTATE    0x0000000d  // XSAVE state, subleaf 0: EDX:EAX the XCR0 bits the CPU
                                    //   has, EBX the save area's size for XCR0 as it is now
#define XCR0_X87        0x1         // XCR0 bits: state components XSAVE saves. x87 (always on)
#define XCR0_SSE        0x2         //   XMM registers and MXCSR
#define XCR0_AVX        0x4         //   the upper halves of the YMM registers
#endif

#if LAB >= 3
// Uncached page-table bits, for device registers (lapic.c).
#define PTE_PWT         0x008       // write-through
#define PTE_PCD         0x010       // cache disable

// A page fault's error code (the CPU pushes it; CR2 holds the address).
#define PF_P            0x01        // 1: a protection violation on a present page; 0: not present
#define PF_W            0x02        // 1: a write; 0: a read
#define PF_U            0x04        // 1: in user mode (CPL 3); 0: in the kernel
#define PF_RSVD         0x08        // a reserved bit was set in an entry on the way
#define PF_I            0x10        // an instruction fetch (with NX or SMEP on)

// RFLAGS bits.
#define FL_RSVD1        0x00000002  // reserved, always 1
#define FL_TF           0x00000100  // trap flag: single step
#define FL_IF           0x00000200  // interrupts enabled
#define FL_DF           0x00000400  // direction flag (string instructions go down)
#define FL_AC           0x00040000  // alignment check / SMAP override (stac, clac)

// More GDT entries (cpu.c): user segments, and each CPU's TSS. The order
// is the one syscall and sysret require (see cpu.c): kernel code, kernel
// data; then user 32-bit code (never used; sysret's layout wants it), user
// data, user 64-bit code. A TSS descriptor takes two slots.
#define SEG_UCODE32     0x18        // sysret's base selector: a null descriptor (cpu.c)
#define SEG_UDATA       0x20        // user data
#define SEG_UCODE       0x28        // user 64-bit code
#define SEG_TSS         0x30        // this CPU's TSS (16 bytes: slots 6 and 7)
#define SEG_NDESC       8           // GDT slots
#define DPL_USER        3           // a selector's or descriptor's privilege: ring 3
#define SEG_A_DPL3      0x60        // access byte: DPL 3
#define SEG_A_TSS       0x89        // access byte: present, 64-bit TSS (available)

// IDT gate descriptors (16 bytes in long mode): offset 0-15 | selector |
// IST (3 bits) | type and attributes | offset 16-31 | offset 32-63 | 0.
#define GATE_INTR       0x8E        // present, DPL 0, interrupt gate: IF cleared on entry
#define GATE_DPL3       0x60        // the gate may be used by int $n from ring 3

// Model-specific registers of fast system calls and per-CPU data.
#define MSR_APIC_BASE   0x0000001B  // the local APIC's physical address (bits 12..51)
#define MSR_STAR        0xC0000081  // segment selectors of syscall (47:32) and sysret (63:48)
#define MSR_LSTAR       0xC0000082  // syscall's 64-bit entry point
#define MSR_CSTAR       0xC0000083  // syscall's entry from compatibility mode (AMD)
#define MSR_FMASK       0xC0000084  // RFLAGS bits that syscall clears
#define MSR_GS_BASE     0xC0000101  // %gs base now
#define MSR_KERNEL_GS_BASE 0xC0000102  // %gs base that swapgs swaps in
#define EFER_SCE        0x001       // syscall/sysret enable
#endif

#endif
