// killtest SEED: kill() ends other processes, whatever they are doing.
//
// Forks K = 3 + SEED % 3 children. Child i spins in a loop of yield()
// calls if i % 3 == 0 (in lab 4 a process that never enters the kernel
// would keep the CPU forever: nothing preempts it until lab 6), sleeps for
// a long time if i % 3 == 1, and if i % 3 == 2 forks a grandchild that
// sleeps GRANDCHILD_TICKS and waits for it. The parent lets each start,
// kills each, and waits for each: every one must come back with status
// -1, the status of a killed process, and the waiting one well before its
// grandchild could have ended its wait (a wait() that ignores kill would
// go on waiting). The grandchild, an orphan, is left asleep: the machine
// powers off when killtest, the first process, exits. kill() of a pid
// that does not exist must return -1.
//
// Output: "killtest: child P spinning|sleeping|waiting", "killtest: kill(P) = R",
// "killtest: reaped P status S", "killtest: kill(Q) = R" for a pid Q that
// does not exist, and "killtest: ok" (exit 0) or "killtest: FAILED: ...".

#include "kernel/types.h"
#include "user/user.h"

#define MAXKIDS 5
#define GRANDCHILD_TICKS 400    // how long the waiting child's child sleeps
#define START_TICKS     5       // how long the parent gives each child to start

int
main(int argc, char *argv[])
{
  int seed = argc > 1 ? atoi(argv[1]) : 0, kids = 3 + seed % 3, pids[MAXKIDS], bad = 0;

  for (int i = 0; i < kids; i++) {
    pids[i] = fork();
    if (pids[i] < 0) {
      printf("killtest: FAILED: fork = %d\n", pids[i]);
      exit(1);
    }
    if (pids[i] == 0) {
      static const char *const kinds[] = { "spinning", "sleeping", "waiting" };
      printf("killtest: child %d %s\n", getpid(), kinds[i % 3]);
      if (i % 3 == 0)
        for (;;)
          yield();
      if (i % 3 == 1)
        sleep(100000);
      if (fork() == 0) {
        sleep(GRANDCHILD_TICKS);
        exit(0);
      }
      wait(0);
      printf("killtest: FAILED: child %d went on after kill\n", getpid());
      exit(0);
    }
    sleep(START_TICKS); // let it start (one yield would do on one CPU; not with several)
  }
  int start = uptime();
  for (int i = 0; i < kids; i++)
    printf("killtest: kill(%d) = %d\n", pids[i], kill(pids[i]));
  for (int i = 0; i < kids; i++) {
    int status = 0, pid = wait(&status);
    printf("killtest: reaped %d status %d\n", pid, status);
    if (status != -1)
      bad++;
  }
  int late = uptime() - start >= GRANDCHILD_TICKS / 2;
  if (late)
    printf("killtest: FAILED: %d ticks to reap the killed children: wait() ignored kill\n",
           uptime() - start);
  int nosuch = pids[kids - 1] + 1000 + seed % 1000;
  int r = kill(nosuch);
  printf("killtest: kill(%d) = %d\n", nosuch, r);
  if (r != -1 || bad || late) {
    printf("killtest: FAILED: %d children not killed, kill of no process = %d\n", bad, r);
    exit(1);
  }
  printf("killtest: ok\n");
  exit(0);
}
