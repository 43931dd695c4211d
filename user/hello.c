// hello: the smallest useful user program.
//
// Prints "hello from user mode: pid N" with its own pid, then each of its
// arguments (make qemu INIT="hello a b" passes some), and exits 0.

#include "kernel/types.h"
#include "user/user.h"

int
main(int argc, char *argv[])
{
  int i;

  printf("hello from user mode: pid %d\n", getpid());
  for (i = 1; i < argc; i++)
    printf("hello: argv[%d] = %s\n", i, argv[i]);
  exit(0);
}
