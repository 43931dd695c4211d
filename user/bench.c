// bench: what the kernel's basic operations cost, in cycles and nanoseconds.
//
// make bench boots with this as the first process. Each operation runs
// many times; each run is timed on its own with the time-stamp counter
// (lfence; rdtsc, so that earlier instructions are done before we read
// it), and the table gives the median run and the spread (10th and 90th
// percentiles), in cycles and, through sysinfo's tsc_hz, nanoseconds:
//
//   null syscall (getpid)      getpid()
//   console write, 1 byte      write(1, "\r", 1): a byte the grader drops
//                              (timed first, then a newline: a blank line)
//   sbrk page +4096/-4096      grow by a page, write it, shrink again
//   fork+exit+wait             fork a child that exits at once, wait for it
//   exec (nop)                 a child reads the counter and execs nop with
//                              it as argument; nop's exit status is the
//                              cycles from there to its own first read
//   null syscall, all CPUs     with more than one CPU: getpid in one child
//   fork+exit+wait, all CPUs   per CPU at once (and fork+exit+wait): each
//                              child exits with its median; the row gives
//                              the median of those, and their range
//   pipe round trip, N CPUs    (lab 6) a byte to a child through one pipe
//                              and back through another
//   pipe 64 KiB, N CPUs        64 KiB written in 4 KiB pieces to a child
//                              that reads them all
//   yield ping-pong, ... FPU   (lab 6, on one CPU: make bench boots "bench
//                              switch" with CPUS=1 too) two processes that
//                              yield to each other: one run is one switch
//                              there and one back. "AVX in use": both
//                              hold values in the YMM registers' upper
//                              halves, which XSAVE must then save
#if LAB >= 7
//   console write 2 KiB        (lab 7) 32 KiB of text in 2 KiB writes: the
//                              UART's transmit ring fills, and the writer
//                              sleeps until the transmit interrupts drain it
//   disk seq/random/cached     (lab 7; make bench boots "bench disk MODE
//     4K read, MODE            SECTORS" with ide=MODE, dma then pio) blkread
//                              of the data disk: blocks 0, 1, 2, ... after a
//                              blkflush, more of them than NBUF, so that
//                              none is cached; seeded blocks among all the
//                              disk's, a blkflush before each; the same few
//                              blocks again and again, all from the cache.
//                              MODE only labels the rows: the kernel's
//                              ide= option chooses
#endif
//
// Under plain emulation (TCG) the counter runs at the host's rate but the
// guest's instructions run slower, so figures from TCG and KVM differ
// widely: the first line says which one this is.
//
// Output:
//   bench: accel ACCEL, cpu BRAND, tsc MHZ MHz     ACCEL TCG, KVM, none or the
//                                                  hypervisor's vendor string
//   bench: what                         runs   median cycles       ns   p10..p90 cycles
//   bench: NAME (28 wide)               RUNS   CYCLES              NS   P10..P90
//   ...
// a row of runs that each move bytes ends "C cycles/byte, R MB/s" (at the
// median); ("bench: FAILED: ..." if a call fails) and exit 0.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define PGSIZE     4096
#define MANY       1000         // runs of the cheap operations
#define FEW        100          // runs of fork+exit+wait and exec
#define NCPU_MAX   64           // the most CPUs the all-CPUs rows run on
#define HYPERVISOR (1u << 31)   // cpuid 1, ecx: running under a hypervisor

static uint64 t[MANY];          // one operation's runs, in cycles
static uint64 tw[MANY];         // the console write's runs, taken first
static uint64 tsc_hz;

// cpuid leaf: r[0..3] = eax, ebx, ecx, edx.
static void
cpuid(uint32 leaf, uint32 *r)
{
  asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

// Print the accelerator (the hypervisor's cpuid vendor) and the CPU's brand.
static void
print_cpu(void)
{
  uint32 r[4], brand[13] = { 0 };
  char vendor[13] = { 0 };
  char *accel = "none", *b = (char *)brand;

  cpuid(1, r);
  if (r[2] & HYPERVISOR) {
    cpuid(0x40000000, r);
    memmove(vendor, &r[1], 12);         // ebx, ecx, edx: 12 characters
    accel = vendor;
    if (strcmp(vendor, "TCGTCGTCGTCG") == 0)
      accel = "TCG";
    else if (strcmp(vendor, "KVMKVMKVM") == 0)
      accel = "KVM";
  }
  cpuid(0x80000000, r);
  for (uint32 leaf = 0x80000002; leaf <= 0x80000004 && leaf <= r[0]; leaf++)
    cpuid(leaf, &brand[(leaf - 0x80000002) * 4]);
  while (*b == ' ')
    b++;
  printf("bench: accel %s, cpu %s, tsc %ld MHz\n", accel, b, tsc_hz / 1000000);
}

// Sort t[0..n) in place (insertion sort: n is at most MANY).
static void
sort(uint64 *t, int n)
{
  for (int i = 1; i < n; i++) {
    uint64 v = t[i];
    int j = i;
    for (; j > 0 && t[j - 1] > v; j--)
      t[j] = t[j - 1];
    t[j] = v;
  }
}

// One row of the table, from the n runs in t[]; if each run moved bytes
// (not 0), the cost per byte and the rate at the median too.
static void
report_bytes(char *what, uint64 *t, int n, uint64 bytes)
{
  sort(t, n);
  uint64 median = t[n / 2];
  uint64 ns = tsc_hz ? median * 1000000000 / tsc_hz : 0;
  printf("bench: %-28s %5d %15ld %8ld   %ld..%ld",
         what, n, median, ns, t[n / 10], t[n * 9 / 10]);
  if (bytes && median) {
    uint64 cost = median * 10 / bytes;                  // in tenths
    uint64 rate = bytes * tsc_hz / median / 10000;      // in hundredths of MB/s
    printf("   %ld.%ld cycles/byte, %ld.%02ld MB/s", cost / 10, cost % 10, rate / 100, rate % 100);
  }
  printf("\n");
}

static void
report(char *what, uint64 *t, int n)
{
  report_bytes(what, t, n, 0);
}

// Write v in decimal into buf (room for 21 bytes).
static void
utoa(uint64 v, char *buf)
{
  char digits[20];
  int i = 0;

  do {
    digits[i++] = '0' + v % 10;
    v /= 10;
  } while (v > 0);
  while (i > 0)
    *buf++ = digits[--i];
  *buf = 0;
}

static void
bench_getpid(void)
{
  for (int i = 0; i < MANY; i++) {
    uint64 t0 = rdtsc();
    getpid();
    t[i] = rdtsc() - t0;
  }
  report("null syscall (getpid)", t, MANY);
}

// The console write runs before anything is printed, and ends its line,
// so that its carriage returns make a blank line of their own, not the
// start of one of ours.
static void
time_write(void)
{
  for (int i = 0; i < MANY; i++) {
    uint64 t0 = rdtsc();
    write(1, "\r", 1);
    tw[i] = rdtsc() - t0;
  }
  write(1, "\n", 1);
}

static void
bench_sbrk(void)
{
  for (int i = 0; i < MANY; i++) {
    uint64 t0 = rdtsc();
    char *p = sbrk(PGSIZE);
    *p = 1;
    sbrk(-PGSIZE);
    t[i] = rdtsc() - t0;
  }
  report("sbrk page +4096/-4096", t, MANY);
}

static void
bench_fork(void)
{
  for (int i = 0; i < FEW; i++) {
    uint64 t0 = rdtsc();
    if (fork() == 0)
      exit(0);
    wait(0);
    t[i] = rdtsc() - t0;
  }
  report("fork+exit+wait", t, FEW);
}

// Each run: a child reads the counter and execs "nop COUNTER"; nop exits
// with the cycles since.
static void
bench_exec(void)
{
  for (int i = 0; i < FEW; i++) {
    int status = -1;
    if (fork() == 0) {
      char arg[21], *argv[] = { "nop", arg, 0 };
      utoa(rdtsc(), arg);
      exec("nop", argv);
      exit(-1);
    }
    wait(&status);
    if (status < 0) {
      printf("bench: FAILED: exec nop: status %d\n", status);
      return;
    }
    t[i] = status;
  }
  report("exec (nop)", t, FEW);
}

static void
op_getpid(void)
{
  getpid();
}

static void
op_fork(void)
{
  if (fork() == 0)
    exit(0);
  wait(0);
}

// op, runs times, in one child per CPU at once (see the top).
static void
bench_all_cpus(char *what, void (*op)(void), int runs, int cpus)
{
  uint64 medians[NCPU_MAX];

  for (int c = 0; c < cpus; c++) {
    if (fork() == 0) {
      for (int i = 0; i < runs; i++) {
        uint64 t0 = rdtsc();
        op();
        t[i] = rdtsc() - t0;
      }
      sort(t, runs);
      exit(t[runs / 2] > 0x7fffffff ? 0x7fffffff : t[runs / 2]);
    }
  }
  for (int c = 0; c < cpus; c++) {
    int status = 0;
    wait(&status);
    medians[c] = status;
  }
  sort(medians, cpus);
  uint64 median = medians[cpus / 2];
  printf("bench: %-28s %5d %15ld %8ld   %ld..%ld\n", what, runs * cpus, median,
         tsc_hz ? median * 1000000000 / tsc_hz : 0, medians[0], medians[cpus - 1]);
}

#if LAB >= 6
// Two pipes, to a child (down) and back (up); -1 (said) if there are none.
static int
two_pipes(int *down, int *up)
{
  if (pipe(down) < 0 || pipe(up) < 0) {
    printf("bench: FAILED: pipe\n");
    return -1;
  }
  return 0;
}

// Close the way down, which the child reads as end of file and exits;
// reap it and close the rest.
static void
end_child(int *down, int *up)
{
  close(down[1]);
  wait(0);
  close(down[0]), close(up[0]), close(up[1]);
}

// A byte to a child and back, through two pipes.
static void
bench_pipe_roundtrip(char *what)
{
  int down[2], up[2];
  char c = 0;

  if (two_pipes(down, up) < 0)
    return;
  if (fork() == 0) {
    close(down[1]);             // else its own copy would keep end of file away
    while (read(down[0], &c, 1) == 1)
      write(up[1], &c, 1);
    exit(0);
  }
  for (int i = 0; i < MANY; i++) {
    uint64 t0 = rdtsc();
    write(down[1], &c, 1);
    read(up[0], &c, 1);
    t[i] = rdtsc() - t0;
  }
  end_child(down, up);
  report(what, t, MANY);
}

// 64 KiB to a child, 4 KiB a write; each run ends when the child has read
// it all and said so with a byte back.
static void
bench_pipe_64k(char *what)
{
  static char buf[PGSIZE];
  int down[2], up[2];
  char c = 0;

  if (two_pipes(down, up) < 0)
    return;
  if (fork() == 0) {
    close(down[1]);
    for (;;) {
      int got = 0, n = 0;
      while (got < 16 * PGSIZE && (n = read(down[0], buf, PGSIZE)) > 0)
        got += n;
      if (n <= 0)
        exit(0);
      write(up[1], &c, 1);
    }
  }
  for (int i = 0; i < FEW; i++) {
    uint64 t0 = rdtsc();
    for (int k = 0; k < 16; k++)
      write(down[1], buf, PGSIZE);
    read(up[0], &c, 1);
    t[i] = rdtsc() - t0;
  }
  end_child(down, up);
  report(what, t, FEW);
}

// Put values in the upper halves of YMM0..YMM3 (if the kernel turned AVX
// on: CPUID 1, ECX bit 27, OSXSAVE, and bit 28, AVX). 1 if it did.
static int
dirty_avx(void)
{
  uint32 r[4];
  static uint64 v[4] = { 1, 2, 3, 4 };

  cpuid(1, r);
  if ((r[2] & (3u << 27)) != (3u << 27))
    return 0;
  asm volatile("vmovdqu %0, %%ymm0; vmovdqu %0, %%ymm1; vmovdqu %0, %%ymm2; vmovdqu %0, %%ymm3"
               : : "m"(v) : "xmm0", "xmm1", "xmm2", "xmm3");
  return 1;
}

// Two processes that yield to each other MANY times (on one CPU, each
// yield is a switch to the other); one run is a switch there and back.
static void
bench_yield(char *what, int avx)
{
  if (avx && !dirty_avx())
    return;                     // no AVX: the row would repeat the one before
  if (fork() == 0) {
    if (avx)
      dirty_avx();
    for (int i = 0; i < MANY + 10; i++)
      yield();
    exit(0);
  }
  yield();                      // let the child start
  for (int i = 0; i < MANY; i++) {
    uint64 t0 = rdtsc();
    yield();
    t[i] = rdtsc() - t0;
  }
  wait(0);
  report(what, t, MANY);
}

// The lab 6 rows; their names say on how many CPUs.
static void
bench_lab6(int ncpu)
{
  char rt[32] = "pipe round trip, 1 CPU", big[32] = "pipe 64 KiB, 1 CPU";

  if (ncpu > 1) {
    strcpy(rt, "pipe round trip, N CPUs");
    strcpy(big, "pipe 64 KiB, N CPUs");
    rt[17] = big[13] = ncpu < 10 ? '0' + ncpu : 'N';
  }
  bench_pipe_roundtrip(rt);
  bench_pipe_64k(big);
  if (ncpu == 1) {
    bench_yield("yield ping-pong, no AVX", 0);
    bench_yield("yield ping-pong, AVX in use", 1);
  }
}
#endif

#if LAB >= 7
#define CONS_WRITES  16         // console writes of CONS_CHUNK bytes: 32 KiB
#define CONS_CHUNK   2048
#define SEQ_BLOCKS   (8 * NBUF) // read once each: far more than the cache holds

// 32 KiB of a 64-byte line, again and again, to fd 1, CONS_CHUNK bytes
// (whole lines) a write.
static void
bench_console(void)
{
  static char text[CONS_CHUNK];
  char *line = "console throughput: 32 KiB in 2 KiB writes of this 64-byte line\n";

  for (int i = 0; i < CONS_CHUNK; i++)
    text[i] = line[i % strlen(line)];
  for (int i = 0; i < CONS_WRITES; i++) {
    uint64 t0 = rdtsc();
    write(1, text, CONS_CHUNK);
    t[i] = rdtsc() - t0;
  }
  report_bytes("console write 2 KiB", t, CONS_WRITES, CONS_CHUNK);
}

// Read data disk block blockno into buf, timed into t[i]; -1 (said) if
// blkread fails.
static int
timed_read(uint blockno, char *buf, int i)
{
  uint64 t0 = rdtsc();
  int r = blkread(blockno, buf);
  t[i] = rdtsc() - t0;
  if (r < 0)
    printf("bench: FAILED: blkread %d\n", blockno);
  return r;
}

// "KIND MODE", a row's name.
static char *
name(char *kind, char *mode)
{
  static char what[40];

  strcpy(what, kind);
  strcpy(what + strlen(what), mode);
  return what;
}

// The disk rows (see the top); mode (at most 8 characters) labels them,
// sectors (of 512 bytes) is the data disk's size.
static void
bench_disk(char *mode, int sectors)
{
  static char buf[BSIZE];
  int nblocks = sectors / (BSIZE / 512), seq = SEQ_BLOCKS < nblocks ? SEQ_BLOCKS : nblocks;
  uint64 seed = 7;

  if (nblocks <= NBUF) {
    printf("bench: FAILED: a data disk of %d blocks: no more than the cache holds\n", nblocks);
    return;
  }
  blkflush();
  for (int i = 0; i < seq; i++)
    if (timed_read(i, buf, i) < 0)
      return;
  report_bytes(name("disk seq 4K read, ", mode), t, seq, BSIZE);
  for (int i = 0; i < FEW; i++) {
    blkflush();
    if (timed_read(seed_next(&seed) % nblocks, buf, i) < 0)
      return;
  }
  report_bytes(name("disk random 4K read, ", mode), t, FEW, BSIZE);
  for (int i = 0; i < MANY; i++)          // blocks 0..3, cached after the first round
    if (timed_read(i % 4, buf, i) < 0)
      return;
  report_bytes(name("disk cached 4K read, ", mode), t + 4, MANY - 4, BSIZE);
}
#endif

int
main(int argc, char **argv)
{
  struct sysinfo si;

  if (sysinfo(&si) == 0)
    tsc_hz = si.tsc_hz;
#if LAB >= 6
  if (argc > 1 && strcmp(argv[1], "switch") == 0) {
    bench_lab6(si.ncpu);
    exit(0);
  }
#endif
#if LAB >= 7
  if (argc > 1 && strcmp(argv[1], "disk") == 0) {
    if (argc != 4 || strlen(argv[2]) > 8)
      printf("bench: FAILED: usage: bench disk MODE SECTORS\n");
    else
      bench_disk(argv[2], atoi(argv[3]));
    exit(0);
  }
#endif
  time_write();
  print_cpu();
  printf("bench: %-28s %5s %15s %8s   %s\n", "what", "runs", "median cycles", "ns",
         "p10..p90 cycles");
  bench_getpid();
  report("console write, 1 byte", tw, MANY);
  bench_sbrk();
  bench_fork();
  bench_exec();
  if (si.ncpu > 1 && si.ncpu <= NCPU_MAX) {
    bench_all_cpus("null syscall, all CPUs", op_getpid, MANY, si.ncpu);
    bench_all_cpus("fork+exit+wait, all CPUs", op_fork, FEW, si.ncpu);
  }
#if LAB >= 6
  bench_lab6(si.ncpu);
#endif
#if LAB >= 7
  bench_console();
#endif
  exit(0);
}
