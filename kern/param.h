// Kernel parameters: the tunable numbers, in one place.
//
// Addresses live in memlayout.h and hardware bit definitions in mmu.h and
// x86.h; this file holds the sizes and limits that a reader might want to
// change. It is included by C and by assembly.

#ifndef KERN_PARAM_H
#define KERN_PARAM_H

#define CMDLINE_MAX     256     // longest kernel command line (fw_cfg string)
#define CMDLINE_ARGS    16      // most options on one command line
#define BACKTRACE_DEPTH 32      // most frames a backtrace prints
#if LAB >= 2
#define MEM_MIN_PAGES   256     // usable pages beside the kernel, at least (1 MiB), or panic
#define MEMMAP_MAX      (2 * E820_MAX + 8)  // ranges in a cleaned e820 map, at most (memmap.c)
#define KALLOC_POISON   0x6b    // what a free page is filled with (kalloc.c)
#define KMALLOC_POISON  0x6d    // what a free heap object is filled with (kmalloc.c)
#define KMALLOC_MIN     16      // smallest heap size class, bytes
#define KMALLOC_MAX     1024    // largest; a bigger request gets a whole page
#endif
#if LAB >= 3
#define HZ              100     // timer interrupts a second (lapic.c)
#define ISTSTACKSIZE    0x2000  // 8 KiB for each IST stack, a guard page below each
#define CALIBRATE_MS    50      // how long lapic.c measures the LAPIC timer against the PIT
#endif
#if LAB >= 5
#define NCPU            8       // CPUs with per-CPU state (cpu.c); acpi.c keeps the first NCPU
#define NIOAPIC         4       // I/O APICs acpi.c records from the MADT, at most
#define AP_INIT_WAIT_US 10000   // smp.c: after INIT, wait 10 ms (Intel SDM vol. 3A 9.4.4.1)
#define AP_SIPI_WAIT_US 200     //   and 200 us after each STARTUP
#define AP_START_MS     1000    // how long the boot CPU waits for an AP to say it is up
#define STOP_WAIT_MS    5000    // how long a panic waits for the other CPUs to stop (smp.c;
                                //   a loaded host may leave a vCPU unrun for a second)
#define CONSOLE_LINE    160     // bytes of a line each CPU collects before it prints (console.c)
#define NHELD           8       // spinlocks one CPU holds at once, at most (spinlock.c)
#define NLOCKCLASS      64      // lock classes (names) the lock-order checker knows; <= 64
#define LOCK_WAIT_MS    1000    // a CPU spinning this long on a lock panics (the watchdog)
#define HOLDER_WAIT_MS  500     // how long the watchdog waits for the holder's backtrace
#define HOLDER_LINE_MS  20      // ... and then for the line that ends it
#define LOCK_WAIT_SPINS (1 << 21)  // the same in spins, while tsc_hz is still 0: 0.6-1.2 s
                                   //   under TCG (pause is slow there), 0.1 s or so on a CPU
#else
#define NCPU            1       // CPUs with per-CPU state (cpu.c): one until lab 5
#endif
#if LAB >= 4
#define NPROC           64      // processes at once (proc.c)
#define PROCNAME        16      // bytes of a process's name, with its NUL
#define MAXARG          32      // most arguments exec passes
#define MAXARGLEN       256     // longest argument or program name, with its NUL
#define INITPID         1       // the first process: orphans become its children
#define FPU_AREA_SIZE   1024    // bytes of each process's FPU/SSE save area (proc.h)
#endif
#if LAB >= 6
#define NOFILE          16      // open files per process (proc.h)
#define NFILE           128     // open files in the whole system (file.c)
#define PIPESIZE        512     // bytes a pipe holds before a writer waits (pipe.c)
#endif
#if LAB >= 7
#define BSIZE           4096    // bytes of a disk block: one page, SECTOR_SIZE 512 x 8 (bio.c)
#define NBUF            32      // blocks the buffer cache holds (bio.c)
#define DATADEV         1       // the data disk: IDE primary slave (ide.c); 0 is the boot disk
#define LBA28_BLOCKS    (1 << 25)  // blocks an LBA28 command reaches: 2^28 sectors
#define NDISK           2       // disks on the primary IDE channel: master and slave
#define IDE_WAIT_MS     2000    // how long ide.c polls the disk (boot's IDENTIFY, a PIO write's DRQ)
#define UART_TXBUF      1024    // bytes of output waiting for the UART (uart.c)
#define INPUT_BUF       256     // bytes of typed input the console keeps (tty.c)
#endif

// QEMU's fw_cfg file that carries the kernel command line. The Makefile
// passes it with -fw_cfg name=opt/kestrel/cmdline,string=...
#define CMDLINE_FWCFG_NAME "opt/kestrel/cmdline"

// QEMU's isa-debug-exit device (added by the Makefile): writing v to this
// port makes QEMU exit with status (v << 1) | 1. Tests use it to stop early.
#define DEBUG_EXIT_PORT 0xf4

#endif
