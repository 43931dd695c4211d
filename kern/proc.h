// Processes: struct proc, and the saved registers of a context switch.
//
// A process is a user address space (its own page table: pml4), a kernel
// stack with a trap frame at its top, and a saved kernel context. While it
// runs in user mode its kernel stack is empty; when it
// enters the kernel (a system call, an interrupt, a fault), the entry code
// builds the trap frame at the top of that stack (tf, below), and the
// kernel runs on the rest of it. When the process gives up the CPU
// (yield, wait, exit), swtch() saves its kernel registers in a struct
// context on that same stack and loads the scheduler's.

#ifndef KERN_PROC_H
#define KERN_PROC_H

#include "types.h"
#include "param.h"
#include "mmu.h"

// The registers swtch() saves and loads (swtch.S): the ones a C function
// must preserve, and the address to go on from. %rsp is the context's
// own address: swtch pushes these and saves %rsp, and a struct context *
// points at them on the stack. Field order is the order of the pushes,
// the last first.
struct context {
  uint64 r15, r14, r13, r12, rbx, rbp;
  uint64 rip;           // pushed by the call to swtch: where it returns
};

enum procstate {
  UNUSED,               // a free slot
  EMBRYO,               // taken by allocproc, being set up
  RUNNABLE,             // ready to run when the scheduler picks it
  RUNNING,              // on a CPU now
  ZOMBIE,               // exited; its parent's wait() has not reaped it
#if LAB >= 6
  SLEEPING,             // in sleep() (sleep.c), until a wakeup(chan) (or a kill)
#endif
};

struct proc {
  enum procstate state;
  int pid;
  char name[PROCNAME];          // the program's name, for reports and GDB
  struct proc *parent;          // the process that forked it (init for orphans)
  int xstatus;                  // exit status, for the parent's wait
  int killed;                   // kill() asked it to exit (see proc_killcheck)
#if LAB >= 6
  void *chan;                   // what it sleeps on, while SLEEPING
  struct file *ofile[NOFILE];   // its open files, by file descriptor (file.c)
#endif
  uint64 *pml4;                 // page table: its own lower half, the kernel's upper
  uint64 heap;                  // where the heap starts (the end of the ELF's segments)
  uint64 brk;                   // the program break: the heap ends here (sbrk)
  uint64 kstack;                // lowest address of its kernel stack (KSTACKSIZE bytes)
  struct trapframe *tf;         // at the top of kstack: user registers on entry
  struct context *context;      // saved by swtch() while it does not run
  // The FPU/SSE registers while it does not run: FXSAVE's 512-byte image
  // (proc.c), or from lab 6 XSAVE's, which is larger (its size depends on
  // the features XCR0 turns on: fpu.c) and needs 64-byte alignment.
  uint8 fpu[FPU_AREA_SIZE] __attribute__((aligned(64)));
};

#endif
