// Trap entry and exit: the first and last instructions the kernel runs
// for every exception, interrupt and system call.
//
// Three ways in, one trap frame (trap.h draws it):
//
//   vectors               256 stubs, one per IDT vector: pushes 0 for an error
//                         code if the CPU pushed none, then the vector
//                         number, and jumps to alltraps, or for the three
//                         vectors that run on IST stacks (NMI, double
//                         fault, machine check) to paranoid.
//   alltraps              saves the registers and calls trap(tf); swapgs
//                         if the trap came from user mode (the CPL, in
//                         the low two bits of the saved %cs, says so).
//   paranoid              the same, but decides on swapgs by reading the
//                         GS base itself: an NMI can arrive anywhere, even
//                         in syscall_entry's first instruction, where %cs
//                         says "kernel" but %gs is still the user's.
//   syscall_entry         the syscall instruction's target (MSR_LSTAR):
//                         no stack switch by the CPU, so it switches to
//                         the kernel stack itself and builds the same
//                         frame, then calls syscall(tf).
//   syscall_compat        MSR_CSTAR, syscall from 32-bit code: should it
//                         ever come (cpu.c says why it cannot), the
//                         same frame, and the program dies of it.
//
// And two ways out: trapret's iretq (with swapgs first, at usertrapret,
// when it returns to user mode), and sysretq at the end of syscall_entry.
// A fault at that iretq is the user's fault (bad_iret, below).
//
// Every way in clears RFLAGS before any C runs (clearflags below; syscall
// has MSR_FMASK do it), and every way out to user mode runs with
// interrupts off from the moment %gs is the user's again.
//
// The stack at each step (K: the kernel stack of whatever ran; I: an IST
// stack; U: a user stack, from lab 4 on):
//
//   interrupt or exception in the kernel: K (the CPU pushes on K itself)
//   ... from user mode:                    K = TSS.rsp[0]
//   NMI, double fault, machine check:      I = IST stack n, whatever ran
//                                          (IST n is TSS.ist[n - 1], trap.h)
//   syscall: U until `movq %gs:CPU_KSTACK, %rsp`, then K
//
// Before calling C, the entry code makes a frame (saved %rbp, "return
// address" = the interrupted %rip), so that a backtrace from inside trap()
// walks on into the code that was interrupted, as if it had called trap.
// The stack is 16-byte aligned at every call, as the ABI wants: the CPU
// aligns %rsp before pushing its frame, and the frame is 176 bytes
// (TF_SIZE), the fake one 16.

#include "mmu.h"
#include "trap.h"
#include "consts.h"                     // TF_*, CPU_*: generated (trap.h says how)

// Save the general registers, the last first, below trapno (trap.h).
.macro pushregs
  pushq   %rax
  pushq   %rbx
  pushq   %rcx
  pushq   %rdx
  pushq   %rsi
  pushq   %rdi
  pushq   %rbp
  pushq   %r8
  pushq   %r9
  pushq   %r10
  pushq   %r11
  pushq   %r12
  pushq   %r13
  pushq   %r14
  pushq   %r15
.endm

.macro popregs
  popq    %r15
  popq    %r14
  popq    %r13
  popq    %r12
  popq    %r11
  popq    %r10
  popq    %r9
  popq    %r8
  popq    %rbp
  popq    %rdi
  popq    %rsi
  popq    %rdx
  popq    %rcx
  popq    %rbx
  popq    %rax
.endm

// RFLAGS to a known state at every entry: all clear but the reserved bit.
// That clears DF, as C code expects, and AC: an interrupt can arrive in
// the middle of a copy to or from user memory (uvm.c's stac ... clac), and
// the handler must not run with SMAP's override still on. The interrupted
// code gets its own flags, AC included, back from the frame on iretq.
// (IF is already clear: every gate is an interrupt gate. syscall clears
// the same flags through MSR_FMASK.)
.macro clearflags
  pushq   $FL_RSVD1
  popfq
.endm

// Call fn(tf) with %rsp at the trap frame: make the fake frame (the
// interrupted %rbp and %rip) that backtraces walk through, call, drop it.
.macro calltrap fn
  pushq   TF_RIP(%rsp)                  // "return address": where the trap hit
  pushq   %rbp                          // the interrupted code's frame pointer
  movq    %rsp, %rbp                    // our frame: chained to that one
  leaq    16(%rsp), %rdi                // the first argument: tf
  call    \fn
  addq    $16, %rsp                     // drop the fake frame
.endm

// One stub per vector, each VECTOR_SIZE bytes from the last, so that
// trap.c finds vector n's stub at vectors + n * VECTOR_SIZE (.org stops
// the build if a stub outgrows its slot; the gap is filled with int3).
// The CPU pushes an error code for exactly these exceptions (Intel SDM
// vol. 3A, table 6-1); for the others the stub pushes 0, so that every
// frame has the same layout. Used in .rept with i counting up.
.macro vector
  .org    vectors + i * VECTOR_SIZE, 0xcc
  .if !(i == T_DBLFLT || (i >= T_TSS && i <= T_PGFLT) || i == T_ALIGN || i == T_CTRLPROT || i == 29 || i == 30)
  pushq   $0                            // no error code from the CPU
  .endif
  pushq   $i                            // trapno
  .if i == T_NMI || i == T_DBLFLT || i == T_MCHK
  jmp     paranoid                      // on an IST stack: see above
  .else
  jmp     alltraps
  .endif
.endm

.text
.globl alltraps
alltraps:
  // %rsp points at trapno; TF_CS - TF_TRAPNO above it is the saved %cs.
  testb   $DPL_USER, (TF_CS - TF_TRAPNO)(%rsp)
  jnz     fromuser
  pushregs                              // from the kernel: %gs is ours already ...
  cmpq    $iret_insn, TF_RIP(%rsp)      // ... unless a return to user mode failed
  je      bad_iret
.Lkerneltrap:
  clearflags
  calltrap trap
  jmp     trapret
fromuser:
  swapgs                                // %gs <- this CPU's struct cpu
  pushregs
.Lusertrap_frame:
  clearflags
#if LAB >= 4
  calltrap usertrap                     // proc.c: kills the process on an exception
#else
  calltrap trap
#endif
// Back to user mode through the trap frame at %rsp (a new process's
// first return comes here too: see allocproc in proc.c).
.globl usertrapret
usertrapret:
  cli                                   // none from here on: %gs is about to be the user's
  swapgs                                // give user mode its %gs back
.globl trapret
trapret:
  popregs
  addq    $16, %rsp                     // trapno and err
.globl iret_insn
iret_insn:
  iretq                                 // pops rip, cs, rflags, rsp, ss

// bad_iret: the iretq above faulted in ring 0, on its way to user mode.
// The CPU checks the frame it pops before it leaves ring 0: a
// non-canonical %rip is a #GP there on Intel and AMD CPUs (TCG does not
// model this one: it faults only after the switch), and so is a selector
// that is not a usable segment. The fault is the user program's, not the
// kernel's, but it arrived as a trap from the kernel, after usertrapret
// gave user mode its %gs. So: take the kernel's %gs back, turn the frame
// into the one iretq was popping (at the faulting frame's saved %rsp: rip,
// cs, rflags, rsp, ss), and handle it as a trap from user mode, which
// kills the process. Linux calls its version of this bad_iret too. A
// fault at the same iretq on the way back into the kernel is a kernel bug:
// an ordinary kernel trap.
bad_iret:
  movq    TF_RSP(%rsp), %rsi            // the frame iretq was popping
  testb   $DPL_USER, 8(%rsi)            // its %cs: was it going to user mode?
  jz      .Lkerneltrap
  swapgs                                // the kernel's %gs again
  movq    0(%rsi), %rax                 // copy rip, cs, rflags, rsp, ss
  movq    %rax, TF_RIP(%rsp)
  movq    8(%rsi), %rax
  movq    %rax, TF_CS(%rsp)
  movq    16(%rsi), %rax
  movq    %rax, TF_RFLAGS(%rsp)
  movq    24(%rsi), %rax
  movq    %rax, TF_RSP(%rsp)
  movq    32(%rsi), %rax
  movq    %rax, TF_SS(%rsp)
  jmp     .Lusertrap_frame                // a trap from user mode, with this frame

.globl paranoid
paranoid:
#if LAB >= 5
  // A CPU that panicked stops the others with an NMI (smp.c): stop here,
  // before any C code, whatever this CPU was doing.
  cmpl    $0, cpus_stopping(%rip)
  jne     cpu_stopped
#endif
  pushregs
  clearflags
  // Kernel %gs bases are kernel addresses: bit 63 set, the sign bit of
  // %edx after rdmsr. %ebx (callee-saved) remembers whether we swapped.
  movl    $MSR_GS_BASE, %ecx
  rdmsr                                 // %edx:%eax <- GS base
  xorl    %ebx, %ebx
  testl   %edx, %edx
  js      1f                            // the kernel's %gs already
  swapgs
  movl    $1, %ebx
1:
  calltrap trap
  testl   %ebx, %ebx
  jz      trapret
  swapgs                                // put back the %gs we found
  jmp     trapret

// The trap frame of a syscall instruction (trapno: what to record), built
// on this CPU's kernel stack: the CPU switched no stack, and left the user
// %rip in %rcx and %rflags in %r11.
.macro syscallframe trapno
  swapgs                                // %gs <- this CPU's struct cpu
  movq    %rsp, %gs:CPU_USER_RSP        // the user stack pointer, kept ...
  movq    %gs:CPU_KSTACK, %rsp          // ... while we move to the kernel stack
  pushq   $(SEG_UDATA | DPL_USER)       // ss, as sysret will set it
  pushq   %gs:CPU_USER_RSP              // rsp
  pushq   %r11                          // rflags
  pushq   $(SEG_UCODE | DPL_USER)       // cs, as sysret will set it
  pushq   %rcx                          // rip: the instruction after syscall
  pushq   $0                            // err
  pushq   $\trapno                      // trapno
  pushregs
.endm

#if LAB >= 5
// Where every CPU but a panicking one ends: no interrupt (cli), and no
// further NMI either (the CPU takes none until an iretq, which never comes).
// It counts itself first: the panicking CPU waits for every other one
// before its last line (smp_stop_others).
.globl cpu_stopped
cpu_stopped:
  lock incl cpus_stopped(%rip)
1:
  cli
  hlt
  jmp     1b
#endif

// syscall, from user mode: the CPU saved the user %rip in %rcx and
// %rflags in %r11, cleared the flags MSR_FMASK names (IF among them: no
// interrupt until we return), and loaded %cs and %ss from MSR_STAR; it
// did not touch %rsp. cpu.c sets the MSRs.
.globl syscall_entry
syscall_entry:
  syscallframe T_SYSCALL
  cld
  calltrap syscall                      // runs with interrupts on
  cli                                   // none from here to sysret (see syscall.c)

  // sysret loads %rip from %rcx. On Intel CPUs, if %rcx is not canonical
  // (bits 63..47 not all equal), sysret raises #GP in ring 0, but with the
  // user's %rsp already in place: the kernel would take a fault on a stack
  // user mode chose. (AMD CPUs finish the switch to ring 3 first, so the
  // #GP hits user mode, where it belongs.) A return address that is not
  // canonical therefore returns through iretq, which faults in user mode.
  movq    TF_RIP(%rsp), %rcx
  movq    %rcx, %r11
  shlq    $16, %r11                     // sign-extend bit 47 ...
  sarq    $16, %r11
  cmpq    %rcx, %r11                    // ... which changes a non-canonical one
  jne     2f
  popregs
  movq    (TF_RIP - TF_TRAPNO)(%rsp), %rcx      // sysret's %rip
  movq    (TF_RFLAGS - TF_TRAPNO)(%rsp), %r11   // sysret's %rflags
  movq    (TF_RSP - TF_TRAPNO)(%rsp), %rsp      // the user stack (IF is still 0)
  swapgs                                // user %gs
  sysretq                               // %cs, %ss from MSR_STAR; ring 3
2:
  swapgs
  jmp     trapret

// syscall from compatibility mode (MSR_CSTAR): only AMD CPUs come here,
// and only from 32-bit code, which the GDT gives user mode no segment for
// (cpu.c). Should a program get here anyway, it has done what an Intel CPU
// answers with an invalid opcode fault, and is treated so: killed.
.globl syscall_compat
syscall_compat:
  syscallframe T_ILLOP
  jmp     .Lusertrap_frame

// The stubs.
.p2align 4
.globl vectors
vectors:
.set i, 0
.rept T_NVECTORS
  vector
  .set i, i + 1
.endr
.org    vectors + T_NVECTORS * VECTOR_SIZE, 0xcc
