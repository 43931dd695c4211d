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
// The FPU/SSE (from lab 6 AVX) registers are not swtch's: a process's
// are saved and loaded by the scheduler's run() (proc.c), which the
// kernel's own code never disturbs (-mno-sse).

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
