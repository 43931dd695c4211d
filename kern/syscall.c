// System calls: from syscall_entry (trapasm.S) to the function that does
// the work, and back.
//
// syscall(tf) gets the trap frame that syscall_entry built: the number in
// tf->rax, the arguments in tf->rdi, rsi, rdx, r10, r8, r9 (kern/syscall.h
// gives the convention, for the user library too). It calls the sys_*
// function of that number, which fetches its own arguments (arg(), and
// copyin/copyout/copyinstr for anything a pointer points at: uvm.c checks
// every user address), and puts the result in tf->rax, which
// syscall_entry returns to user mode with sysret.
//
// Interrupts are on while a system call runs (the timer keeps ticking
// through a long one); syscall_entry turns them off again when syscall()
// returns: from sysret's loading of the user %rsp to ring 3, an interrupt
// would find the user's stack in the kernel.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "mmu.h"
#include "x86.h"
#include "trap.h"
#include "proc.h"
#include "syscall.h"
#include "defs.h"
#if LAB >= 7
#include "spinlock.h"
#include "sleeplock.h"
#include "buf.h"
#endif

#define CONSOLE_FDS 3           // fds 0, 1 and 2 are the console until lab 6
#define WRITE_CHUNK 128         // bytes sys_write copies in at a time
#if LAB >= 7
_Static_assert(2 * WRITE_CHUNK <= UART_TXBUF, "a chunk, CR LF for each newline, fits the ring");
#endif

// System call argument n (0..5), as the 64-bit register holds it.
static uint64
arg(int n)
{
  struct trapframe *tf = myproc()->tf;
  uint64 regs[] = { tf->rdi, tf->rsi, tf->rdx, tf->r10, tf->r8, tf->r9 };

  return regs[n];
}

static uint64
sys_fork(void)
{
  return fork();
}

static uint64
sys_exit(void)
{
  exit((int)arg(0));
}

static uint64
sys_wait(void)
{
  return wait(arg(0));
}

static uint64
sys_kill(void)
{
  return kill((int)arg(0));
}

static uint64
sys_getpid(void)
{
  return myproc()->pid;
}

// exec(path, argv): copy the path and the arguments into one kernel page
// (each string at most MAXARGLEN bytes, at most MAXARG of them, all in a
// page), then exec.
static uint64
sys_exec(void)
{
  struct proc *p = myproc();
  char *argv[MAXARG + 1], path[MAXARGLEN];
  char *buf = kalloc();
  uint64 uargv = arg(1), used = 0;
  int argc, r = -1;

  if (buf == NULL || copyinstr(p->pml4, path, arg(0), sizeof(path)) < 0)
    goto out;
  for (argc = 0;; argc++) {
    uint64 uarg;
    if (argc > MAXARG || copyin(p->pml4, &uarg, uargv + argc * sizeof(uint64), sizeof(uarg)) < 0)
      goto out;
    if (uarg == 0)
      break;
    uint64 room = PGSIZE - used < MAXARGLEN ? PGSIZE - used : MAXARGLEN;
    int len = copyinstr(p->pml4, buf + used, uarg, room);
    if (len < 0)
      goto out;
    argv[argc] = buf + used;
    used += len + 1;
  }
  argv[argc] = NULL;
  r = exec(p, path, argv);
out:
  if (buf)
    kfree(buf);
  return r;
}

// sbrk(n): move the program break by n bytes (n < 0 shrinks the heap);
// return the old break. New memory is zeroed; whole pages given back are
// freed. -1 if the heap would end below its start or above UHEAPTOP, or
// memory ran out (the break then stays).
static uint64
sys_sbrk(void)
{
  struct proc *p = myproc();
  int64 n = (int)arg(0);
  uint64 old = p->brk, new = old + n;

  if (new < p->heap || new > UHEAPTOP)
    return -1;
  if (n > 0) {
    // The old last page's bytes above the break may hold what an earlier
    // shrink left there: zero them; then map fresh zeroed pages.
    uint64 tail = PGROUNDUP(old) < new ? PGROUNDUP(old) : new;
    uint64 pgsize;
    pte_t *pte = old % PGSIZE ? vm_lookup(p->pml4, PGROUNDDOWN(old), &pgsize) : NULL;
    if (pte)
      memset((char *)KADDR(*pte & PTE_ADDR) + old % PGSIZE, 0, tail - old);
    if (uvm_alloc(p->pml4, PGROUNDUP(old), PGROUNDUP(new) - PGROUNDUP(old), PTE_W | user_nx) < 0) {
      uvm_dealloc(p->pml4, PGROUNDUP(old), PGROUNDUP(new) - PGROUNDUP(old));
      return -1;
    }
  } else {
    uvm_dealloc(p->pml4, PGROUNDUP(new), PGROUNDUP(old) - PGROUNDUP(new));
  }
  p->brk = new;
  return old;
}

// sleep(n): until n ticks have passed. From lab 6 the process sleeps
// (sleep.c); before, it yields, and halts until the next interrupt when
// it is alone.
static uint64
sys_sleep(void)
{
  int n = (int)arg(0);

  if (n < 0)
    return -1;
#if LAB >= 6
  return sleep_ticks(n);
#else
  for (uint64 start = ticks; ticks - start < (uint64)n; hlt()) {
    if (myproc()->killed)
      return -1;
    yield();
  }
  return 0;
#endif
}

static uint64
sys_uptime(void)
{
  return ticks;
}

// Write n bytes from user address buf (checked whole by the caller) to
// the console.
int
console_write_user(uint64 buf, int n)
{
  char chunk[WRITE_CHUNK];

  for (int done = 0; done < n; done += WRITE_CHUNK) {
    int len = n - done < WRITE_CHUNK ? n - done : WRITE_CHUNK;
    if (copyin(myproc()->pml4, chunk, buf + done, len) < 0)
      return -1;
#if LAB >= 5
    if (console_put_user(chunk, len) < 0)
      return -1;
#else
    for (int i = 0; i < len; i++)
      uart_putc(chunk[i]);
#endif
  }
  return n;
}

// write(fd, buf, n): from lab 6 through the process's open files (file.c);
// before, fds 0, 1 and 2 are the console and nothing else is open. The
// whole buffer is checked before a byte is written, so a bad one prints
// nothing.
static uint64
sys_write(void)
{
#if LAB >= 6
  return file_write((int)arg(0), arg(1), (int)arg(2));
#else
  int fd = (int)arg(0), n = (int)arg(2);

  if (fd < 0 || fd >= CONSOLE_FDS || n < 0 || uvm_check(myproc()->pml4, arg(1), n, 0) < 0)
    return -1;
  return console_write_user(arg(1), n);
#endif
}

#if LAB >= 6
// read(fd, buf, n), close(fd), dup(fd), pipe(fds): file.c.
static uint64
sys_read(void)
{
  return file_read((int)arg(0), arg(1), (int)arg(2));
}

static uint64
sys_close(void)
{
  return file_closefd((int)arg(0));
}

static uint64
sys_dup(void)
{
  return file_dup((int)arg(0));
}

static uint64
sys_pipe(void)
{
  return file_pipe(arg(0));
}
#endif

#if LAB >= 7
// blkread(blockno, buf), blkwrite(blockno, buf): block blockno of the data
// disk, BSIZE bytes, through the buffer cache. 0, or -1 for a bad buffer,
// a block no LBA28 command reaches, no data disk, or a disk error (a block
// beyond the disk's end, say: the disk itself refuses it).
static uint64
blk_rw(int write)
{
  uint32 blockno = (uint32)arg(0);
  uint64 buf = arg(1);
  pte_t *pml4 = myproc()->pml4;

  if (ide_nblocks(DATADEV) == 0 || blockno >= LBA28_BLOCKS ||
      uvm_check(pml4, buf, BSIZE, !write) < 0)
    return -1;
  struct buf *b = bread(DATADEV, blockno);
  if (b == NULL)
    return -1;
  int r = write ? copyin(pml4, b->data, buf, BSIZE) : copyout(pml4, buf, b->data, BSIZE);
  if (r == 0 && write)
    r = bwrite(b);
  brelse(b);
  return r;
}

static uint64
sys_blkread(void)
{
  return blk_rw(0);
}

static uint64
sys_blkwrite(void)
{
  return blk_rw(1);
}

static uint64
sys_blkflush(void)
{
  return bflush();
}

// The disk's and the UART's interrupts, on all CPUs (trap.c counts them).
static uint64
irqs_all(int irq)
{
  uint64 n = 0;

  for (int i = 0; i < NCPU; i++)
    n += cpus[i].irqs[irq];
  return n;
}
#endif

static uint64
sys_yield(void)
{
  yield();
  return 0;
}

static uint64
sys_sysinfo(void)
{
  struct sysinfo info = {
    .freepages = kalloc_nfree(),
    .nproc = proc_count(0),
    .nrunning = proc_count(1),
    .ticks = ticks,
    .hz = HZ,
    .tsc_hz = tsc_hz,
    .smep = (rcr4() & CR4_SMEP) != 0,
    .smap = (rcr4() & CR4_SMAP) != 0,
    .ncpu = 1,
    .cpu = mycpu()->id,
  };

#if LAB >= 5
  info.ncpu = smp_running();
#endif
#if LAB >= 7
  info.ide_intrs = irqs_all(IRQ_IDE);
  info.uart_intrs = irqs_all(IRQ_COM1);
  info.disk_requests = ide_requests;
  info.bcache_hits = bcache.hits;
  info.bcache_misses = bcache.misses;
  info.bcache_bad = bcache_check();
#endif

  return copyout(myproc()->pml4, arg(0), &info, sizeof(info));
}

static uint64 (*const syscalls[NSYSCALL])(void) = {
  [SYS_fork] = sys_fork,        [SYS_exit] = sys_exit,
  [SYS_wait] = sys_wait,        [SYS_kill] = sys_kill,
  [SYS_exec] = sys_exec,        [SYS_getpid] = sys_getpid,
  [SYS_sbrk] = sys_sbrk,        [SYS_sleep] = sys_sleep,
  [SYS_uptime] = sys_uptime,    [SYS_write] = sys_write,
  [SYS_yield] = sys_yield,      [SYS_sysinfo] = sys_sysinfo,
#if LAB >= 6
  [SYS_read] = sys_read,        [SYS_close] = sys_close,
  [SYS_dup] = sys_dup,          [SYS_pipe] = sys_pipe,
#endif
#if LAB >= 7
  [SYS_blkread] = sys_blkread,  [SYS_blkwrite] = sys_blkwrite,
  [SYS_blkflush] = sys_blkflush,
#endif
};

// The system call of tf (syscall_entry calls this).
void
syscall(struct trapframe *tf)
{
  uint64 n = tf->rax;

  intr_on();
  if (n < NSYSCALL && syscalls[n])
    tf->rax = syscalls[n]();
  else
    tf->rax = SYSCALL_ERROR;    // unknown, or a later lab's
  proc_killcheck();
}
