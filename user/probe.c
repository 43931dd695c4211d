// probe: the user half of the accelerator probe (kern/test/selftest.c's
// test=probe starts it as the first process). One system call there and
// back (syscall/sysret) and exit: status 0 if getpid answered 1, the pid
// of the first process. Its exit powers the machine off.

#include "kernel/types.h"
#include "user/user.h"

int
main(void)
{
  exit(getpid() == 1 ? 0 : 1);
}
