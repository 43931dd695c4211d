// Processes: the process table, the scheduler, and fork, exit, wait,
// kill and the kills that user faults earn.
//
// procs[NPROC] holds every process; a slot is UNUSED until allocproc()
// takes it. Each slot has a kernel stack of its own, KSTACKSIZE bytes at
// kstack_addr(slot) with an unmapped guard page below, in the kernel's
// half of every page table. proc_init maps all of them once, at boot, and
// they stay: a mapping made or removed later would have to reach every
// CPU's TLB (lab 5 has several), and stacks that never move need no such
// shootdown. The top of a stack holds the trap frame: where
// syscall_entry and the CPU (TSS.rsp[0], which the scheduler points at it)
// save the user registers on every entry from user mode.
//
// Scheduling: a process keeps its CPU until it exits, yields (yield(),
// sleep()) or waits for a child. Each CPU runs a scheduler() loop on a
// stack of its own (the boot stack, an AP's stack): it picks the next
// RUNNABLE process round robin, loads its page table and kernel stack,
// and swtch()es to it; the process comes back with sched(), which
// swtch()es to the scheduler. A timer interrupt in user mode only counts
// a tick (from lab 6 it preempts: usertrap yields, so a process that
// never makes a system call still gives up its CPU every tick). Round
// robin from the slot after the last one it ran means a RUNNABLE process
// waits at most one turn of the table on any CPU: none starves.
//
// The process table's lock (lock_procs; from lab 5 on a spinlock, before
// that interrupts off on the one CPU) guards every slot's state, the pid
// counter and the parent links. A switch happens with it held, taken on
// one side of swtch() and released on the other: a process that gives up
// its CPU (yield, exit, wait) takes the lock, sets its state and calls
// sched(); the scheduler it switches to releases the lock, after swtch()
// has left the process's stack. The other way, the scheduler takes the
// lock, marks a process RUNNING and switches to it; the process releases
// it (after sched(), or in forkret the first time). This is what keeps a
// process on one CPU at a time: between `p->state = RUNNABLE` and the
// moment p's CPU is off p's kernel stack, the lock is held, and no other
// CPU's scheduler can pick p; were it picked in that window, two CPUs
// would run on one stack. (Biscuit's early SMP scheduler had exactly
// that race.) A CPU holds the lock from one side of a switch to the
// other, so the lock's record (spinlock.c) stays right: the CPU that took
// it releases it.
//
// Interrupts and the switch: the lock keeps them off across swtch(), and
// sched() carries the process's remembered interrupt state (cpu.intena)
// across the switch: a process that gave up the CPU with interrupts on
// (in a system call) gets them back on, whatever the process that ran in
// between had. (A process that exits from a fault arrives with them off;
// the next one must not inherit that.)
//
// FPU/SSE registers are process state too: a process's MXCSR and x87
// control word (rounding, which exceptions are masked) must not leak
// into the next one. The scheduler loads a process's save area before
// running it and saves it when it comes back; a new process and one that
// exec()s start from the default state.
//
// How lab 6 extends this rather than replacing it: swtch() and struct
// context stay; the timer interrupt calls yield(), so processes are
// preempted; a SLEEPING state with sleep() and wakeup() (sleep.c)
// replaces the loops in which wait() and sleep() yield until their
// condition holds; and each process has a table of open files (file.c),
// which allocproc copies from the process that forks and exit closes.
//
// The first process is the program named by init= on the command line
// (make qemu INIT=NAME), pid 1. Orphans become its children. When it
// exits, the machine is done: the kernel says so and powers off.
//
// Lab 4 exercises: fork and wait.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "proc.h"
#include "defs.h"
#if LAB >= 5
#include "spinlock.h"
#endif

CMDLINE_OPTION(init, "the first user process, with its arguments: NAME[:ARG:ARG...]");

struct proc procs[NPROC];
static struct proc *initproc;
static int nextpid = INITPID;
#if LAB >= 5
struct spinlock procs_lock;             // see the top: lock_procs (sleep.c uses it too)
#endif
extern char usertrapret[];              // trapasm.S: return to user mode from a trap frame

// The lowest address of slot i's kernel stack.
static uint64
kstack_addr(int i)
{
  return KSTACKS_BASE + (uint64)i * (KSTACKSIZE + PGSIZE) + PGSIZE;
}

_Static_assert(KSTACKS_BASE + NPROC * (KSTACKSIZE + PGSIZE) <= ISTSTACKS_BASE,
               "memlayout.h: the kernel stacks run into the IST stacks");

// The process running on this CPU; NULL in the scheduler. One load
// through %gs: were it two (mycpu(), then its proc), a process moved to
// another CPU in between (lab 6 preempts) would read that CPU's process.
struct proc *
myproc(void)
{
  struct proc *p;

  asm volatile("movq %%gs:%c1, %0" : "=r"(p) : "i"(__builtin_offsetof(struct cpu, proc)));
  return p;
}

// Hold the process table (see the top). With one CPU (labs 3 and 4),
// keeping interrupts off is enough.
static void
lock_procs(void)
{
#if LAB >= 5
  acquire(&procs_lock);
#else
  push_off();
#endif
}

static void
unlock_procs(void)
{
#if LAB >= 5
  release(&procs_lock);
#else
  pop_off();
#endif
}

// Once, at boot: map every slot's kernel stack (fresh pages, for the
// kernel only, global: the same in every page table, never executable).
void
proc_init(void)
{
  if (procs[0].kstack)
    return;                             // done already (a self-test may ask first)
#if LAB >= 5
  initlock(&procs_lock, "procs");
#endif
#if LAB >= 6
  file_init();
#endif
  uvm_init();
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    p->kstack = kstack_addr(p - procs);
    for (uint64 va = p->kstack; va < p->kstack + KSTACKSIZE; va += PGSIZE) {
      void *page = kalloc();
      if (page == NULL || kvm_map(va, PADDR(page), PGSIZE, PTE_W | user_nx) < 0)
        panic("proc_init: no memory for %d kernel stacks", NPROC);
    }
  }
}

// Which process kernel stack holds sp: sets [*lo, *hi) to its bounds and
// returns 1, or returns 0. (For backtraces: backtrace.c.)
int
kstack_of(uint64 sp, uint64 *lo, uint64 *hi)
{
  if (sp < KSTACKS_BASE || sp > kstack_addr(NPROC))
    return 0;
  uint64 i = (sp - KSTACKS_BASE) / (KSTACKSIZE + PGSIZE);
  if (i >= NPROC || sp < kstack_addr(i))
    return 0;                           // a guard page
  *lo = kstack_addr(i);
  *hi = *lo + KSTACKSIZE;
  return 1;
}

// Find an unused slot and make it a process that, when first scheduled,
// returns to user mode through its trap frame (which the caller fills
// in). NULL if the table is full or memory ran out.
static struct proc *
allocproc(void)
{
  struct proc *p;

  lock_procs();
  for (p = procs; p < &procs[NPROC]; p++)
    if (p->state == UNUSED)
      break;
  if (p == &procs[NPROC]) {
    unlock_procs();
    return NULL;
  }
  p->state = EMBRYO;                    // the slot is ours: the rest needs no lock
  p->pid = nextpid++;
  unlock_procs();
  p->killed = 0;
  p->xstatus = 0;
  p->parent = NULL;
  p->pml4 = NULL;
#if LAB >= 6
  file_fork(p, myproc());               // a child shares its maker's open files
#endif

  // The kernel stack, from the top: the trap frame; the address forkret
  // returns to (usertrapret, which leaves through the trap frame); the
  // context that the scheduler's first swtch() to p loads (rip: forkret).
  uint64 sp = p->kstack + KSTACKSIZE - sizeof(struct trapframe);
  p->tf = (struct trapframe *)sp;
  memset(p->tf, 0, sizeof(*p->tf));
  sp -= sizeof(uint64);
  *(uint64 *)sp = (uint64)usertrapret;
  sp -= sizeof(struct context);
  p->context = (struct context *)sp;
  memset(p->context, 0, sizeof(*p->context));
  p->context->rip = (uint64)forkret;
  fpu_default(p->fpu);
  return p;
}

// Free what slot p holds and mark it UNUSED: its address space (if exit
// has not freed it already). Its kernel stack stays, for the slot's next
// process. Called for a ZOMBIE with the table held (wait), or for an
// EMBRYO by the one who made it (fork): the slot goes free last, with a
// release store, so that whoever takes it next sees it cleared.
static void
freeproc(struct proc *p)
{
#if LAB >= 6
  // A failed fork's copies of the files. (A zombie has none left: wait
  // holds the table here, which a pipe's close would need for its wakeup.)
  file_exit(p);
#endif
  if (p->pml4)
    uvm_free(p->pml4);
  p->pml4 = NULL;
  p->pid = 0;
  p->parent = NULL;
  p->name[0] = '\0';
  __atomic_store_n(&p->state, UNUSED, __ATOMIC_RELEASE);
}

// Wait, holding the process table, until one of the caller's children may
// have changed: with processes that only yield (labs 4 and 5), let the
// others run a turn; from lab 6 on, sleep until exit() wakes the parent
// (or kill() does).
static void
await_children(void)
{
#if LAB >= 6
  sleep(myproc(), &procs_lock);
#else
  unlock_procs();
  yield();
  lock_procs();
#endif
}

// A process's first return to user mode starts here, on its kernel stack
// (allocproc put this function in its context); it returns into
// usertrapret. It releases the process table, which the scheduler took
// to switch here, as sched() would have (see the top).
void
forkret(void)
{
  unlock_procs();
}

// Start the first process: the program and arguments in opt (the init=
// option), "NAME:ARG:ARG" (the Makefile turns INIT="NAME ARG ARG" into
// that). Returns -1 if opt is NULL; powers off if there is no such
// program (so that make qemu INIT=typo ends).
int
userinit(const char *opt)
{
  static char line[CMDLINE_MAX];
  char *argv[MAXARG + 1];
  int argc = 0;
  struct proc *p;

  if (opt == NULL)
    return -1;
  proc_init();
  safestrcpy(line, opt, sizeof(line));
  for (char *s = line; s && argc < MAXARG; argc++) {
    argv[argc] = s;
    if ((s = strchr(s, ':')) != NULL)
      *s++ = '\0';
  }
  argv[argc] = NULL;
  if ((p = allocproc()) == NULL)
    panic("userinit: no process slot");
#if LAB >= 6
  if (file_console(p) < 0)
    panic("userinit: no file for the console");
#endif
  if (exec(p, argv[0], argv) < 0) {
    printf("init: cannot run %s (no such program, or too many arguments)\n", argv[0]);
    poweroff(1);
  }
  initproc = p;
  p->state = RUNNABLE;
  return 0;
}

// Create a child: a copy of the calling process (address space, user
// registers, heap bounds, name) that returns 0 from the system call,
// while the parent gets the child's pid. -1 if there is no slot or memory.
int
fork(void)
{
#if SOL >= 4
  struct proc *p = myproc(), *np;

  if ((np = allocproc()) == NULL)
    return -1;
  if ((np->pml4 = uvm_create()) == NULL || uvm_copy(p->pml4, np->pml4) < 0) {
    freeproc(np);
    return -1;
  }
  np->heap = p->heap;
  np->brk = p->brk;
  *np->tf = *p->tf;
  np->tf->rax = 0;              // fork returns 0 in the child
  fpu_save(p->fpu);             // the parent's FPU/SSE state, as it is now
  memmove(np->fpu, p->fpu, sizeof(np->fpu));
  safestrcpy(np->name, p->name, sizeof(np->name));
  np->parent = p;
  lock_procs();
  np->state = RUNNABLE;
  unlock_procs();
  return np->pid;
#else
  // LAB 4: allocproc() a child (-1 if none); give it a page table
  // (uvm_create) holding a copy of the parent's user memory (uvm_copy);
  // on failure freeproc() it and return -1. Copy the heap bounds, the
  // trap frame (so the child resumes where the parent called fork) with
  // the child's %rax set to 0, the FPU/SSE state (fpu_save the parent's
  // live registers into its p->fpu, then copy that), and the name; set
  // its parent; make it RUNNABLE, holding the table (lock_procs,
  // unlock_procs: another CPU's scheduler may take it at once), and
  // return its pid.
  (void)freeproc;
  return -1;
#endif
}

// End the calling process with status: give its children to init, free
// its address space, and stay a ZOMBIE until the parent's wait() reaps
// it. When init itself exits there is nothing left to do: power off.
void
exit(int status)
{
  struct proc *p = myproc();

  if (p == initproc) {
    printf("init: exited with status %d\n", status);
    poweroff(status);
  }
#if LAB >= 6
  file_exit(p);                         // before the table: a pipe's close wakes its reader
#endif
  lcr3(PADDR(vm_kernel_pml4()));        // off the page table before freeing it
  uvm_free(p->pml4);
  p->pml4 = NULL;
  lock_procs();
  for (struct proc *c = procs; c < &procs[NPROC]; c++) {
    if (c->parent == p) {
      c->parent = initproc;
#if LAB >= 6
      wakeup_locked(initproc);          // an orphan that is a zombie already
#endif
    }
  }
#if LAB >= 6
  wakeup_locked(p->parent);             // it may be asleep in wait()
#endif
  p->xstatus = status;
  p->state = ZOMBIE;                    // the parent may reap it once the scheduler
  sched();                              // releases the table, off this stack
  panic("exit: a zombie ran again");
}

// Wait for a child to exit; store its status at user address status
// (unless 0) and return its pid. -1 if the caller has no children, is
// killed, or status is not writable (the child is then left unreaped).
int
wait(uint64 status)
{
#if SOL >= 4
  struct proc *p = myproc();

  lock_procs();
  for (;;) {
    int children = 0;
    for (struct proc *c = procs; c < &procs[NPROC]; c++) {
      if (c->parent != p || c->state == UNUSED)
        continue;
      children = 1;
      if (c->state == ZOMBIE) {
        int pid = c->pid;
        if (status && copyout(p->pml4, status, &c->xstatus, sizeof(c->xstatus)) < 0) {
          unlock_procs();
          return -1;
        }
        freeproc(c);
        unlock_procs();
        return pid;
      }
    }
    if (!children || p->killed) {
      unlock_procs();
      return -1;
    }
    await_children();
  }
#else
  // LAB 4: hold the process table (lock_procs) from the start, and let
  // it go (unlock_procs) before each return. Loop: look through procs[]
  // for children of myproc(). If one
  // is a ZOMBIE: copyout its xstatus (an int: sizeof(c->xstatus) bytes)
  // to status (unless status is 0; return -1 if that fails), freeproc() it and return its pid. If there
  // are no children, or the caller was killed, return -1. Otherwise
  // await_children() (the children run meanwhile), and look again.
  (void)status;
  (void)await_children;
  return -1;
#endif
}

// Ask process pid to exit: it does when it next returns to user mode
// (proc_killcheck). -1 if there is no such process.
int
kill(int pid)
{
  int r = -1;

  lock_procs();
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    if (p->pid == pid && p->state != UNUSED && p->state != ZOMBIE) {
      p->killed = 1;
#if LAB >= 6
      if (p->state == SLEEPING)
        p->state = RUNNABLE;            // to see it was killed, and exit
#endif
      r = 0;
      break;
    }
  }
  unlock_procs();
  return r;
}

// Before returning to user mode: exit if kill() asked for it.
void
proc_killcheck(void)
{
  if (myproc()->killed)
    exit(-1);
}

// Give the CPU to the scheduler, which will run the next process; come
// back here when it picks this one again. The caller holds the process
// table and has set p->state; the table is held again on return.
// Interrupts are off across the switch, and this process's interrupt
// state comes back with it (see the top).
void
sched(void)
{
  struct proc *p = myproc();

  if (p->state == RUNNING)
    panic("sched: pid %d is still RUNNING", p->pid);
#if LAB >= 5
  if (!holding(&procs_lock))
    panic("sched: pid %d does not hold the process table", p->pid);
#endif
  if (mycpu()->noff != 1)
    panic("sched: interrupts pushed off %d deep (a lock held, or a push_off with no pop_off?)",
          mycpu()->noff);
  int intena = mycpu()->intena;
  swtch(&p->context, mycpu()->scheduler);
  mycpu()->intena = intena;             // this CPU may have run others since
}

// Let the other runnable processes run first.
void
yield(void)
{
  lock_procs();
  myproc()->state = RUNNABLE;
  sched();
  unlock_procs();
}

// Run process p on this CPU until it gives the CPU back: its page table,
// its kernel stack for entries from user mode (syscall_entry reads
// kstack_top; the CPU reads TSS.rsp[0]), and its FPU/SSE registers.
// The scheduler holds the process table throughout (interrupts off).
static void
run(struct cpu *c, struct proc *p)
{
  uint64 top = p->kstack + KSTACKSIZE;

  c->kstack_top = top;
  c->tss.rsp[0] = top;
  c->proc = p;
  p->state = RUNNING;
  lcr3(PADDR(p->pml4));
  fpu_restore(p->fpu);
  swtch(&c->scheduler, p->context);
  fpu_save(p->fpu);                     // the kernel never touches them: still p's
  lcr3(PADDR(vm_kernel_pml4()));
  c->proc = NULL;
}

// The scheduler: each CPU's loop, forever: run the RUNNABLE processes in
// turn, from the slot after the last one this CPU ran; with none, wait
// for an interrupt. Each pass first lets in the interrupts that waited
// (the process that switched here may have had them off), then chooses
// and switches holding the process table (see the top).
void
scheduler(void)
{
  struct cpu *c = mycpu();
  int next = 0;

  for (;;) {
    struct proc *chosen = NULL;
    intr_on();
    lock_procs();
    for (int n = 0; n < NPROC && chosen == NULL; n++) {
      struct proc *p = &procs[(next + n) % NPROC];
      if (p->state == RUNNABLE)
        chosen = p;
    }
    if (chosen) {
      next = (chosen - procs + 1) % NPROC;
      run(c, chosen);
    }
    unlock_procs();
    if (chosen == NULL)
      wait_for_interrupt();
  }
}

// A trap from user mode (trapasm.S sends them here): interrupts go to
// trap(); an exception kills the process that caused it, with one line
// that says who, what and where. A process that kill() named exits here.
void
usertrap(struct trapframe *tf)
{
  struct proc *p = myproc();

  if (tf->trapno < T_NEXCEPT && tf->trapno != T_NMI) {
    count_trap(tf->trapno);
    printf("pid %d (%s): killed by %s (vector %lu), rip %p, error 0x%lx", p->pid, p->name,
           trap_name(tf->trapno), tf->trapno, (void *)tf->rip, tf->err);
    if (tf->trapno == T_PGFLT)
      printf(", addr %p", (void *)rcr2());
    printf("\n");
    exit(-1);
  }
  trap(tf);
#if LAB >= 6
  if (tf->trapno == T_TIMER)
    yield();                            // a tick is the quantum: the next one's turn
#endif
  proc_killcheck();
}

// Processes in use (in any state but UNUSED), or if running, those
// RUNNING now (each on a CPU).
uint64
proc_count(int running)
{
  uint64 n = 0;

  lock_procs();
  for (struct proc *p = procs; p < &procs[NPROC]; p++)
    n += running ? p->state == RUNNING : p->state != UNUSED;
  unlock_procs();
  return n;
}

#if LAB >= 7
// ^P on the console (tty.c): a line for each process, and for a sleeping
// one what it sleeps on. Without procs_lock: it is for a kernel that
// seems stuck, which may be stuck holding it.
void
procdump(void)
{
  static const char *const states[] = {
    [UNUSED] = "unused", [EMBRYO] = "embryo", [RUNNABLE] = "runnable",
    [RUNNING] = "running", [ZOMBIE] = "zombie", [SLEEPING] = "sleeping",
  };

  printf("\n");
  for (struct proc *p = procs; p < &procs[NPROC]; p++) {
    if (p->state == UNUSED)
      continue;
    if (p->state == SLEEPING)           // (GDB's info symbol names the address)
      printf("%d %s %s on %p\n", p->pid, states[p->state], p->name, p->chan);
    else
      printf("%d %s %s\n", p->pid, states[p->state], p->name);
  }
}
#endif
