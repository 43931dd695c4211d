// pipeeof SEED: end of file, a write with no reader, and a writer that
// waits for room.
//
// Draws: x = SEED, r1, r2, ... the kernel's LCG (seed_next as in
// kern/test/selftest.c), in the order below.
//
// 1. eof: W = 2 + r1 % 3 writers, children that share the write end of one
//    pipe (fork's copies). Writer j (1..W) sleeps 1 + j ticks, so that the
//    parent's first read finds the pipe empty and must wait (not see end of
//    file), then writes L_j = 1 + r(1 + j) % 300 bytes, each of value j,
//    in one write. Writers with j odd then close the write end and exit;
//    the others exit holding it. The last writer (j = W) first sleeps 10
//    ticks more, holding it, and prints the tick at which it lets go. The parent closes its
//    own copy at once and reads until read returns 0, counting the bytes of
//    each value; then reads three times more, each of which must return 0
//    too (end of file stays).
// 2. noreader: a write to a pipe whose read end is closed returns -1; and
//    a writer asleep on a full pipe gets -1 when the last reader goes: a
//    child reads R = 1 + r(W + 2) % 100 bytes and exits, while the parent
//    writes 3 * PIPESIZE bytes in one write.
// 3. full: a child writes S = PIPESIZE + 1 + r(W + 3) % (2 * PIPESIZE)
//    bytes, byte k = r(W + 4 + k) & 0xff, in one write, and prints when it
//    returns; the parent sleeps 5 ticks (the ring full, the writer waiting),
//    prints the tick and only then reads, with read sizes 1..600 of its
//    own; the write must return S once the parent has drained the ring,
//    and the bytes must arrive whole and in order.
//
// Output:
//   pipeeof: seed S writers W PIPESIZE P
//   pipeeof: eof: writer J wrote N bytes            (each writer, its write's result)
//   pipeeof: eof: last writer lets go at tick T
//   pipeeof: eof: end of file at tick T after N bytes: L_1 L_2 ... (bytes of each value)
//   pipeeof: eof: reads after end of file: 0 0 0
//   pipeeof: eof: writer J status S
//   pipeeof: noreader: write = -1
//   pipeeof: noreader: reader took R bytes, then write of N bytes = -1
//   pipeeof: full: reader starts at tick T
//   pipeeof: full: write of S bytes returned N at tick T
//   pipeeof: full: read N bytes, first wrong byte W   (-1: all right)
//   pipeeof: done                                    (exit 0)
// "pipeeof: FAILED: ..." for a call that fails where it must not (exit 1).
// The grader checks every number against the seed.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define MAXWRITERS  4
#define LASTHOLD    10          // ticks the last writer holds its end after writing

static char buf[4 * PIPESIZE];

static void
fail(const char *what, int r)
{
  printf("pipeeof: FAILED: %s (%d)\n", what, r);
  exit(1);
}

// Wait for one child; its status.
static int
reap(int pid)
{
  int status = -12345, r = wait(&status);

  if (r != pid) {
    printf("pipeeof: FAILED: wait = %d, expected %d (status %d)\n", r, pid, status);
    exit(1);
  }
  return status;
}

static void
eof(uint64 *x, int nw)
{
  int p[2], pids[MAXWRITERS + 1], len[MAXWRITERS + 1], count[MAXWRITERS + 1] = { 0 };
  int total = 0, n;

  for (int j = 1; j <= nw; j++)
    len[j] = 1 + seed_next(x) % 300;
  if (pipe(p) < 0)
    fail("eof: pipe", -1);
  for (int j = 1; j <= nw; j++) {
    if ((pids[j] = fork()) < 0)
      fail("eof: fork", pids[j]);
    if (pids[j] == 0) {
      close(p[0]);
      sleep(1 + j);
      memset(buf, j, len[j]);
      int r = write(p[1], buf, len[j]);
      printf("pipeeof: eof: writer %d wrote %d bytes\n", j, r);
      if (j == nw) {
        sleep(LASTHOLD);
        printf("pipeeof: eof: last writer lets go at tick %d\n", uptime());
      }
      if (j % 2)
        close(p[1]);
      exit(r == len[j] ? 0 : 1);
    }
  }
  close(p[1]);
  while ((n = read(p[0], buf, sizeof(buf))) > 0) {
    for (int k = 0; k < n; k++)
      if (buf[k] >= 1 && buf[k] <= nw)
        count[(int)buf[k]]++;
    total += n;
  }
  int at = uptime();
  if (n < 0)
    fail("eof: read", n);
  printf("pipeeof: eof: end of file at tick %d after %d bytes:", at, total);
  for (int j = 1; j <= nw; j++)
    printf(" %d", count[j]);
  printf("\n");
  int again[3];
  for (int k = 0; k < 3; k++)
    again[k] = read(p[0], buf, 1 + k * 100);
  printf("pipeeof: eof: reads after end of file: %d %d %d\n", again[0], again[1], again[2]);
  close(p[0]);
  for (int j = 1; j <= nw; j++) {
    int status = -12345, pid = wait(&status), who = -1;
    for (int i = 1; i <= nw; i++)
      if (pids[i] == pid)
        who = i;
    printf("pipeeof: eof: writer %d status %d\n", who, status);
  }
}

static void
noreader(uint64 *x)
{
  int p[2], r;

  if (pipe(p) < 0)
    fail("noreader: pipe", -1);
  close(p[0]);
  r = write(p[1], "x", 1);
  printf("pipeeof: noreader: write = %d\n", r);
  close(p[1]);

  int take = 1 + seed_next(x) % 100;
  if (pipe(p) < 0)
    fail("noreader: pipe", -1);
  int pid = fork();
  if (pid < 0)
    fail("noreader: fork", pid);
  if (pid == 0) {
    close(p[1]);
    int got = 0;
    while (got < take && (r = read(p[0], buf, take - got)) > 0)
      got += r;
    exit(got == take ? 0 : 1);
  }
  close(p[0]);
  memset(buf, 'n', 3 * PIPESIZE);
  r = write(p[1], buf, 3 * PIPESIZE);
  int status = reap(pid);
  printf("pipeeof: noreader: reader took %d bytes, then write of %d bytes = %d\n",
         status == 0 ? take : -1, 3 * PIPESIZE, r);
  close(p[1]);
}

static void
full(uint64 *x)
{
  int p[2], n;
  int size = PIPESIZE + 1 + seed_next(x) % (2 * PIPESIZE);

  if (pipe(p) < 0)
    fail("full: pipe", -1);
  int pid = fork();
  if (pid < 0)
    fail("full: fork", pid);
  if (pid == 0) {
    close(p[0]);
    for (int k = 0; k < size; k++)
      buf[k] = seed_next(x) & 0xff;
    int r = write(p[1], buf, size);
    printf("pipeeof: full: write of %d bytes returned %d at tick %d\n", size, r, uptime());
    exit(0);
  }
  close(p[1]);
  sleep(5);
  printf("pipeeof: full: reader starts at tick %d\n", uptime());
  uint64 y = *x ^ 0x2545f4914f6cdd1dull;
  int total = 0, wrong = -1;
  char piece[600];
  while ((n = read(p[0], piece, 1 + seed_next(&y) % sizeof(piece))) > 0) {
    for (int k = 0; k < n; k++)
      if (wrong < 0 && (uchar)piece[k] != (seed_next(x) & 0xff))
        wrong = total + k;
    total += n;
  }
  if (n < 0)
    fail("full: read", n);
  close(p[0]);
  printf("pipeeof: full: read %d bytes, first wrong byte %d\n", total, wrong);
  int status = reap(pid);
  if (status != 0)
    fail("full: the writer's status", status);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed;
  int nw = 2 + seed_next(&x) % 3;

  printf("pipeeof: seed %d writers %d PIPESIZE %d\n", (int)seed, nw, PIPESIZE);
  eof(&x, nw);
  noreader(&x);
  full(&x);
  printf("pipeeof: done\n");
  exit(0);
}
