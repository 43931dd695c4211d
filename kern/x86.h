// One-instruction wrappers, each named after the x86 instruction it runs.
//
// C cannot name I/O ports, control registers or model-specific registers,
// so each of these inline functions wraps the single instruction that can.

#ifndef KERN_X86_H
#define KERN_X86_H

#include "types.h"

static inline uint8
inb(uint16 port)
{
  uint8 data;
  asm volatile("inb %1, %0" : "=a"(data) : "d"(port));
  return data;
}

static inline void
outb(uint16 port, uint8 data)
{
  asm volatile("outb %0, %1" : : "a"(data), "d"(port));
}

static inline void
outw(uint16 port, uint16 data)
{
  asm volatile("outw %0, %1" : : "a"(data), "d"(port));
}

// Read count 32-bit words from port into addr (the ATA data port).
static inline void
insl(uint16 port, void *addr, uint32 count)
{
  asm volatile("cld; rep insl"
               : "+D"(addr), "+c"(count)
               : "d"(port)
               : "memory", "cc");
}

#if LAB >= 7
// Write count 32-bit words from addr to port (the ATA data port).
static inline void
outsl(uint16 port, const void *addr, uint32 count)
{
  asm volatile("cld; rep outsl"
               : "+S"(addr), "+c"(count)
               : "d"(port)
               : "cc");
}

static inline uint32
inl(uint16 port)
{
  uint32 data;

  asm volatile("inl %1, %0" : "=a"(data) : "d"(port));
  return data;
}

static inline void
outl(uint16 port, uint32 data)
{
  asm volatile("outl %0, %1" : : "a"(data), "d"(port));
}
#endif

static inline void
stosb(void *addr, uint8 data, uint32 count)
{
  asm volatile("cld; rep stosb"
               : "+D"(addr), "+c"(count)
               : "a"(data)
               : "memory", "cc");
}

#ifdef __x86_64__

static inline uint64
rdmsr(uint32 msr)
{
  uint32 lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64)hi << 32) | lo;
}

// The frame pointer of the calling function: where a backtrace starts.
static inline uint64
rrbp(void)
{
  uint64 val;
  asm volatile("mov %%rbp, %0" : "=r"(val));
  return val;
}

// The stack pointer: which stack the caller runs on.
static inline uint64
rrsp(void)
{
  uint64 val;
  asm volatile("mov %%rsp, %0" : "=r"(val));
  return val;
}

#if LAB >= 2
static inline void
wrmsr(uint32 msr, uint64 val)
{
  asm volatile("wrmsr" : : "c"(msr), "a"((uint32)val), "d"((uint32)(val >> 32)));
}

// CPUID leaf (subleaf sub): the four registers it answers in.
static inline void
cpuid(uint32 leaf, uint32 sub, uint32 *a, uint32 *b, uint32 *c, uint32 *d)
{
  asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64
rcr3(void)
{
  uint64 val;
  asm volatile("mov %%cr3, %0" : "=r"(val));
  return val;
}

// Load CR3: switch page tables and flush the TLB's non-global entries.
static inline void
lcr3(uint64 val)
{
  asm volatile("mov %0, %%cr3" : : "r"(val) : "memory");
}

static inline uint64
rcr4(void)
{
  uint64 val;
  asm volatile("mov %%cr4, %0" : "=r"(val));
  return val;
}

static inline void
lcr4(uint64 val)
{
  asm volatile("mov %0, %%cr4" : : "r"(val) : "memory");
}

// Set and clear RFLAGS.AC: with SMAP on, the kernel may touch user pages
// only between the two (uvm.c). Only CPUs with SMAP have them.
static inline void
stac(void)
{
  asm volatile("stac" : : : "memory");
}

static inline void
clac(void)
{
  asm volatile("clac" : : : "memory");
}

// Drop the TLB's entry for the page holding va.
static inline void
invlpg(void *va)
{
  asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

// The time-stamp counter: cycles (at a constant rate) since reset.
static inline uint64
rdtsc(void)
{
  uint32 lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64)hi << 32) | lo;
}
#endif

#if LAB >= 3
static inline uint64
rcr2(void)
{
  uint64 val;
  asm volatile("mov %%cr2, %0" : "=r"(val));
  return val;
}

// Load the IDT register from a 10-byte pseudo-descriptor (limit, base).
static inline void
lidt(void *desc)
{
  asm volatile("lidt (%0)" : : "r"(desc) : "memory");
}

static inline void
lgdt(void *desc)
{
  asm volatile("lgdt (%0)" : : "r"(desc) : "memory");
}

// Load the task register: the GDT selector of this CPU's TSS.
static inline void
ltr(uint16 sel)
{
  asm volatile("ltr %0" : : "r"(sel));
}

static inline uint64
rflags(void)
{
  uint64 val;
  asm volatile("pushfq; popq %0" : "=r"(val));
  return val;
}

// Interrupts on. (cli, interrupts off, is lab 1's.)
static inline void
sti(void)
{
  asm volatile("sti");
}

static inline void
pause(void)
{
  asm volatile("pause");
}
#endif
#if LAB >= 4

static inline uint64
rcr0(void)
{
  uint64 val;
  asm volatile("mov %%cr0, %0" : "=r"(val));
  return val;
}

static inline void
lcr0(uint64 val)
{
  asm volatile("mov %0, %%cr0" : : "r"(val) : "memory");
}
#endif
#if LAB >= 6

// Set extended control register n (XCR0: which state XSAVE saves).
static inline void
xsetbv(uint32 n, uint64 val)
{
  asm volatile("xsetbv" : : "c"(n), "a"((uint32)val), "d"((uint32)(val >> 32)));
}
#endif

static inline void
cli(void)
{
  asm volatile("cli");
}

static inline void
hlt(void)
{
  asm volatile("hlt");
}

#endif // __x86_64__
#endif
