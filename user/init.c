// init: the first user process (make qemu's default INIT).
//
// It says it has started, runs hello in a child (fork, then exec in the
// child), waits for that child, reports its pid and exit status, and
// exits 0 once every child is reaped: orphans become init's children, and
// init waits for them too. The kernel powers the machine off when the
// first process exits, so this is the whole life of a default boot. (A
// real init would start a shell and reap orphans forever; lab 8's does.)

#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  char *hargv[] = { "hello", 0 };
  int pid, status, r;

  printf("init: starting, pid %d\n", getpid());
  if ((pid = fork()) < 0) {
    fprintf(2, "init: fork failed\n");
    exit(1);
  }
  if (pid == 0) {
    exec(hargv[0], hargv);
    fprintf(2, "init: exec %s failed\n", hargv[0]);
    exit(1);
  }
  if ((r = wait(&status)) != pid) {
    fprintf(2, "init: wait returned %d, not %d\n", r, pid);
    exit(1);
  }
  printf("init: child %d (%s) exited with status %d\n", pid, hargv[0], status);
  while (wait(0) >= 0)          // orphans, if any
    ;
  exit(0);
}
