// swtch(&old, new): the context switch. Save the registers a C function
// must preserve on the current kernel stack, store the stack pointer in
// *old, load new as the stack pointer, restore the registers saved there,
// and return: into whatever called swtch() on that stack (the scheduler,
// or a process's sched()), or, for a process that never ran, into forkret
// (proc.c lays out its first context so).
//
// Only callee-saved registers need saving: swtch is called like any C
// function, so the compiler has already saved the others it needs. The
// layout matches struct context (proc.h): the call pushed rip, then these
// six pushes, the last (r15) at the lowest address.
//
// Lab 6 adds the FPU/SSE registers: until then a process gives up the CPU
// only inside a system call, where the ABI lets no SSE value live across
// the call, so none can be lost.

.text
.globl swtch
swtch:
  pushq   %rbp
  pushq   %rbx
  pushq   %r12
  pushq   %r13
  pushq   %r14
  pushq   %r15
  movq    %rsp, (%rdi)                  // *old = this stack's context
  movq    %rsi, %rsp                    // switch stacks: new's context
  popq    %r15
  popq    %r14
  popq    %r13
  popq    %r12
  popq    %rbx
  popq    %rbp
  ret                                   // to new's saved rip
