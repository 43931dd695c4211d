// nop [TSC]: exit at once; bench (user/bench.c) times exec with it.
//
// With no argument nop exits 0. With one, the time-stamp counter's value
// that the parent read just before exec (decimal), nop exits with the
// cycles since then, min(rdtsc() - TSC, 0x7fffffff): wait's status is then
// what exec took, from the call to the new program's first instructions.

#include "kernel/types.h"
#include "user/user.h"

#define MAXSTATUS 0x7fffffff

int
main(int argc, char *argv[])
{
  uint64 now = rdtsc(), then = 0;

  if (argc < 2)
    exit(0);
  for (char *s = argv[1]; *s >= '0' && *s <= '9'; s++)
    then = then * 10 + (*s - '0');
  exit(now - then > MAXSTATUS ? MAXSTATUS : now - then);
}
