// System call numbers and calling convention: the one header the kernel
// (syscall.c) and the user library (user/usys.S, user/user.h) share.
//
// A user program asks for system call n like this:
//
//   %rax      n, one of SYS_* below
//   %rdi, %rsi, %rdx, %r10, %r8, %r9    arguments 1..6 (as in a C call,
//             but %r10 for the fourth: the syscall instruction itself
//             overwrites %rcx with the return address, and %r11 with
//             the flags)
//   syscall   enters the kernel at syscall_entry (trapasm.S)
//   %rax      the result: >= 0 (or an address, for sbrk) on success, -1
//             on any error (a bad pointer, length, fd, pid or name)
//
// Every other register is returned as it was, but %rcx and %r11.
//
// The numbers and the calls' semantics follow xv6 (riscv), so that xv6's
// user programs compile and run unchanged; the Kestrel extensions come
// after SYS_close. Calls of later labs are numbered already and return -1
// until their lab arrives.

#ifndef KERN_SYSCALL_H
#define KERN_SYSCALL_H

#define SYS_fork        1
#define SYS_exit        2
#define SYS_wait        3
#define SYS_pipe        4       // lab 6
#define SYS_read        5       // lab 6
#define SYS_kill        6
#define SYS_exec        7
#define SYS_fstat       8       // lab 8
#define SYS_chdir       9       // lab 8
#define SYS_dup         10      // lab 6
#define SYS_getpid      11
#define SYS_sbrk        12
#define SYS_sleep       13
#define SYS_uptime      14
#define SYS_open        15      // lab 8
#define SYS_write       16
#define SYS_mknod       17      // lab 8
#define SYS_unlink      18      // lab 8
#define SYS_link        19      // lab 8
#define SYS_mkdir       20      // lab 8
#define SYS_close       21      // lab 6
// Kestrel's own.
#define SYS_yield       22      // give the CPU to the next runnable process
#define SYS_sysinfo     23      // fill a struct sysinfo (below)
#define SYS_blkread     24      // lab 7: blkread(blockno, buf): a data disk block, BSIZE bytes
#define SYS_blkwrite    25      // lab 7: blkwrite(blockno, buf): the same, written
#define SYS_blkflush    26      // lab 7: drop the buffer cache's unused blocks; how many
#define NSYSCALL        27

#define SYSCALL_ERROR   (-1)    // what every failed call returns

// What sysinfo(&info) fills in.
#ifndef __ASSEMBLER__
struct sysinfo {
  unsigned long freepages;      // pages kalloc could hand out now
  unsigned long nproc;          // processes in use (any state but unused)
  unsigned long ticks;          // timer interrupts since boot (as uptime())
  unsigned long hz;             // timer interrupts a second
  unsigned long tsc_hz;         // the time-stamp counter's rate (rdtsc), per second
  unsigned long smep, smap;     // 1 if the kernel turned SMEP / SMAP on
  unsigned long ncpu;           // CPUs running (lab 5; 1 before)
  unsigned long cpu;            // the CPU this call ran on (0 .. ncpu - 1)
  unsigned long nrunning;       // processes RUNNING now, the caller among them
  // Lab 7 (0 before):
  unsigned long ide_intrs;      // the disk's interrupts, on all CPUs
  unsigned long uart_intrs;     // the serial port's
  unsigned long disk_requests;  // requests the disk has ended
  unsigned long bcache_hits;    // bread()s the buffer cache answered itself
  unsigned long bcache_misses;  // ... that needed a buffer taken for the block
  unsigned long bcache_bad;     // what the cache's self-check finds wrong now (0: nothing)
};
#endif

#endif
