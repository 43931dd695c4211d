// sleeptest SEED: sleep(n) sleeps n ticks, asleep; kill() ends a sleep
// (lab 6).
//
// Draws (the kernel's LCG, seed_next, from x = SEED): three lengths n =
// 3 + r % 38 ticks, a long one LONG = 1000 + r % 1000, a pause PAUSE =
// 20 + r % 10. The program sleeps each n in turn and prints uptime()
// before and after: it must wake n ticks later or a little more. Then it
// forks a child that prints a line and calls sleep(LONG), sleeps PAUSE
// ticks itself, kills the child and waits for it: the sleep must end at
// once, and wait return the child's pid with status -1 (a killed
// process's).
//
// While the child is inside sleep(LONG), the grader looks at it with
// GDB (a breakpoint in the kernel's sleep_ticks for n == LONG, then a few
// timer ticks later): its procs[] slot must be SLEEPING, on chan &ticks.
// A sleep that yields and looks again leaves it RUNNABLE.
//
// Output (each line starts "sleeptest: "):
//   sleeptest: sleeps N1 N2 N3, child LONG, pause PAUSE
//   sleeptest: sleep(N) = R, uptime T0 -> T1           (one per N)
//   sleeptest: child PID calls sleep(LONG)
//   sleeptest: kill(PID) = K, wait = W status S, D ticks after the kill
//   sleeptest: done
// or "sleeptest: FAILED: ..." (exit 1).

#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  if (argc != 2) {
    fprintf(2, "usage: sleeptest SEED\n");
    exit(1);
  }
  uint64 x = atoi(argv[1]);
  int n[3];
  for (int i = 0; i < 3; i++)
    n[i] = 3 + seed_next(&x) % 38;
  int longsleep = 1000 + seed_next(&x) % 1000, pause = 20 + seed_next(&x) % 10;

  printf("sleeptest: sleeps %d %d %d, child %d, pause %d\n", n[0], n[1], n[2], longsleep,
         pause);
  for (int i = 0; i < 3; i++) {
    int t0 = uptime(), r = sleep(n[i]), t1 = uptime();
    printf("sleeptest: sleep(%d) = %d, uptime %d -> %d\n", n[i], r, t0, t1);
  }
  int pid = fork();
  if (pid < 0) {
    printf("sleeptest: FAILED: fork\n");
    exit(1);
  }
  if (pid == 0) {
    printf("sleeptest: child %d calls sleep(%d)\n", getpid(), longsleep);
    int r = sleep(longsleep);
    printf("sleeptest: FAILED: the child's sleep(%d) returned %d\n", longsleep, r);
    exit(1);
  }
  sleep(pause);
  int status = -2, t0 = uptime(), k = kill(pid), w = wait(&status), t1 = uptime();
  printf("sleeptest: kill(%d) = %d, wait = %d status %d, %d ticks after the kill\n", pid, k, w,
         status, t1 - t0);
  printf("sleeptest: done\n");
  exit(0);
}
