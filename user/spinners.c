// spinners SEED: processes that never enter the kernel all get the CPU
// (lab 6: the timer preempts).
//
// The parent forks N = 3 + r0 % 6 children (r0, r1: the draws of the
// kernel's LCG, seed_next, from x = SEED), more than the machine has CPUs
// (the grader boots it on one or two). Each child spins for W = 40 + r1 %
// 20 ticks of wall time (the time-stamp counter; no system call until it
// is done) and counts: its latency, from the moment the parent was about
// to fork it to its own first instruction; its slices, the times it got
// a CPU (a gap of over half a tick between two passes of its loop means
// it was off its CPU meanwhile); and its passes. With preemption every
// child starts within a few ticks, and runs in many slices; a kernel that
// lets a process keep its CPU until it enters the kernel starts the later
// children only once earlier ones have spun their whole W ticks.
//
// Output (each line starts "spinners: "):
//   spinners: N children, C cpus, window W ticks
//   spinners: child I latency L ticks/100, slices S, passes P
//   spinners: done                                 (every child exited 0)
// or "spinners: FAILED: ..." (exit 1).

#include "kernel/types.h"
#include "user/user.h"

#define MAXKIDS 8

static void
spin(int i, uint64 forked, uint64 tick, uint64 window)
{
  uint64 first = rdtsc(), last = first, end = first + window * tick;
  uint64 slices = 1, passes = 0;

  for (uint64 now = first; now < end; passes++) {
    now = rdtsc();
    if (now - last > tick / 2)
      slices++;
    last = now;
  }
  printf("spinners: child %d latency %lu ticks/100, slices %lu, passes %lu\n", i,
         (first - forked) * 100 / tick, slices, passes);
  exit(0);
}

int
main(int argc, char *argv[])
{
  if (argc != 2) {
    fprintf(2, "usage: spinners SEED\n");
    exit(1);
  }
  uint64 x = atoi(argv[1]);
  int kids = 3 + seed_next(&x) % 6, bad = 0;
  uint64 window = 40 + seed_next(&x) % 20;
  struct sysinfo info;

  if (sysinfo(&info) < 0) {
    printf("spinners: FAILED: sysinfo\n");
    exit(1);
  }
  uint64 tick = info.tsc_hz / info.hz;
  printf("spinners: %d children, %lu cpus, window %lu ticks\n", kids, info.ncpu, window);
  for (int i = 0; i < kids; i++) {
    uint64 forked = rdtsc();
    int pid = fork();
    if (pid < 0) {
      printf("spinners: FAILED: fork %d\n", i);
      exit(1);
    }
    if (pid == 0)
      spin(i, forked, tick, window);
  }
  for (int i = 0; i < kids; i++) {
    int status = -2, pid = wait(&status);
    if (pid < 0 || status != 0) {
      printf("spinners: FAILED: wait = %d, status %d\n", pid, status);
      bad = 1;
    }
  }
  if (bad)
    exit(1);
  printf("spinners: done\n");
  exit(0);
}
