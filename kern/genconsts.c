// The kernel's constants, for the programs that are not C: the grader
// (grade/gradelib.py), the GDB helpers (tools/gdbhelpers.py) and the
// Makefile read them from build/consts, which the Makefile makes from this
// file. The headers stay their one home; nothing else copies a number.
//
// This file is never part of the kernel. The Makefile compiles it to
// assembly only (-S), with the kernel's own flags, so each value is the
// one the compiler works out for this build: the headers' expressions,
// casts and ~ as C means them, and only what this lab's headers have.
// Each CONST() leaves a marker line in that assembly, which
// tools/consts.awk turns into a line of build/consts:
//
//     KERNBASE 0xffffffff80000000
//     CMDLINE_FWCFG_NAME opt/kestrel/cmdline
//
// NAME and VALUE: numbers in hex, strings as they are (no quotes, and
// never a space or a leading 0x). A tool that needs another constant gets
// a line here, in the section of the lab whose headers define it; the
// order within a prefix (CR0_, PTE_, ...) is the order GDB shows bits in.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"

// The marker is an .ascii directive (clang checks inline assembly even
// when it only writes it out) holding the name and the value in four
// 16-bit pieces, high first: a compiler prints an immediate as a signed
// number, which would make a kernel address negative, while the pieces
// print as they are and the awk script glues them into hex.
#define PIECE(v, n)     "i"(((uint64)(v) >> (16 * (n))) & 0xffff)
#define NUMBER(name, v) asm volatile(".ascii \"@const " name " %c0 %c1 %c2 %c3\"" \
                                     :: PIECE(v, 3), PIECE(v, 2), PIECE(v, 1), PIECE(v, 0))
#define CONST(name)     NUMBER(#name, name)
// A struct's field offset or size: in build/consts, and as a #define in
// build/consts.h, which the assembly includes (the asm-offsets technique:
// the struct in the header is the one home of its layout).
#define OFFSET(name, v) asm volatile(".ascii \"@offset " #name " %c0 %c1 %c2 %c3\"" \
                                     :: PIECE(v, 3), PIECE(v, 2), PIECE(v, 1), PIECE(v, 0))
#define FIELD(name, type, field)  OFFSET(name, __builtin_offsetof(struct type, field))
#define STRING(name)    asm volatile(".ascii \"@string " #name " " name "\"")

// Lab 1: the boot, the console, backtraces.
void
consts_lab1(void)
{
  // The Makefile's QEMU command; the grader.
  STRING(CMDLINE_FWCFG_NAME);
  CONST(DEBUG_EXIT_PORT);
  CONST(BACKTRACE_DEPTH);
  CONST(KERNBASE);
  CONST(KERNEL_PHYS);
  CONST(SEG_KCODE);

  // GDB's e820 command.
  CONST(E820_MAP);
  CONST(E820_ENTRIES);
  CONST(E820_MAX);

  // Bits that GDB's cpumode and pte name.
  CONST(CR0_PE);
  CONST(CR0_WP);
  CONST(CR0_PG);
  CONST(CR4_PAE);
  CONST(EFER_LME);
  CONST(EFER_LMA);
  CONST(PTE_P);
  CONST(PTE_W);
  CONST(PTE_PS);
}
#if LAB >= 2

// Lab 2: physical memory and the kernel's page tables.
void
consts_lab2(void)
{
  CONST(PGSIZE);
  CONST(KMALLOC_MAX);
  CONST(DIRECTMAP_BASE);
  CONST(DIRECTMAP_SIZE);
  CONST(LOWMEM_TOP);
  CONST(CR4_PGE);
  CONST(CR4_SMEP);
  CONST(CR4_SMAP);
  CONST(EFER_NXE);
  CONST(PTE_U);
  CONST(PTE_A);
  CONST(PTE_D);
  CONST(PTE_G);
  CONST(PTE_NX);
  CONST(PTE_ADDR);
}
#endif
#if LAB >= 3
#include "trap.h"

// Lab 3: traps, interrupts and the IST stacks.
void
consts_lab3(void)
{
  CONST(HZ);
  CONST(ISTSTACKSIZE);
  CONST(ISTSTACKS_BASE);
  CONST(MMIO_BASE);
  CONST(SEG_UCODE32);
  CONST(EFER_SCE);
  CONST(PTE_PWT);
  CONST(PTE_PCD);
  CONST(PF_P);
  CONST(PF_W);
  CONST(PF_U);
  CONST(PF_I);
  CONST(FL_TF);
  CONST(FL_IF);
  CONST(FL_DF);
  CONST(FL_AC);

  // The vectors that GDB's tf names by their comment in trap.h (the
  // exceptions it names from the kernel's exception_names[]).
  CONST(T_IRQ0);
  CONST(T_TIMER);
  CONST(T_TEST);
  CONST(T_SPURIOUS);
  CONST(T_SYSCALL);
  CONST(T_GPFLT);

  // trapasm.S's view of the trap frame and of struct cpu (%gs:CPU_*).
  FIELD(TF_TRAPNO, trapframe, trapno);
  FIELD(TF_RIP, trapframe, rip);
  FIELD(TF_CS, trapframe, cs);
  FIELD(TF_RFLAGS, trapframe, rflags);
  FIELD(TF_RSP, trapframe, rsp);
  FIELD(TF_SS, trapframe, ss);
  OFFSET(TF_SIZE, sizeof(struct trapframe));
  FIELD(CPU_KSTACK, cpu, kstack_top);
  FIELD(CPU_USER_RSP, cpu, user_rsp);
}
#endif
#if LAB >= 4

// Lab 4: processes and user space.
void
consts_lab4(void)
{
  CONST(UTEXT);
  CONST(USERTOP);
  CONST(USTACKSIZE);
  CONST(CR0_MP);
  CONST(CR0_EM);
  CONST(CR0_TS);
  CONST(CR4_OSFXSR);
  CONST(CR4_OSXMMEXCPT);

  // The tests of what a user program cannot do to the kernel.
  CONST(NPROC);
  CONST(SEG_UDATA);
  CONST(SEG_TSS);
  CONST(SEG_NDESC);
}
#endif
#if LAB >= 5

// Lab 5: CPUs, interrupt routing (acpi.c, ioapic.c) and spinlocks.
void
consts_lab5(void)
{
  CONST(NCPU);
  CONST(MMIO_IOAPIC);
  CONST(T_SERIAL);
  CONST(IRQ_COM1);

  // The spinlock tests (kern/test/locktest.c).
  CONST(NHELD);
  CONST(NLOCKCLASS);
  CONST(LOCK_WAIT_MS);
  CONST(LOCK_WAIT_SPINS);
}
#endif
#if LAB >= 6

// Lab 6: XSAVE (fpu.c), files and pipes.
void
consts_lab6(void)
{
  CONST(CR4_OSXSAVE);
  CONST(XCR0_X87);
  CONST(XCR0_SSE);
  CONST(XCR0_AVX);
  CONST(FPU_AREA_SIZE);
  CONST(NOFILE);
  CONST(NFILE);
  CONST(PIPESIZE);
}
#endif
#if LAB >= 7

// Lab 7: the disk (ide.c), the buffer cache (bio.c), the console's input (tty.c).
void
consts_lab7(void)
{
  CONST(BSIZE);
  CONST(NBUF);
  CONST(DATADEV);
  CONST(LBA28_BLOCKS);
  CONST(T_IDE);
  CONST(IRQ_IDE);
  CONST(INPUT_BUF);
  CONST(UART_TXBUF);
}
#endif
