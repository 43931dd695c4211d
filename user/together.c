// together SEED: processes run at the same time, on different CPUs (lab 5).
//
// The parent asks sysinfo how many CPUs run (N) and forks K = max(N, 2)
// children. Child I starts from x = SEED + I and steps x = x * LCG_MUL +
// LCG_ADD (mod 2^64) STEPS times, a loop that never enters the kernel;
// it reads the time-stamp counter and its CPU (sysinfo) before and after.
// STEPS = 20000000 + seed_next(SEED) % 10000000, the same for all.
//
// Output (every line starts "together: "):
//   together: N cpus, K children, S steps           the parent, first
//   together: child I cpu A B tsc T0 T1 x X         each child, at its end
//   together: done                                  the parent, once all are reaped
// and on an error "together: FAILED: ...". The grader works out each X
// (the LCG jumps ahead in log S steps), and finds two children on
// different CPUs whose [T0, T1] overlap: on one CPU, with no preemption,
// one child's loop ends before the next one's begins.

#include "kernel/types.h"
#include "user/user.h"

#define LCG_MUL         6364136223846793005ull
#define LCG_ADD         1442695040888963407ull
#define MINCHILDREN     2
#define MAXCHILDREN     64

static int
this_cpu(void)
{
  struct sysinfo info;

  if (sysinfo(&info) < 0) {
    printf("together: FAILED: sysinfo\n");
    exit(1);
  }
  return info.cpu;
}

// Child i's part: the loop, between two readings of where and when.
static void
child(int i, uint64 seed, uint64 steps)
{
  uint64 x = seed + i;
  int cpu0 = this_cpu();
  uint64 t0 = rdtsc();

  for (uint64 s = 0; s < steps; s++)
    x = x * LCG_MUL + LCG_ADD;
  uint64 t1 = rdtsc();
  printf("together: child %d cpu %d %d tsc %lu %lu x 0x%lx\n", i, cpu0, this_cpu(), t0, t1, x);
  exit(i);
}

int
main(int argc, char *argv[])
{
  struct sysinfo info;

  if (argc != 2) {
    fprintf(2, "usage: together SEED\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]), x = seed;
  uint64 steps = 20000000 + seed_next(&x) % 10000000;
  if (sysinfo(&info) < 0) {
    printf("together: FAILED: sysinfo\n");
    exit(1);
  }
  int kids = info.ncpu < MINCHILDREN ? MINCHILDREN : info.ncpu;
  if (kids > MAXCHILDREN)
    kids = MAXCHILDREN;
  printf("together: %lu cpus, %d children, %lu steps\n", info.ncpu, kids, steps);
  for (int i = 0; i < kids; i++) {
    int pid = fork();
    if (pid < 0) {
      printf("together: FAILED: fork %d\n", i);
      exit(1);
    }
    if (pid == 0)
      child(i, seed, steps);
  }
  uint64 seen = 0;
  for (int i = 0; i < kids; i++) {
    int status;
    if (wait(&status) < 0 || status < 0 || status >= kids || (seen >> status) & 1) {
      printf("together: FAILED: wait %d\n", i);
      exit(1);
    }
    seen |= 1ull << status;
  }
  printf("together: done\n");
  exit(0);
}
