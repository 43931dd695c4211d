// blocked SEED: processes asleep in the kernel, for GDB to look at.
//
// Four processes block in system calls that nothing will end for a while:
//   reader      reads pipe A, which stays empty;
//   writer      writes PIPESIZE + 1 + r1 % PIPESIZE bytes into pipe B, which
//               nobody reads: the ring fills and it waits for room;
//   waiter      waits for its child, the grandchild;
//   grandchild  reads pipe A too.
// (r1, r2, ... are the kernel's LCG draws, seed_next as in
// kern/test/selftest.c, from x = SEED.) The reader and the writer first
// move their pipe's end to a seeded descriptor (fd 3 + r2 % 10 and
// 3 + r3 % 10, with dup and close), so that the descriptor they sleep
// through is not always the same: each prints it.
//
// Each writes one byte into a "ready" pipe just before its blocking call;
// the parent (the first process) reads all four bytes, sleeps SETTLE
// ticks so that each is asleep, and prints "blocked: ready". Then it calls
// kill(MAGIC) (MAGIC = -(1000 + r4 % 100000): no process has that pid, so
// the call returns -1) up to TRIES times, SETTLE ticks apart: the grader's
// GDB stops the machine at a hardware breakpoint on kill() with that
// argument and reads procs[]: each of the four must be SLEEPING, the
// reader's and the grandchild's chan &pipe->nread of pipe A, the writer's
// &pipe->nwrite of pipe B, the waiter's its own struct proc. (GDB tries
// again at the next call while one of them is not asleep yet.)
//
// Then the parent ends it all: it kills the reader, the writer and the
// waiter, closes its ends of the pipes (the grandchild, its child now,
// reads end of file and exits 0), and reaps all four.
//
// Output:
//   blocked: seed S magic M
//   blocked: reader pid P fd F                  (printed by each, before it blocks)
//   blocked: writer pid P fd F
//   blocked: waiter pid P
//   blocked: grandchild pid P fd F
//   blocked: ready
//   blocked: reaped pid P status S              (four times)
//   blocked: done                               (exit 0)
// and "blocked: FAILED: ..." for what goes wrong.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define SETTLE  3               // ticks between the parent's steps
#define TRIES   15              // kill(MAGIC) calls, at most

static char buf[2 * PIPESIZE];

static void
fail(const char *what, int r)
{
  printf("blocked: FAILED: %s (%d)\n", what, r);
  exit(1);
}

// Keep fds 0..2, want's file at fd target (3..NOFILE-3) and ready's at
// NOFILE - 2 (which is returned through *ready), and close the rest:
// fill the table, move both to its top, close 3 .. NOFILE-3, fill the fds
// below target, dup into target, and close the fillers.
static int
settle_fds(int want, int *ready, int target)
{
  while (dup(0) >= 0)
    ;
  close(NOFILE - 1);
  if (dup(want) != NOFILE - 1)
    return -1;
  close(NOFILE - 2);
  if (dup(*ready) != NOFILE - 2)
    return -1;
  *ready = NOFILE - 2;
  for (int fd = 3; fd < NOFILE - 2; fd++)
    close(fd);
  for (int fd = 3; fd < target; fd++)
    dup(0);
  int fd = dup(NOFILE - 1);
  close(NOFILE - 1);
  for (int f = 3; f < target; f++)
    close(f);
  return fd == target ? fd : -1;
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed;
  int size = PIPESIZE + 1 + seed_next(&x) % PIPESIZE;
  int rfd = 3 + seed_next(&x) % 10, wfd = 3 + seed_next(&x) % 10;
  int magic = -(1000 + (int)(seed_next(&x) % 100000));
  int ready[2], a[2], b[2], pids[3], r, fd;

  printf("blocked: seed %d magic %d\n", (int)seed, magic);
  if (pipe(ready) < 0 || pipe(a) < 0 || pipe(b) < 0)
    fail("pipe", -1);
  for (int i = 0; i < 3; i++) {
    if ((pids[i] = fork()) < 0)
      fail("fork", pids[i]);
    if (pids[i] != 0)
      continue;
    if (i == 0) {                       // reader
      if ((fd = settle_fds(a[0], &ready[1], rfd)) < 0)
        fail("reader: dup", fd);
      printf("blocked: reader pid %d fd %d\n", getpid(), fd);
      write(ready[1], "r", 1);
      r = read(fd, buf, 1);
      if (r != -1)
        printf("blocked: FAILED: the reader's read returned %d\n", r);
    } else if (i == 1) {                // writer
      if ((fd = settle_fds(b[1], &ready[1], wfd)) < 0)
        fail("writer: dup", fd);
      printf("blocked: writer pid %d fd %d\n", getpid(), fd);
      memset(buf, 'w', size);
      write(ready[1], "w", 1);
      r = write(fd, buf, size);
      if (r != -1)
        printf("blocked: FAILED: the writer's write of %d bytes returned %d\n", size, r);
    } else {                            // waiter
      close(a[1]), close(b[0]), close(b[1]);
      int g = fork();
      if (g == 0) {
        printf("blocked: grandchild pid %d fd %d\n", getpid(), a[0]);
        write(ready[1], "g", 1);
        r = read(a[0], buf, 1);
        exit(r == 0 ? 0 : 4);           // end of file, once the parent closes A
      }
      close(a[0]);
      printf("blocked: waiter pid %d\n", getpid());
      write(ready[1], "a", 1);
      r = wait(0);
      if (r != -1)
        printf("blocked: FAILED: the waiter's wait returned %d\n", r);
    }
    exit(3);
  }
  close(ready[1]);
  close(a[0]);                          // the parent keeps a[1] and b[0]
  close(b[1]);
  for (int got = 0; got < 4; got += r)
    if ((r = read(ready[0], buf, 4 - got)) <= 0)
      fail("read of the ready pipe", r);
  sleep(SETTLE);
  printf("blocked: ready\n");
  for (int i = 0; i < TRIES; i++) {
    kill(magic);                        // GDB stops here
    sleep(SETTLE);
  }

  for (int i = 0; i < 3; i++)
    kill(pids[i]);
  close(a[1]);
  close(b[0]);
  for (int i = 0; i < 4; i++) {
    int status = -12345, pid = wait(&status);
    printf("blocked: reaped pid %d status %d\n", pid, status);
  }
  printf("blocked: done\n");
  exit(0);
}
