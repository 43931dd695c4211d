// Prototypes of the functions that one kernel file offers the others,
// grouped by the file that defines them.

#ifndef KERN_DEFS_H
#define KERN_DEFS_H

#include "types.h"

// backtrace.c
struct ksym {
  uint64 addr;          // start address of the function
  const char *name;
};
void          backtrace(uint64 rbp, uint64 lo, uint64 hi);
const char   *ksym_lookup(uint64 addr, uint64 *offset);
void          stack_bounds(uint64 sp, uint64 *lo, uint64 *hi);

// cmdline.c
struct cmdline_option {
  const char *key;
  const char *help;
};
// Declare the option key=... (a bare identifier), with a line of help that
// an unknown option's report shows: an entry in the .cmdline_options
// section, which kernel.ld gathers (see cmdline.c).
#define CMDLINE_OPTION(key, help)                                       \
  static const struct cmdline_option cmdline_option_##key               \
  __attribute__((used, section(".cmdline_options"), aligned(8))) = { #key, help }
void          cmdline_init(void);
const char   *cmdline_get(const char *key);
uint64        cmdline_uint(const char *key);

// e820.c
struct e820_range {
  uint64 base;          // first byte
  uint64 end;           // the byte after the last
  int usable;           // usable RAM (else reserved, ACPI, bad, ...)
};
void          e820_print(void);
uint64        e820_usable_bytes(void);
uint32        e820_ranges(struct e820_range *out, uint32 max);

#if LAB >= 2
// kalloc.c
void         *kalloc(void);
void          kfree(void *page);
void          kalloc_init(uint64 lo, uint64 hi);
uint64        kalloc_nfree(void);
int           kalloc_debug(void);
const char   *caller_name(uint64 ret, uint64 *offset);

// kmalloc.c
void         *kmalloc(uint64 size);
void          kmfree(void *p);
uint64        kmalloc_pages(void);

// memmap.c
struct memrange {
  uint64 base;          // first byte
  uint64 end;           // the byte after the last
};
void          mem_init(void);
void          memmap_init(void);
uint32        memmap_clean(struct e820_range *map, uint32 n, struct memrange *out);
const struct e820_range *memmap_bios(uint32 *n);
const struct memrange *memmap_usable(uint32 *n);
uint64        memmap_pages(void);
uint64        memmap_top(void);
uint64        memmap_steal(uint64 bytes);

// vm.c
typedef uint64 pte_t;
pte_t        *vm_walk(pte_t *pml4, uint64 va, int level, int alloc);
int           vm_map(pte_t *pml4, uint64 va, uint64 pa, uint64 size, uint64 perm, uint64 pgsize);
pte_t        *vm_lookup(pte_t *pml4, uint64 va, uint64 *pgsize);
void          vm_unmap(pte_t *pml4, uint64 va, uint64 size);
void          vm_boot_window(void);
int           vm_init(void);
void          vm_init_cpu(void);
pte_t        *vm_kernel_pml4(void);
int           kvm_map(uint64 va, uint64 pa, uint64 size, uint64 perm);
#endif

#if LAB >= 3
struct trapframe;
struct cpu;

// cpu.c
void          cpu_init(int id);
void          cpu_early(int id);
struct cpu   *mycpu(void);
void          push_off(void);
void          pop_off(void);
void          intr_on(void);
void          wait_for_interrupt(void);
void          fpu_default(uint8 *area);
void          fpu_save(uint8 *area);
void          fpu_restore(uint8 *area);
int           iststack_of(uint64 sp, uint64 *lo, uint64 *hi);
void          syscall(struct trapframe *tf);

// lapic.c
extern volatile uint64 ticks;
extern uint64 tsc_hz;
extern uint64 lapic_hz;
void          lapic_init(void);
void          lapic_init_cpu(void);
void          lapic_send_init(int apicid);
void          lapic_send_startup(int apicid, uint64 pa);
void          lapic_send_nmi(int apicid);
void          udelay(uint64 us);
void          lapic_eoi(void);
int           lapic_id(void);

// trap.c
extern uint64 trapcount[];
void          count_trap(uint64 v);
void          trap_init(void);
void          trap_init_cpu(int id);
void          trap(struct trapframe *tf);
void          trap_report(struct trapframe *tf);
const char   *trap_name(uint64 v);

// trapasm.S
void          syscall_entry(void);
void          syscall_compat(void);
#endif

#if LAB >= 4
struct proc;
struct context;

// exec.c
struct uprog {                  // a built-in program (build/uprogs.S, made by the Makefile)
  const char *name;
  const uint8 *elf;             // its ELF file
  uint64 size;
};
extern const struct uprog uprogs[];   // ends with a NULL name
const struct uprog *uprog_find(const char *name);
int           exec(struct proc *p, const char *path, char **argv);
const char   *elf_check(const uint8 *elf, uint64 size);

// proc.c
void          proc_init(void);
int           kstack_of(uint64 sp, uint64 *lo, uint64 *hi);
int           userinit(const char *opt);
struct proc  *myproc(void);
int           fork(void);
void          exit(int status) __attribute__((noreturn));
int           wait(uint64 status);
int           kill(int pid);
void          yield(void);
void          sched(void);
void          scheduler(void) __attribute__((noreturn));
void          forkret(void);
void          usertrap(struct trapframe *tf);
void          proc_killcheck(void);
uint64        proc_count(int running);

// swtch.S
void          swtch(struct context **old, struct context *new);

// uvm.c
extern uint64 user_nx;
void          uvm_init(void);
pte_t        *uvm_create(void);
int           uvm_alloc(pte_t *pml4, uint64 va, uint64 size, uint64 perm);
void          uvm_dealloc(pte_t *pml4, uint64 va, uint64 size);
void          uvm_free(pte_t *pml4);
int           uvm_copy(pte_t *from, pte_t *to);
int           uvm_foreach(pte_t *pml4, int (*fn)(uint64 va, pte_t *pte, void *arg), void *arg);
int           uvm_check(pte_t *pml4, uint64 va, uint64 len, int write);
int           copyin(pte_t *pml4, void *dst, uint64 src, uint64 len);
int           copyout(pte_t *pml4, uint64 dst, const void *src, uint64 len);
int           copyinstr(pte_t *pml4, char *dst, uint64 src, uint64 max);
void          user_access_end(void);
#endif

#if LAB >= 5
// acpi.c
struct acpi_ioapic {            // an I/O APIC, as the MADT lists it
  uint8 id;                     // its I/O APIC ID
  uint32 addr;                  // physical address of its registers
  uint32 gsibase;               // the global system interrupt of its pin 0
};
extern int ncpu;                // CPUs found (1 until acpi_init says more)
extern uint8 cpu_apicid[];      // [0 .. ncpu): their local APIC IDs; [0] is the boot CPU
extern int nioapic;
extern struct acpi_ioapic ioapics[];
extern uint64 acpi_rsdp, acpi_root, acpi_madt;  // the tables' physical addresses (0: not found)
int           acpi_init(void);
uint32        acpi_irq_to_gsi(int irq, int *active_low, int *level);

void          kmalloc_init(void);     // kmalloc.c, from lab 5 on

// console.c
void          console_putc(int c);
void          console_write(const char *s, int n);
int           console_put_user(const char *s, int n);

// smp.c
void          smp_init(void);
void          smp_go(void (*fn)(void));
int           smp_running(void);
int           cpu_is_up(int id);
int           apstack_of(uint64 sp, uint64 *lo, uint64 *hi);
int           smp_stop_others(void);
extern volatile int cpus_stopping;
void          ap_main(uint64 id);

// ioapic.c
void          ioapic_init(void);
int           ioapic_route(int irq, int vector, int apicid);
int           ioapic_entry(uint32 gsi, uint64 *entry);

// spinlock.c
struct spinlock;
void          initlock(struct spinlock *lk, const char *name);
void          acquire(struct spinlock *lk);
void          release(struct spinlock *lk);
int           holding(struct spinlock *lk);
int           lock_order_seen(struct spinlock *first, struct spinlock *then);
#endif

// printf.c
void          printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void          vprintf(const char *fmt, va_list ap);
extern int    panicking;
void          panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void          halt_forever(void) __attribute__((noreturn));

// test/selftest.c
struct selftest {
  const char *name;
  void (*run)(void);
};
// Register fn as the self-test test=name (a bare identifier): an entry in
// the .selftests section, which kernel.ld gathers (see test/selftest.c).
#define SELFTEST(name, fn)                                              \
  static const struct selftest selftest_##name                          \
  __attribute__((used, section(".selftests"), aligned(8))) = { #name, fn }
void          selftest_run(const char *name);
extern int    selftest_running; // a self-test runs: its end (or a panic) powers off
uint64        selftest_seed(void);
uint64        seed_next(uint64 *x);

// main.c
void          poweroff(int status) __attribute__((noreturn));

// string.c
void         *memset(void *dst, int c, size_t n);
void         *memmove(void *dst, const void *src, size_t n);
void         *memcpy(void *dst, const void *src, size_t n);
int           memcmp(const void *a, const void *b, size_t n);
size_t        strlen(const char *s);
int           strcmp(const char *a, const char *b);
int           strncmp(const char *a, const char *b, size_t n);
#if LAB >= 4
char         *strchr(const char *s, int c);
char         *safestrcpy(char *dst, const char *src, size_t size);
#endif

// uart.c
void          uart_init(void);
void          uart_putc(int c);
void          uart_putc_raw(int c);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#if LAB >= 6
struct file;
struct pipe;
struct spinlock;

// file.c
void          file_init(void);
struct file  *filedup(struct file *f);
void          fileclose(struct file *f);
int           file_console(struct proc *p);
void          file_fork(struct proc *np, struct proc *p);
void          file_exit(struct proc *p);
int           file_read(int fd, uint64 buf, int n);
int           file_write(int fd, uint64 buf, int n);
int           file_closefd(int fd);
int           file_dup(int fd);
int           file_pipe(uint64 ufds);

// fpu.c
extern uint64 xsave_features;
void          xsave_init(void);
void          xsave(uint8 *area);
void          xrstor(uint8 *area);

// pipe.c
struct pipe  *pipealloc(void);
void          pipeclose(struct pipe *pi, int writable);
int           piperead(struct pipe *pi, uint64 buf, int n);
int           pipewrite(struct pipe *pi, uint64 buf, int n);

// sleep.c
void          sleep(void *chan, struct spinlock *lk);
void          wakeup(void *chan);
void          wakeup_locked(void *chan);
int           sleep_ticks(uint64 n);

// syscall.c
int           console_write_user(uint64 buf, int n);
#endif

#if LAB >= 7
struct buf;
struct sleeplock;

// bio.c
void          binit(void);
struct buf   *bread(uint32 dev, uint32 blockno);
int           bwrite(struct buf *b);
void          brelse(struct buf *b);
int           bflush(void);

// console.c
void          console_init(void);
void          console_tx_intr(void);

// ide.c
extern uint64 ide_requests;
void          ide_init(void);
int           ide_rw(struct buf *b);
void          ide_intr(void);
uint32        ide_nblocks(uint32 dev);

// proc.c
void          procdump(void);

// sleeplock.c
void          initsleeplock(struct sleeplock *sl, const char *name);
void          acquiresleep(struct sleeplock *sl);
void          releasesleep(struct sleeplock *sl);
int           holdingsleep(struct sleeplock *sl);

// test/biocheck.c
int           bcache_check(void);

// tty.c
void          tty_init(void);
void          console_input(int c);
int           console_read(uint64 buf, int n);

// uart.c
int           uart_tx_room(void);
void          uart_tx(int c);
void          uart_intr(void);
void          uart_intr_on(void);
#endif

#endif
