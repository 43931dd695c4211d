// fpuloop SEED MS: x87, SSE and AVX registers survive preemption (lab 6).
//
// First CPUID: a CPU with AVX (CPUID.1:ECX bit 28) and XSAVE (bit 26) on
// which OSXSAVE (bit 27) reads 0 is one whose kernel never turned XSAVE on
// (CR4.OSXSAVE), and AVX instructions would be undefined: the program
// says so (FAILED) and exits 1. Otherwise it prints XCR0 (xgetbv) and the
// save area's size that CPUID leaf 0xD gives, both for the XCR0 in force
// (EBX of subleaf 0) and for x87|SSE|AVX (the AVX component's offset plus
// its size, subleaf 2): the grader holds the kernel's boot line to them.
//
// Then it forks K = NCPU + 1 + r0 % 3 children (NCPU from sysinfo; r0, r1,
// ... the draws of the kernel's LCG, seed_next, from x = SEED), more
// children than CPUs, so that every tick takes a CPU from one of them.
// Each child runs one loop of inline assembly until a deadline MS ms
// after the fork of the first (the time-stamp counter), with no system
// call inside: only the timer takes it off its CPU, and every register it
// uses holds a live value from start to end. Child I draws from x = SEED
// + 1 + I, in this order:
//   ymm0..ymm7   4 lanes each: a start s (r % 2^30) and an addend d
//                ((r % 2^21) - 2^20), integers held as doubles; each pass
//                adds d to each lane (vaddpd, 256 bits): s + N*d, exact.
//   ymm8..ymm11  4 lanes each: a start x (r % P), a multiplier a
//                (2 + r % (P - 3)) and an addend b (r % P), P = 67108859 (a
//                prime below 2^26); each pass x = (a*x + b) mod P, in AVX
//                doubles (vmulpd, vaddpd, vdivpd, a truncation through
//                int32 and back, vmulpd, vsubpd): every step is exact, as
//                a*x + b < 2^53 and the quotient's truncation is exact.
//   xmm12, xmm13 2 lanes each: the same, with legacy SSE2 instructions
//                (mulpd, addpd, divpd, cvttpd2dq, cvtdq2pd, subpd); then
//                the upper halves of ymm12 and ymm13: 2 lanes each of raw
//                64-bit patterns ((r << 32) ^ r'), which legacy SSE
//                leaves alone: they must come back as they went in.
//   x87          seven starts (r % 2^31 - 2^30) in st(7)..st(1) (st(7)
//                the first drawn), an addend D (r % 2^20) in st(0); each
//                pass adds st(0) to st(1)..st(7) (fadd) and then 1 to
//                st(0) (fiadd): s + N*D + N(N-1)/2 and D + N, integers
//                well inside the 64-bit significand, stored with fistp.
// (ymm14 and ymm15 are scratch.) At each pass the loop also reads the
// TSC: a gap of over half a tick since the last pass is a time the child
// was off its CPU (another ran), counted as a gap.
//
// Output (each line starts "fpuloop: "):
//   fpuloop: cpuid xsave X osxsave O avx A
//   fpuloop: xcr0 0xC, xsave area S bytes, x87|sse|avx area T bytes
//   fpuloop: N cpus, K children, MS ms
//   fpuloop: child I passes N gaps G ticks T       (uptime() before and after)
//   fpuloop: child I ymmR 0xL0 0xL1 0xL2 0xL3      (R = 0..13: the lanes' bits)
//   fpuloop: child I x87 0xD 0xS1 .. 0xS7          (st(0), then st(1)..st(7): int64 bits)
//   fpuloop: done                                 (every child exited 0)
// or "fpuloop: FAILED: ..." (exit 1). The grader works out every value
// from the seed and N (closed forms: N is whatever the child reached).

#include "kernel/types.h"
#include "user/user.h"

#define P               67108859        // 2^26 - 5, a prime
#define MAXKIDS         16

#define CPUID1_XSAVE    (1u << 26)
#define CPUID1_OSXSAVE  (1u << 27)
#define CPUID1_AVX      (1u << 28)

// The loop's memory: fixed offsets, which the assembly names.
#define OFF_YMM         0               // 14 x 4 lanes: in, then out
#define OFF_DELTA       448             // ymm0..7's addends
#define OFF_MUL         704             // ymm8..11's multipliers
#define OFF_ADD         832             // ymm8..11's addends
#define OFF_SMUL        960             // xmm12..13's multipliers
#define OFF_SADD        992             // xmm12..13's addends
#define OFF_P           1024            // P in every lane
#define OFF_X87         1056            // starts, then D; out: the same slots
#define OFF_PASSES      1120
#define OFF_GAPS        1128
#define OFF_LAST        1136
#define OFF_THRESH      1144
#define OFF_DEADLINE    1152
#define OFF_ONE         1160

struct loop {
  union {
    double d[14][4];
    uint64 u[14][4];
  } ymm;
  double delta[8][4];
  double mul[4][4];
  double add[4][4];
  double smul[2][2];
  double sadd[2][2];
  double p[4];
  long x87[8];
  uint64 passes, gaps, last, thresh, deadline;
  int one;
} __attribute__((aligned(32)));

#define CHECK_OFF(field, off) \
  _Static_assert(__builtin_offsetof(struct loop, field) == off, #field)
CHECK_OFF(delta, OFF_DELTA);
CHECK_OFF(mul, OFF_MUL);
CHECK_OFF(add, OFF_ADD);
CHECK_OFF(smul, OFF_SMUL);
CHECK_OFF(sadd, OFF_SADD);
CHECK_OFF(p, OFF_P);
CHECK_OFF(x87, OFF_X87);
CHECK_OFF(passes, OFF_PASSES);
CHECK_OFF(gaps, OFF_GAPS);
CHECK_OFF(last, OFF_LAST);
CHECK_OFF(thresh, OFF_THRESH);
CHECK_OFF(deadline, OFF_DEADLINE);
CHECK_OFF(one, OFF_ONE);

static struct loop L;

#define S_(x) #x
#define S(x) S_(x)

// The pieces of one pass.
#define ADDY(k) "vaddpd " S(OFF_DELTA) "+32*" #k "(%0), %%ymm" #k ", %%ymm" #k "\n\t"
#define LCGY(k, j) \
  "vmulpd " S(OFF_MUL) "+32*" #j "(%0), %%ymm" #k ", %%ymm" #k "\n\t" \
  "vaddpd " S(OFF_ADD) "+32*" #j "(%0), %%ymm" #k ", %%ymm" #k "\n\t" \
  "vdivpd " S(OFF_P) "(%0), %%ymm" #k ", %%ymm14\n\t" \
  "vcvttpd2dq %%ymm14, %%xmm14\n\t" \
  "vcvtdq2pd %%xmm14, %%ymm14\n\t" \
  "vmulpd " S(OFF_P) "(%0), %%ymm14, %%ymm14\n\t" \
  "vsubpd %%ymm14, %%ymm" #k ", %%ymm" #k "\n\t"
#define LCGX(k, j) \
  "mulpd " S(OFF_SMUL) "+16*" #j "(%0), %%xmm" #k "\n\t" \
  "addpd " S(OFF_SADD) "+16*" #j "(%0), %%xmm" #k "\n\t" \
  "movapd %%xmm" #k ", %%xmm15\n\t" \
  "divpd " S(OFF_P) "(%0), %%xmm15\n\t" \
  "cvttpd2dq %%xmm15, %%xmm15\n\t" \
  "cvtdq2pd %%xmm15, %%xmm15\n\t" \
  "mulpd " S(OFF_P) "(%0), %%xmm15\n\t" \
  "subpd %%xmm15, %%xmm" #k "\n\t"
#define LOADY(k) "vmovapd " S(OFF_YMM) "+32*" #k "(%0), %%ymm" #k "\n\t"
#define STOREY(k) "vmovapd %%ymm" #k ", " S(OFF_YMM) "+32*" #k "(%0)\n\t"

// The loop, from L's start values until the TSC passes L.deadline.
static void
run_loop(void)
{
  asm volatile(
    LOADY(0) LOADY(1) LOADY(2) LOADY(3) LOADY(4) LOADY(5) LOADY(6) LOADY(7)
    LOADY(8) LOADY(9) LOADY(10) LOADY(11) LOADY(12) LOADY(13)
    "fildll " S(OFF_X87) "+0(%0)\n\t"
    "fildll " S(OFF_X87) "+8(%0)\n\t"
    "fildll " S(OFF_X87) "+16(%0)\n\t"
    "fildll " S(OFF_X87) "+24(%0)\n\t"
    "fildll " S(OFF_X87) "+32(%0)\n\t"
    "fildll " S(OFF_X87) "+40(%0)\n\t"
    "fildll " S(OFF_X87) "+48(%0)\n\t"
    "fildll " S(OFF_X87) "+56(%0)\n\t"          // D: st(0)
    "1:\n\t"
    ADDY(0) ADDY(1) ADDY(2) ADDY(3) ADDY(4) ADDY(5) ADDY(6) ADDY(7)
    LCGY(8, 0) LCGY(9, 1) LCGY(10, 2) LCGY(11, 3)
    LCGX(12, 0) LCGX(13, 1)
    "fadd %%st, %%st(1)\n\t"
    "fadd %%st, %%st(2)\n\t"
    "fadd %%st, %%st(3)\n\t"
    "fadd %%st, %%st(4)\n\t"
    "fadd %%st, %%st(5)\n\t"
    "fadd %%st, %%st(6)\n\t"
    "fadd %%st, %%st(7)\n\t"
    "fiaddl " S(OFF_ONE) "(%0)\n\t"
    "rdtsc\n\t"
    "shl $32, %%rdx\n\t"
    "or %%rdx, %%rax\n\t"
    "mov %%rax, %%rcx\n\t"
    "sub " S(OFF_LAST) "(%0), %%rcx\n\t"
    "mov %%rax, " S(OFF_LAST) "(%0)\n\t"
    "cmp " S(OFF_THRESH) "(%0), %%rcx\n\t"
    "jb 2f\n\t"
    "incq " S(OFF_GAPS) "(%0)\n"
    "2:\n\t"
    "incq " S(OFF_PASSES) "(%0)\n\t"
    "cmp " S(OFF_DEADLINE) "(%0), %%rax\n\t"
    "jb 1b\n\t"
    STOREY(0) STOREY(1) STOREY(2) STOREY(3) STOREY(4) STOREY(5) STOREY(6) STOREY(7)
    STOREY(8) STOREY(9) STOREY(10) STOREY(11) STOREY(12) STOREY(13)
    "fistpll " S(OFF_X87) "+56(%0)\n\t"
    "fistpll " S(OFF_X87) "+48(%0)\n\t"
    "fistpll " S(OFF_X87) "+40(%0)\n\t"
    "fistpll " S(OFF_X87) "+32(%0)\n\t"
    "fistpll " S(OFF_X87) "+24(%0)\n\t"
    "fistpll " S(OFF_X87) "+16(%0)\n\t"
    "fistpll " S(OFF_X87) "+8(%0)\n\t"
    "fistpll " S(OFF_X87) "+0(%0)\n\t"
    "vzeroupper\n\t"
    : : "r"(&L)
    : "rax", "rcx", "rdx", "cc", "memory",
      "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
      "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
      "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
}

static void
child(int i, uint64 seed, uint64 deadline, uint64 thresh)
{
  uint64 x = seed + 1 + i;

  for (int k = 0; k < 8; k++) {
    for (int l = 0; l < 4; l++) {
      L.ymm.d[k][l] = (double)(long)(seed_next(&x) % (1u << 30));
      L.delta[k][l] = (double)((long)(seed_next(&x) % (1u << 21)) - (1l << 20));
    }
  }
  for (int j = 0; j < 4; j++) {
    for (int l = 0; l < 4; l++) {
      L.ymm.d[8 + j][l] = (double)(long)(seed_next(&x) % P);
      L.mul[j][l] = (double)(long)(2 + seed_next(&x) % (P - 3));
      L.add[j][l] = (double)(long)(seed_next(&x) % P);
    }
  }
  for (int j = 0; j < 2; j++) {
    for (int l = 0; l < 2; l++) {
      L.ymm.d[12 + j][l] = (double)(long)(seed_next(&x) % P);
      L.smul[j][l] = (double)(long)(2 + seed_next(&x) % (P - 3));
      L.sadd[j][l] = (double)(long)(seed_next(&x) % P);
    }
    for (int l = 2; l < 4; l++) {
      uint64 hi = seed_next(&x);
      L.ymm.u[12 + j][l] = hi << 32 ^ seed_next(&x);
    }
  }
  for (int a = 0; a < 7; a++)
    L.x87[a] = (long)(seed_next(&x) % (1u << 31)) - (1l << 30);
  L.x87[7] = seed_next(&x) % (1u << 20);
  for (int l = 0; l < 4; l++)
    L.p[l] = P;
  L.one = 1;
  L.passes = L.gaps = 0;
  L.thresh = thresh;
  L.deadline = deadline;
  L.last = rdtsc();

  int t0 = uptime();
  run_loop();
  int t1 = uptime();

  printf("fpuloop: child %d passes %lu gaps %lu ticks %d\n", i, L.passes, L.gaps, t1 - t0);
  for (int k = 0; k < 14; k++)
    printf("fpuloop: child %d ymm%d 0x%lx 0x%lx 0x%lx 0x%lx\n", i, k, L.ymm.u[k][0],
           L.ymm.u[k][1], L.ymm.u[k][2], L.ymm.u[k][3]);
  // st(0) (D + N), then st(1)..st(7), the starts drawn last to first.
  printf("fpuloop: child %d x87 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx 0x%lx\n", i,
         L.x87[7], L.x87[6], L.x87[5], L.x87[4], L.x87[3], L.x87[2], L.x87[1], L.x87[0]);
  exit(0);
}

static void
cpuid(uint32 leaf, uint32 sub, uint32 *a, uint32 *b, uint32 *c, uint32 *d)
{
  asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

// CPUID's word on XSAVE and AVX; 0 if the loop may run.
static int
check_cpu(void)
{
  uint32 a, b, c, d, maxleaf;

  cpuid(0, 0, &maxleaf, &b, &c, &d);
  cpuid(1, 0, &a, &b, &c, &d);
  int xsave = !!(c & CPUID1_XSAVE), osxsave = !!(c & CPUID1_OSXSAVE), avx = !!(c & CPUID1_AVX);
  printf("fpuloop: cpuid xsave %d osxsave %d avx %d\n", xsave, osxsave, avx);
  if (xsave && !osxsave) {
    printf("fpuloop: FAILED: the CPU has XSAVE%s, but CPUID.1:ECX.OSXSAVE is 0: the kernel "
           "did not turn XSAVE%s on\n", avx ? " and AVX" : "", avx ? " (and so AVX)" : "");
    return 1;
  }
  if (!avx || !xsave || maxleaf < 0xd) {
    printf("fpuloop: FAILED: this CPU has no AVX (or no XSAVE): QEMU's -cpu needs "
           "+xsave,+avx for this test\n");
    return 1;
  }
  uint32 lo, hi;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  uint32 size, avxsize, avxoff;
  cpuid(0xd, 0, &a, &size, &c, &d);
  cpuid(0xd, 2, &avxsize, &avxoff, &c, &d);
  printf("fpuloop: xcr0 0x%lx, xsave area %u bytes, x87|sse|avx area %u bytes\n",
         (uint64)hi << 32 | lo, size, avxoff + avxsize);
  if ((lo & 7) != 7) {
    printf("fpuloop: FAILED: XCR0 0x%x lacks x87, SSE or AVX\n", lo);
    return 1;
  }
  return 0;
}

int
main(int argc, char *argv[])
{
  if (argc != 3) {
    fprintf(2, "usage: fpuloop SEED MS\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]), x = seed, ms = atoi(argv[2]);
  if (check_cpu())
    exit(1);

  struct sysinfo info;
  if (sysinfo(&info) < 0) {
    printf("fpuloop: FAILED: sysinfo\n");
    exit(1);
  }
  int kids = info.ncpu + 1 + seed_next(&x) % 3, pids[MAXKIDS], bad = 0;
  if (kids > MAXKIDS)
    kids = MAXKIDS;
  uint64 thresh = info.tsc_hz / info.hz / 2;
  printf("fpuloop: %lu cpus, %d children, %lu ms\n", info.ncpu, kids, ms);
  uint64 deadline = rdtsc() + ms * (info.tsc_hz / 1000);
  for (int i = 0; i < kids; i++) {
    pids[i] = fork();
    if (pids[i] < 0) {
      printf("fpuloop: FAILED: fork %d\n", i);
      exit(1);
    }
    if (pids[i] == 0)
      child(i, seed, deadline, thresh);
  }
  for (int i = 0; i < kids; i++) {
    int status = -2, pid = wait(&status);
    if (pid < 0 || status != 0) {
      printf("fpuloop: FAILED: wait = %d, status %d\n", pid, status);
      bad = 1;
    }
  }
  if (bad)
    exit(1);
  printf("fpuloop: done\n");
  exit(0);
}
