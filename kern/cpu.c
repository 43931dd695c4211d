// Per-CPU state: each CPU's GDT, TSS and IST stacks, its %gs, and the
// MSRs of the syscall instruction.
//
// There is one CPU until lab 5, but everything here is per CPU already:
// cpus[NCPU], each with its own GDT (its TSS descriptor differs), its own
// TSS and its own IST stacks, and cpu_init(id) sets up the CPU it runs on.
//
// The TSS holds no tasks in long mode, only stacks: rsp[0], where the CPU
// switches on an interrupt from user mode (lab 4 points it at each
// process's kernel stack), and ist[], IST stacks 1..7 (IST n is
// ist[n - 1]) that an IDT gate can ask for whatever the CPU was doing.
// Three gates do (trap.c):
//
//   IST_DBLFLT  double fault: the kernel's own stack may be what failed
//               (an overflow into the guard page, a corrupted %rsp), so
//               the report needs a stack known to be good;
//   IST_NMI     NMI: it may arrive anywhere, even in syscall_entry
//               before the switch to the kernel stack;
//   IST_MCHK    machine check: the same.
//
// Each IST stack has a guard page below it, unmapped: the stacks' memory
// is iststack_mem[] in .bss, but the CPU uses them at a second mapping,
// at ISTSTACKS_BASE (memlayout.h), where a never-mapped page lies below
// each. A handler that overflows its IST stack faults, and since that
// fault runs on the stack that overflowed, a double fault follows on
// IST_DBLFLT's stack, which reports it.
//
// %gs: while the CPU runs the kernel, MSR_GS_BASE is this CPU's struct
// cpu (mycpu() reads its self field through %gs); while it runs user code the user's
// base is there, and the kernel's waits in MSR_KERNEL_GS_BASE. swapgs
// swaps the two on every entry from user mode and every return to it
// (trapasm.S).
//
// syscall/sysret need the GDT in the order mmu.h gives: syscall loads %cs
// from MSR_STAR bits 47..32 and %ss from that + 8 (SEG_KCODE, SEG_KDATA);
// sysret loads %cs from bits 63..48 + 16 and %ss from + 8 (SEG_UCODE32 +
// 16 = SEG_UCODE, + 8 = SEG_UDATA), both with RPL 3. 64-bit sysret never
// reads the descriptor at SEG_UCODE32 itself (it loads fixed values), so
// that slot stays null: with no 32-bit code segment in the GDT (and no
// LDT), user code cannot enter compatibility mode at all, where AMD CPUs
// (TCG's qemu64 among them) would take `syscall` to MSR_CSTAR. A far
// jump or return to SEG_UCODE32 is a general protection fault, and
// MSR_CSTAR still points at an entry that kills the process, should one
// get there anyway (trapasm.S).
//
// Interrupt state: push_off()/pop_off() turn interrupts off and back on
// in pairs that nest, and every part of the kernel that needs them off
// uses them (lab 5's spinlocks do). The first push_off remembers whether
// interrupts were on; the last pop_off turns them on only if they were.
// The count and the remembered state are per CPU, so a process that gives
// up the CPU in the middle of a pair (sched() in proc.c) carries its own
// state across the switch.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"

struct cpu cpus[NCPU];
static uint8 iststack_mem[NCPU][NIST][ISTSTACKSIZE] __attribute__((aligned(PGSIZE)));

// IST stacks and their guards must fit below the boot stack's guard page.
_Static_assert(ISTSTACKS_BASE + NCPU * NIST * (ISTSTACKSIZE + PGSIZE) <= KERNBASE + BOOT_STACK_GUARD,
               "memlayout.h: the IST stacks do not fit below KERNBASE + 1 MiB");

// The lowest address of CPU c's IST stack n (1..NIST), as the CPU uses it.
static uint64
ist_base(int c, int n)
{
  return ISTSTACKS_BASE + (uint64)(c * NIST + n - 1) * (ISTSTACKSIZE + PGSIZE) + PGSIZE;
}

// syscall clears these RFLAGS bits: no interrupts until the entry code has
// switched stacks, no single-stepping into the kernel, the string
// direction the ABI expects, and SMAP's override off.
#define SYSCALL_FMASK   (FL_IF | FL_TF | FL_DF | FL_AC)

// A code or data descriptor, as SEG_DESC builds it for the assembler
// (mmu.h), but in 64-bit arithmetic: C's int would overflow at << 40.
static uint64
seg_desc(uint64 limit, uint64 access, uint64 flags)
{
  return (limit & 0xffff) | (access << 40) | (((limit >> 16) & 0xf) << 48) | (flags << 52);
}

// A 16-byte system descriptor (a TSS) in two GDT slots.
static void
set_tss_desc(uint64 *slot, struct tss *tss)
{
  uint64 base = (uint64)tss, limit = sizeof(*tss) - 1;

  slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | ((uint64)SEG_A_TSS << 40) |
            (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  slot[1] = base >> 32;
}

static void
gdt_init(struct cpu *c)
{
  struct {
    uint16 limit;
    uint64 base;
  } __attribute__((packed)) desc = { sizeof(c->gdt) - 1, (uint64)c->gdt };

  c->gdt[0] = 0;
  c->gdt[SEG_KCODE >> 3] = seg_desc(0, SEG_A_CODE, SEG_F_L);
  c->gdt[SEG_KDATA >> 3] = seg_desc(0, SEG_A_DATA, 0);
  c->gdt[SEG_UCODE32 >> 3] = 0;        // no 32-bit user code (see the top)
  c->gdt[SEG_UDATA >> 3] = seg_desc(0, SEG_A_DATA | SEG_A_DPL3, 0);
  c->gdt[SEG_UCODE >> 3] = seg_desc(0, SEG_A_CODE | SEG_A_DPL3, SEG_F_L);
  set_tss_desc(&c->gdt[SEG_TSS >> 3], &c->tss);
  // Same kernel selectors as entry.S's boot GDT: %cs and %ss stay valid.
  lgdt(&desc);
  ltr(SEG_TSS);
}

// Give the TSS its IST stacks: map each at ist_base (its guard page
// below stays unmapped) and point the TSS at its top.
static void
tss_init(struct cpu *c)
{
  pte_t *pml4 = vm_kernel_pml4();
  uint64 nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;

  if (pml4 == NULL)
    panic("tss_init: no kernel page table to map the IST stacks in");
  memset(&c->tss, 0, sizeof(c->tss));
  c->tss.iomap_base = sizeof(c->tss);
  for (int n = 1; n <= NIST; n++) {
    uint64 pa = (uint64)iststack_mem[c->id][n - 1] - KERNBASE;
    if (kvm_map(ist_base(c->id, n), pa, ISTSTACKSIZE, PTE_W | nx) < 0)
      panic("tss_init: cannot map IST stack %d", n);
    c->tss.ist[n - 1] = ist_base(c->id, n) + ISTSTACKSIZE;   // IST n is ist[n - 1]
  }
}

#if LAB >= 4
// Let user programs use the x87 FPU and SSE (the compiler emits SSE for
// ordinary C). The kernel itself never does (-mno-sse); run() (proc.c)
// saves and loads each process's FPU/SSE registers.
static void
fpu_init(void)
{
  lcr0((rcr0() | CR0_MP) & ~(CR0_EM | CR0_TS));
  lcr4(rcr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
  asm volatile("fninit");
}

// FXSAVE's image of the registers as FNINIT and a reset leave them: all
// exceptions masked, round to nearest, full precision (the x87 control
// word 0x37F; MXCSR 0x1F80), no values. The state every new program
// starts from. (Intel SDM vol. 1, 10.5.1 gives the layout.)
#define FXSAVE_FCW      0       // byte offset of the x87 control word
#define FXSAVE_MXCSR    24      // byte offset of MXCSR
#define FCW_DEFAULT     0x037F
#define MXCSR_DEFAULT   0x1F80

void
fpu_default(uint8 *area)
{
  memset(area, 0, FPU_AREA_SIZE);
  *(uint16 *)(area + FXSAVE_FCW) = FCW_DEFAULT;
  *(uint32 *)(area + FXSAVE_MXCSR) = MXCSR_DEFAULT;
}

#endif

// Save this CPU's FPU/SSE registers into area (16-byte aligned; 64 for
// lab 6's XSAVE), and load them from it. The kernel itself never uses them (-mno-sse), so whatever
// they hold belongs to the process that ran last. (Lab 6 saves AVX's too,
// with XSAVE: fpu.c.)
void
fpu_save(uint8 *area)
{
#if LAB >= 6
  if (xsave_features) { xsave(area); return; }
#endif
  asm volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void
fpu_restore(uint8 *area)
{
#if LAB >= 6
  if (xsave_features) { xrstor(area); return; }
#endif
  asm volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}
// Point %gs at cpus[id], the first thing a CPU does: mycpu() works from
// here on, and so do push_off and (lab 5) spinlocks, which everything
// takes, printf and kalloc among them.
void
cpu_early(int id)
{
  struct cpu *c = &cpus[id];

  c->self = c;
  c->id = id;
  wrmsr(MSR_GS_BASE, (uint64)c);
}

// Set up the CPU this runs on as CPU id: GDT, TSS, %gs, syscall.
void
cpu_init(int id)
{
  struct cpu *c = &cpus[id];

  cpu_early(id);
  tss_init(c);
  gdt_init(c);
  wrmsr(MSR_KERNEL_GS_BASE, 0);         // user mode's %gs base, until lab 4 says
  wrmsr(MSR_STAR, ((uint64)SEG_UCODE32 << 48) | ((uint64)SEG_KCODE << 32));
  wrmsr(MSR_LSTAR, (uint64)syscall_entry);
  wrmsr(MSR_CSTAR, (uint64)syscall_compat);
  wrmsr(MSR_FMASK, SYSCALL_FMASK);
  wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
#if LAB >= 4
  fpu_init();
#endif
#if LAB >= 6
  xsave_init();
#endif
}

// This CPU's struct cpu (after cpu_init).
struct cpu *
mycpu(void)
{
  struct cpu *c;

  asm volatile("movq %%gs:%c1, %0" : "=r"(c) : "i"(__builtin_offsetof(struct cpu, self)));
  return c;
}


// Interrupts off, counting: each push_off needs a pop_off.
void
push_off(void)
{
  int on = (rflags() & FL_IF) != 0;

  cli();
  struct cpu *c = mycpu();      // after cli: no switch to another CPU now
  if (c->noff == 0)
    c->intena = on;
  c->noff++;
}

// Undo one push_off; the last one turns interrupts back on if they were
// on before the first.
void
pop_off(void)
{
  struct cpu *c = mycpu();

  if (rflags() & FL_IF)
    panic("pop_off: interrupts are on");
  if (c->noff < 1)
    panic("pop_off: no push_off to undo");
  c->noff--;
  if (c->noff == 0 && c->intena)
    sti();
}

// Interrupts on, where the kernel is ready for them (a system call's
// start, each pass of the scheduler, a CPU's setup): never inside a
// push_off/pop_off pair.
void
intr_on(void)
{
  if (mycpu()->noff > 0)
    panic("intr_on: inside push_off (depth %d)", mycpu()->noff);
  sti();
}

// Wait, interrupts on, until an interrupt has come and been handled; off
// again after. (sti lets one more instruction run before any interrupt,
// so none can slip in between it and hlt and leave hlt waiting.)
void
wait_for_interrupt(void)
{
  if (mycpu()->noff > 0)
    panic("wait_for_interrupt: inside push_off (depth %d)", mycpu()->noff);
  asm volatile("sti; hlt; cli");
}

// Which IST stack (1..NIST) holds sp, on any CPU; 0 if none does. Sets
// [*lo, *hi) to its bounds when one does.
int
iststack_of(uint64 sp, uint64 *lo, uint64 *hi)
{
  for (int c = 0; c < NCPU; c++) {
    for (int n = 1; n <= NIST; n++) {
      uint64 base = ist_base(c, n);
      if (sp >= base && sp <= base + ISTSTACKSIZE) {
        *lo = base;
        *hi = base + ISTSTACKSIZE;
        return n;
      }
    }
  }
  return 0;
}

#if LAB >= 4
// syscall(), the dispatch on tf->rax, is in syscall.c.
#else
// The system call entry of lab 3: there are no user processes yet, so a
// system call can only be a mistake. Lab 4 replaces this with the
// dispatch on tf->rax.
void
syscall(struct trapframe *tf)
{
  panic("syscall: %lu from %p, but there are no processes until lab 4", tf->rax,
        (void *)tf->rip);
}
#endif
