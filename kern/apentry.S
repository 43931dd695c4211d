// The other CPUs' first instructions: from real mode to 64-bit long mode
// in the higher half, then into ap_main() (smp.c).
//
// An AP (application processor) starts when the boot CPU sends it INIT
// and then STARTUP IPIs (smp.c). The STARTUP IPI's vector is a page
// number: the AP begins in 16-bit real mode at CS:IP = (vector << 8):0,
// that is, at physical address vector * 4096, which must lie below 1 MiB.
// smp.c copies the code between ap_trampoline and ap_trampoline_end to
// AP_TRAMPOLINE (memlayout.h), a page below 1 MiB that kalloc never hands
// out, and fills in the three variables at its end before each start.
//
// The code here therefore runs at AP_TRAMPOLINE, not where the linker put
// it: every address it uses before it reaches the kernel's own mapping is
// TRAMP(label), the label's place in the copy.
//
// The way up is entry.S's, one mode more:
//   16-bit real mode     load a GDT (in the trampoline), set CR0.PE, and
//                        far-jump into its 32-bit code segment;
//   32-bit protected     CR4.PAE, CR3 = entry.S's boot page tables (they map
//                        this page at its own address and the kernel at
//                        KERNBASE; lab 2's kernel table does not map low
//                        memory, and CR3 can hold only 32 bits here), EFER.LME,
//                        CR0.PG: long mode, in compatibility mode, then a
//                        far jump into the 64-bit code segment;
//   64-bit, low address  an absolute jump to ap_entry64, in the kernel;
//   64-bit, high         the stack smp.c chose for this CPU, and
//                        ap_main(cpu id), which never returns.

#include "memlayout.h"
#include "mmu.h"

// Where a trampoline label is in the copy that the AP runs.
#define TRAMP(sym)      (AP_TRAMPOLINE + (sym) - ap_trampoline)

// Selectors in the trampoline's GDT. The 64-bit code segment and the data
// segment have the kernel GDT's selectors (SEG_KCODE, SEG_KDATA), so %cs
// and %ss stay valid when cpu_init loads that GDT.
#define AP_SEG_CODE64   SEG_KCODE
#define AP_SEG_DATA32   SEG_KDATA
#define AP_SEG_CODE32   0x18

.section .rodata
.globl ap_trampoline, ap_trampoline_end
.globl ap_tramp_cr3, ap_tramp_stack, ap_tramp_cpu
.code16
ap_trampoline:
  cli
  cld
  xorw    %ax, %ax                      // real mode: segment 0, so that
  movw    %ax, %ds                      // TRAMP() addresses are physical
  lgdtl   TRAMP(ap_gdt_desc)
  movl    %cr0, %eax
  orl     $CR0_PE, %eax
  movl    %eax, %cr0
  ljmpl   $AP_SEG_CODE32, $TRAMP(ap_start32)

.code32
ap_start32:
  movw    $AP_SEG_DATA32, %ax
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss
  movl    %cr4, %eax                    // 64-bit page-table entries
  orl     $CR4_PAE, %eax
  movl    %eax, %cr4
  movl    TRAMP(ap_tramp_cr3), %eax     // the boot page tables (entry.S)
  movl    %eax, %cr3
  movl    $MSR_EFER, %ecx               // long mode, once paging is on
  rdmsr
  orl     $EFER_LME, %eax
  wrmsr
  movl    %cr0, %eax                    // paging on: long mode, 32-bit code
  orl     $(CR0_PG | CR0_WP), %eax
  movl    %eax, %cr0
  ljmpl   $AP_SEG_CODE64, $TRAMP(ap_start64)

.code64
ap_start64:
  movabsq $ap_entry64, %rax             // up to the kernel's own address
  jmp     *%rax

// The trampoline's GDT: null, the 64-bit code segment that the jump into
// long mode needs, flat 4 GiB data, and flat 32-bit code.
.p2align 3
ap_gdt:
  .quad   0
  .quad   SEG_DESC(0, 0, SEG_A_CODE, SEG_F_L)                       // AP_SEG_CODE64
  .quad   SEG_DESC(0, 0xfffff, SEG_A_DATA, SEG_F_DB | SEG_F_G)      // AP_SEG_DATA32
  .quad   SEG_DESC(0, 0xfffff, SEG_A_CODE, SEG_F_DB | SEG_F_G)      // AP_SEG_CODE32
ap_gdt_end:
ap_gdt_desc:
  .word   ap_gdt_end - ap_gdt - 1
  .long   TRAMP(ap_gdt)

// Filled in by smp.c in the copy, before each AP's start.
.p2align 3
ap_tramp_cr3:   .quad 0                 // physical address of the boot PML4
ap_tramp_stack: .quad 0                 // the top of this AP's stack
ap_tramp_cpu:   .quad 0                 // its cpu id (index into cpus[])
ap_trampoline_end:

// In the kernel proper, at its linked address: the kernel's GDT (as
// entry.S loads it, for its high address), the stack, and C. A zero frame
// pointer ends backtraces here.
.text
.globl ap_entry64
ap_entry64:
  movabsq $TRAMP(ap_tramp_stack), %rax  // still mapped: the boot tables
  movq    (%rax), %rsp
  movq    8(%rax), %rdi                 // ap_tramp_cpu: ap_main's argument
  xorl    %ebp, %ebp
  call    ap_main
1:
  cli
  hlt
  jmp     1b
