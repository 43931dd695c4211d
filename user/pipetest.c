// pipetest: pipes in xv6-public's dialect (printf(1, ...), exit(),
// wait()), like the pipe tests of xv6's usertests: a child writes seeded
// runs of bytes into a pipe, the parent reads them back in uneven pieces
// and checks every byte and the end of file; then a write with no reader
// left must fail. Prints "pipe test OK".

#include "types.h"
#include "stat.h"
#include "user.h"

#define N 7          // runs of bytes the child writes
#define SZ 1031      // bytes in each run (not a power of two: the ring wraps mid-run)

char buf[8192];

void
stream(void)
{
  int fds[2], pid;
  int seq, i, n, want, total;

  if (pipe(fds) != 0) {
    printf(1, "pipe() failed\n");
    exit();
  }
  pid = fork();
  seq = 0;
  if (pid == 0) {
    close(fds[0]);
    for (n = 0; n < N; n++) {
      for (i = 0; i < SZ; i++)
        buf[i] = seq++;
      if (write(fds[1], buf, SZ) != SZ) {
        printf(1, "pipetest: a write came back short\n");
        exit();
      }
    }
    exit();
  } else if (pid > 0) {
    close(fds[1]);
    total = 0;
    want = 1;
    while ((n = read(fds[0], buf, want)) > 0) {
      for (i = 0; i < n; i++) {
        if ((buf[i] & 0xff) != (seq++ & 0xff)) {
          printf(1, "pipetest: byte %d is wrong\n", total + i);
          exit();
        }
      }
      total += n;
      want = want * 3 + 1;        // uneven reads: 1, 4, 13, ...
      if (want > sizeof(buf))
        want = sizeof(buf);
    }
    if (total != N * SZ) {
      printf(1, "pipetest: %d bytes arrived, not %d\n", total, N * SZ);
      exit();
    }
    close(fds[0]);
    wait();
  } else {
    printf(1, "fork() failed\n");
    exit();
  }
  printf(1, "pipetest: %d bytes in order, then end of file\n", N * SZ);
}

void
noreader(void)
{
  int fds[2];

  if (pipe(fds) != 0) {
    printf(1, "pipe() failed\n");
    exit();
  }
  close(fds[0]);
  if (write(fds[1], "x", 1) != -1) {
    printf(1, "noreader: write with no reader should fail\n");
    exit();
  }
  close(fds[1]);
  printf(1, "pipetest: no reader, write fails\n");
}

int
main(void)
{
  stream();
  noreader();
  printf(1, "pipe test OK\n");
  exit();
}
