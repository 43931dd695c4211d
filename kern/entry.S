// Kernel entry: from 32-bit protected mode to 64-bit long mode in the
// higher half, then into main().
//
// The boot loader (kern/boot/bootmain.c) jumps to _start, the physical
// address of entry32, with paging off, flat 32-bit segments, interrupts off.
// The kernel is linked at KERNBASE + physical address (kernel.ld), so until
// paging is on, every address we use must be turned physical: sym - KERNBASE.
//
// Long mode needs paging, and paging needs page tables. The boot page
// tables below are filled in at assembly time:
//
//   boot_pml4[0]   -> boot_pdpt_low[0]  -> boot_pd : identity map of 0..1 GiB
//   boot_pml4[511] -> boot_pdpt_high[510] -> boot_pd : KERNBASE .. +1 GiB
//
// Both views share one page directory of 2 MiB pages, except its first
// entry, which points to boot_pt: 4 KiB pages for the first 2 MiB, so that
// the guard page below the boot stack can be left unmapped. A stack overflow
// then faults instead of silently overwriting whatever lies below.
//
// The identity map is needed because the instruction after the one that
// turns on paging is fetched at a physical address; once we run at a
// KERNBASE address it is no longer used (lab 2 drops it).

#include "memlayout.h"
#include "mmu.h"

// Physical address of a kernel symbol, usable before paging is on.
#define PHYS(sym) ((sym) - KERNBASE)

#define PDE_2M   (PTE_P | PTE_W | PTE_PS)     // a present, writable 2 MiB page
#define PTE_4K   (PTE_P | PTE_W)              // a present, writable 4 KiB page
#define PML4_HIGH_INDEX 511                   // KERNBASE >> 39, low 9 bits
#define PDPT_HIGH_INDEX 510                   // KERNBASE >> 30, low 9 bits

.globl _start
_start = PHYS(entry32)                      // ELF entry point: physical

.section .text.entry, "ax"
.code32
entry32:
  // CR4.PAE: 64-bit page-table entries, required before enabling long mode.
  movl    %cr4, %eax
  orl     $CR4_PAE, %eax
  movl    %eax, %cr4

  // CR3: the top of the page-table tree, physical.
  movl    $PHYS(boot_pml4), %eax
  movl    %eax, %cr3

  // EFER.LME asks for long mode once paging is enabled. (EFER.NXE, which
  // makes page tables' no-execute bit mean something, waits for lab 2: not
  // every CPU has NX, and only CPUID can say so. No boot page table entry
  // sets that bit, so nothing here depends on it.)
  movl    $MSR_EFER, %ecx
  rdmsr
  orl     $EFER_LME, %eax
  wrmsr

  // CR0.PG turns paging on, and with EFER.LME set the CPU enters long mode
  // (EFER.LMA becomes 1), still running 32-bit "compatibility mode" code.
  // CR0.WP makes read-only pages read-only for the kernel too.
  movl    %cr0, %eax
  orl     $(CR0_PG | CR0_WP), %eax
  movl    %eax, %cr0

  // A GDT with a 64-bit code segment (L=1), then a far jump that loads it
  // into %cs: from the next instruction on, the CPU decodes 64-bit code.
  lgdt    PHYS(boot_gdt_desc32)
  ljmp    $SEG_KCODE, $PHYS(entry64_low)

.code64
entry64_low:
  // Still at a low (identity-mapped) address; jump to the high mapping.
  // An absolute jump through a register, since relative jumps stay low.
  movabsq $entry64_high, %rax
  jmp     *%rax

entry64_high:
  // Reload the GDT through its high address, so it survives the end of
  // the identity map, and the data segments (ignored in 64-bit mode for
  // addressing, but %ss must hold a valid selector or null).
  lgdt    boot_gdt_desc64(%rip)
  movw    $SEG_KDATA, %ax
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss
  xorw    %ax, %ax
  movw    %ax, %fs
  movw    %ax, %gs

  // The boot stack (kernel.ld places it right after the guard page).
  // A zero frame pointer marks the outermost frame for backtraces.
  movabsq $boot_stack_top, %rsp
  xorl    %ebp, %ebp

  // Clear the BSS. The boot loader zeroes it too, but the kernel should
  // not depend on how it was loaded (a debugger or another loader).
  movabsq $edata, %rdi
  movabsq $end, %rcx
  subq    %rdi, %rcx
  xorl    %eax, %eax
  cld
  rep stosb

  call    main
1:                                          // main never returns; if it did,
  cli                                       // stop here for good
  hlt
  jmp     1b

// The boot GDT: null, 64-bit kernel code, kernel data (mmu.h names the
// bits). Code: present, DPL 0, execute/read, L=1 (64-bit). Data: present,
// writable. Base and limit are ignored in 64-bit mode: zero.
.section .rodata
.p2align 3
boot_gdt:
  .quad   0                                     // the null descriptor
  .quad   SEG_DESC(0, 0, SEG_A_CODE, SEG_F_L)   // SEG_KCODE
  .quad   SEG_DESC(0, 0, SEG_A_DATA, 0)         // SEG_KDATA
boot_gdt_end:

// lgdt in 32-bit mode reads a 32-bit base, in 64-bit mode a 64-bit base.
boot_gdt_desc32:
  .word   boot_gdt_end - boot_gdt - 1
  .long   PHYS(boot_gdt)
boot_gdt_desc64:
  .word   boot_gdt_end - boot_gdt - 1
  .quad   boot_gdt

// The boot page tables, one page each, page-aligned as the MMU requires.
.section .data
.p2align PGSHIFT
.globl boot_pml4                             // the other CPUs start on these too (smp.c)
boot_pml4:
  .quad   PHYS(boot_pdpt_low) + (PTE_P | PTE_W)
  .fill   PML4_HIGH_INDEX - 1, 8, 0
  .quad   PHYS(boot_pdpt_high) + (PTE_P | PTE_W)

boot_pdpt_low:
  .quad   PHYS(boot_pd) + (PTE_P | PTE_W)
  .fill   NPTENTRIES - 1, 8, 0

boot_pdpt_high:
  .fill   PDPT_HIGH_INDEX, 8, 0
  .quad   PHYS(boot_pd) + (PTE_P | PTE_W)
  .fill   NPTENTRIES - PDPT_HIGH_INDEX - 1, 8, 0

// Entry 0 points at boot_pt; entries 1..511 map 2 MiB each, up to 1 GiB.
boot_pd:
  .quad   PHYS(boot_pt) + (PTE_P | PTE_W)
  .set    i, 1
  .rept   NPTENTRIES - 1
  .quad   (i << PDSHIFT) + PDE_2M
  .set    i, i + 1
  .endr

// The first 2 MiB in 4 KiB pages; the boot stack's guard page stays unmapped.
boot_pt:
  .set    i, 0
  .rept   NPTENTRIES
  .if     i == (BOOT_STACK_GUARD >> PGSHIFT)
  .quad   0
  .else
  .quad   (i << PGSHIFT) + PTE_4K
  .endif
  .set    i, i + 1
  .endr
