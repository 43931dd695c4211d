// together SEED: processes run at the same time, on different CPUs (lab 5).
//
// The parent asks sysinfo how many CPUs run (N) and forks K = max(N, 2)
// children. Child I starts from x = SEED + I and steps x = x * LCG_MUL +
// LCG_ADD (mod 2^64) STEPS times, a loop that enters the kernel only
// every SAMPLE_STEPS steps, to ask sysinfo how many processes are RUNNING
// at that moment (each on a CPU of its own: a CPU runs one at a time).
// STEPS = 20000000 + seed_next(SEED) % 10000000, the same for all.
//
// Output (every line starts "together: "):
//   together: N cpus, K children, S steps           the parent, first
//   together: child I cpu A B running R x X         each child, at its end: its
//                                                   CPU before and after, the most
//                                                   processes it saw RUNNING at once
//   together: done                                  the parent, once all are reaped
// and on an error "together: FAILED: ...". The grader works out each X
// (the LCG jumps ahead in log S steps) and wants some R of 2 or more: on
// one CPU, whatever the scheduling, a child that asks is the only process
// RUNNING. (Times would not do: from lab 6 on, time slices on one CPU
// overlap too.)

#include "kernel/types.h"
#include "user/user.h"

#define LCG_MUL         6364136223846793005ull
#define LCG_ADD         1442695040888963407ull
#define MINCHILDREN     2
#define MAXCHILDREN     64
#define SAMPLE_STEPS    (1 << 18)       // steps between two looks at sysinfo

static struct sysinfo
info_now(void)
{
  struct sysinfo info;

  if (sysinfo(&info) < 0) {
    printf("together: FAILED: sysinfo\n");
    exit(1);
  }
  return info;
}

// Child i's part: the loop, and a look every SAMPLE_STEPS steps.
static void
child(int i, uint64 seed, uint64 steps)
{
  uint64 x = seed + i, most = 0;
  int cpu0 = info_now().cpu;

  for (uint64 s = 0; s < steps; s++) {
    x = x * LCG_MUL + LCG_ADD;
    if (s % SAMPLE_STEPS == 0) {
      uint64 running = info_now().nrunning;
      most = running > most ? running : most;
    }
  }
  printf("together: child %d cpu %d %lu running %lu x 0x%lx\n", i, cpu0, info_now().cpu, most,
         x);
  exit(i);
}

int
main(int argc, char *argv[])
{
  if (argc != 2) {
    fprintf(2, "usage: together SEED\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]), x = seed;
  uint64 steps = 20000000 + seed_next(&x) % 10000000;
  struct sysinfo info = info_now();
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
