// killtest SEED: kill() ends other processes, whatever they are doing.
//
// Forks K = 2 + SEED % 4 children. Even ones spin in a loop of yield()
// calls (in lab 4 a process that never enters the kernel would keep the
// CPU forever: nothing preempts it until lab 6); odd ones sleep for a
// long time. The parent lets each start, kills each, and waits for each:
// every one must come back with status -1, the status of a killed
// process. kill() of a pid that does not exist must return -1.
//
// Output: "killtest: child P spinning|sleeping", "killtest: kill(P) = R",
// "killtest: reaped P status S", "killtest: kill(Q) = R" for a pid Q that
// does not exist, and "killtest: ok" (exit 0) or "killtest: FAILED: ...".

#include "kernel/types.h"
#include "user/user.h"

#define MAXKIDS 5

int
main(int argc, char *argv[])
{
  int seed = argc > 1 ? atoi(argv[1]) : 0, kids = 2 + seed % 4, pids[MAXKIDS], bad = 0;

  for (int i = 0; i < kids; i++) {
    pids[i] = fork();
    if (pids[i] < 0) {
      printf("killtest: FAILED: fork = %d\n", pids[i]);
      exit(1);
    }
    if (pids[i] == 0) {
      printf("killtest: child %d %s\n", getpid(), i % 2 ? "sleeping" : "spinning");
      if (i % 2)
        sleep(100000);
      else
        for (;;)
          yield();
      printf("killtest: FAILED: child %d went on after kill\n", getpid());
      exit(0);
    }
    yield();            // let it start
  }
  for (int i = 0; i < kids; i++)
    printf("killtest: kill(%d) = %d\n", pids[i], kill(pids[i]));
  for (int i = 0; i < kids; i++) {
    int status = 0, pid = wait(&status);
    printf("killtest: reaped %d status %d\n", pid, status);
    if (status != -1)
      bad++;
  }
  int nosuch = pids[kids - 1] + 1000 + seed % 1000;
  int r = kill(nosuch);
  printf("killtest: kill(%d) = %d\n", nosuch, r);
  if (r != -1 || bad) {
    printf("killtest: FAILED: %d children not killed, kill of no process = %d\n", bad, r);
    exit(1);
  }
  printf("killtest: ok\n");
  exit(0);
}
