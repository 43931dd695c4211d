// forktest: fork NCHILD children, each of which exits at once, and wait
// for them all.
//
// Written in xv6-public's dialect on purpose (its includes, printf(1, ...),
// exit() and wait() with no argument), to show that user.h's shims build
// it unchanged. Checks that wait() returns each child exactly once and -1
// once no child is left, then prints "fork test OK".

#include "types.h"
#include "stat.h"
#include "user.h"

#define NCHILD 20

void
forktest(void)
{
  int n, pid;

  printf(1, "fork test\n");
  for (n = 0; n < NCHILD; n++) {
    pid = fork();
    if (pid < 0) {
      printf(1, "fork test: fork %d failed\n", n);
      exit();
    }
    if (pid == 0)
      exit();
  }
  for (; n > 0; n--) {
    if (wait() < 0) {
      printf(1, "fork test: wait stopped early, %d children left\n", n);
      exit();
    }
  }
  if (wait() != -1) {
    printf(1, "fork test: wait found an extra child\n");
    exit();
  }
  printf(1, "fork test OK\n");
}

int
main(void)
{
  forktest();
  exit();
}
