// The trap frame and the per-CPU block: the two structures that the trap
// entry code (trapasm.S) and C share.
//
// Every way into the kernel (an exception with or without an error code,
// an interrupt, int $n, a system call) leaves one struct trapframe on the
// kernel stack, and trap() (trap.c) or syscall() gets a pointer to it.
// From the top of the stack down (the struct lists it bottom up):
//
//     +--------------+  <- the stack the CPU switched to, 16-byte aligned
//     | ss           |  -+
//     | rsp          |   |  pushed by the CPU (an exception or interrupt;
//     | rflags       |   |  for syscall, by syscall_entry, which copies
//     | cs           |   |  them from %rcx and %r11: see trapasm.S)
//     | rip          |  -+
//     | err          |  the CPU for exceptions with an error code (8, 10-14,
//     |              |  17, 21, 29, 30); else the vector's stub pushes 0
//     | trapno       |  the vector's stub (T_SYSCALL for syscall_entry)
//     | rax ... r15  |  alltraps (and syscall_entry): the general registers
//     +--------------+  <- %rsp when trap(tf) is called: tf
//
// The assembly names each field by its offset, TF_*: the compiler works
// them out from this struct (kern/genconsts.c), and the build writes them
// to build/consts.h, which trapasm.S includes. This struct is their one
// home.
//
// struct cpu is what %gs points at in the kernel (swapgs: see trapasm.S
// and cpu.c). syscall_entry reads two of its fields before it has a stack,
// by offset (CPU_KSTACK, CPU_USER_RSP, made the same way).

#ifndef KERN_TRAP_H
#define KERN_TRAP_H

// Vectors: the 32 exceptions the CPU defines (Intel SDM vol. 3A, 6.3.1) ...
#define T_DIVIDE        0           // #DE divide error
#define T_DEBUG         1           // #DB debug
#define T_NMI           2           // non-maskable interrupt
#define T_BRKPT         3           // #BP breakpoint (int3)
#define T_OFLOW         4           // #OF overflow (into)
#define T_BOUND         5           // #BR bound range exceeded
#define T_ILLOP         6           // #UD invalid opcode
#define T_DEVICE        7           // #NM device not available (FPU)
#define T_DBLFLT        8           // #DF double fault
#define T_COPROC        9           // coprocessor segment overrun (old CPUs only)
#define T_TSS           10          // #TS invalid TSS
#define T_SEGNP         11          // #NP segment not present
#define T_STACK         12          // #SS stack-segment fault
#define T_GPFLT         13          // #GP general protection
#define T_PGFLT         14          // #PF page fault
#define T_FPERR         16          // #MF x87 floating-point error
#define T_ALIGN         17          // #AC alignment check
#define T_MCHK          18          // #MC machine check
#define T_SIMDERR       19          // #XM SIMD floating-point
#define T_VIRT          20          // #VE virtualization
#define T_CTRLPROT      21          // #CP control protection
#define T_NEXCEPT       32          // vectors 0..31 are exceptions
// ... and the ones the kernel uses.
#define T_IRQ0          32          // the 8259 PICs' 16 lines, remapped here (all masked)
#define T_NPICIRQ       16
#define T_TIMER         48          // the local APIC timer
#if LAB >= 5
#define T_SERIAL        49          // COM1 through the I/O APIC: routed in lab 5, raised
                                    //   by the UART from lab 7 (ioapic.c says why not yet)
#define IRQ_COM1        4           // COM1's ISA IRQ
#endif
#if LAB >= 7
#define T_IDE           50          // the primary IDE channel through the I/O APIC (ide.c)
#define IRQ_IDE         14          // its ISA IRQ
#endif
#define T_TEST          64          // traptest.c's int $T_TEST
#define T_SPURIOUS      255         // the local APIC's spurious vector
#define T_NVECTORS      256
#define T_SYSCALL       256         // not a vector: trapno of a syscall's frame
#define VECTOR_SIZE     16          // bytes of each vector's stub (trapasm.S)

// The IST stacks (cpu.c): an index into the TSS's ist[], 1..7.
#define IST_DBLFLT      1           // double fault
#define IST_NMI         2           // NMI
#define IST_MCHK        3           // machine check
#define NIST            3

#ifndef __ASSEMBLER__
#include "types.h"
#include "mmu.h"

struct trapframe {
  // Pushed by alltraps or syscall_entry, last first.
  uint64 r15, r14, r13, r12, r11, r10, r9, r8;
  uint64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64 trapno;        // pushed by the vector's stub, or syscall_entry
  uint64 err;           // pushed by the CPU, or 0 by the stub
  // Pushed by the CPU (copied by syscall_entry for a system call).
  uint64 rip, cs, rflags, rsp, ss;
};

// The 64-bit task-state segment: no tasks in long mode, only the stacks
// the CPU switches to: rsp[0] on an interrupt from user mode, ist[n - 1]
// for a gate whose IST field is n. Packed: rsp[0] sits at offset 4.
struct tss {
  uint32 reserved0;
  uint64 rsp[3];
  uint64 reserved1;
  uint64 ist[7];
  uint64 reserved2;
  uint16 reserved3;
  uint16 iomap_base;    // beyond the limit: no I/O permission map
} __attribute__((packed));

// One CPU's state. %gs points here while the CPU runs the kernel.
struct cpu {
  struct cpu *self;     // this struct's address (mycpu reads it through %gs)
  uint64 kstack_top;    // CPU_KSTACK: the stack syscall_entry switches to
  uint64 user_rsp;      // CPU_USER_RSP: the user %rsp, while it does
  int id;               // 0 .. NCPU-1
  int noff;             // push_off nesting depth: interrupts stay off while > 0
  int intena;           // were interrupts on before the first push_off?
  uint64 nmis;          // NMIs reported on this CPU
  uint64 spurious;      // spurious interrupts seen
  uint64 gdt[SEG_NDESC] __attribute__((aligned(16)));  // this CPU's GDT (cpu.c)
  struct tss tss __attribute__((aligned(16)));
#if LAB >= 4
  struct proc *proc;    // the process running here, NULL in the scheduler
  struct context *scheduler;  // the scheduler's context, saved by swtch (proc.c)
#endif
#if LAB >= 5
  // The spinlocks this CPU holds, oldest first (spinlock.c): only this CPU
  // touches them, with interrupts off. The lock-order checker reads them.
  struct spinlock *held[NHELD];
  int nheld;
#endif
#if LAB >= 7
  uint64 irqs[T_NPICIRQ];  // device interrupts this CPU handled, by ISA IRQ (trap.c)
#endif
};
extern struct cpu cpus[NCPU];   // every CPU's, by id (cpu.c); the bound keeps GDB's view whole
#endif

#endif
