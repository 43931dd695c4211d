// killblock SEED: kill() of processes asleep in the kernel.
//
// Three children, each blocked in a system call that nothing will end:
//   reader   reads a pipe that stays empty (only the parent holds its
//            write end, and never writes);
//   writer   writes PIPESIZE + 1 + r1 % PIPESIZE bytes, in one write, into
//            a pipe nobody reads: it fills the ring and waits for room;
//   waiter   waits for its own child, the grandchild, which reads a pipe G
//            that stays empty (only the parent holds G's write end).
// (r1, r2, ... are the kernel's LCG draws, seed_next as in
// kern/test/selftest.c, from x = SEED.) Each of the four writes one byte
// into a "ready" pipe just before its blocking call; the parent reads all
// four, then sleeps SETTLE ticks so that each is asleep (a kill that came
// before its sleep would have to work as well). Then it kills the three
// children one at a time, in a seeded order (child r2 % 3 first, then the
// two after it in turn, swapped if r3 is odd), and after each kill waits: wait must
// return the killed child's pid, with status -1 (a killed process's), and
// promptly: the ticks from kill to wait's return are printed. A blocking
// call that returns in a child is a failure (it exits 3).
//
// Last, the parent closes G's write end: the grandchild, an orphan now and
// so this process's child (it is the first process), reads end of file
// and exits 0, and the parent reaps it; then sysinfo must count one
// process, this one.
//
// Output:
//   killblock: seed S order NAME NAME NAME
//   killblock: grandchild pid P blocked in read
//   killblock: reader pid P, writer pid P, waiter pid P
//   killblock: kill NAME pid P = R                     (three times, each with:)
//   killblock: reaped pid P status S after T ticks
//   killblock: grandchild: reaped pid P status S
//   killblock: nproc N
//   killblock: done                                    (exit 0)
// and "killblock: FAILED: ..." for what goes wrong.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define SETTLE  5               // ticks the parent gives the children to fall asleep

static char buf[2 * PIPESIZE];

static void
fail(const char *what, int r)
{
  printf("killblock: FAILED: %s (%d)\n", what, r);
  exit(1);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed;
  int size = PIPESIZE + 1 + seed_next(&x) % PIPESIZE;
  int order[3] = { 0, 1, 2 }, t;
  static const char *const names[3] = { "reader", "writer", "waiter" };
  int ready[2], rp[2], wp[2], gp[2], pids[3], r;

  // The order: r2 % 3 first, then r3 % 2 of the other two.
  t = seed_next(&x) % 3;
  order[0] = t, order[1] = (t + 1) % 3, order[2] = (t + 2) % 3;
  if (seed_next(&x) % 2)
    t = order[1], order[1] = order[2], order[2] = t;
  printf("killblock: seed %d order %s %s %s\n", (int)seed, names[order[0]], names[order[1]],
         names[order[2]]);

  if (pipe(ready) < 0 || pipe(rp) < 0 || pipe(wp) < 0 || pipe(gp) < 0)
    fail("pipe", -1);
  for (int i = 0; i < 3; i++) {
    if ((pids[i] = fork()) < 0)
      fail("fork", pids[i]);
    if (pids[i] != 0)
      continue;
    // The child keeps what it blocks on, and the ready pipe's write end.
    if (i == 0) {                       // reader
      close(rp[1]), close(wp[0]), close(wp[1]), close(gp[0]), close(gp[1]);
      write(ready[1], "r", 1);
      r = read(rp[0], buf, 1);
      printf("killblock: FAILED: the reader's read returned %d\n", r);
    } else if (i == 1) {                // writer
      close(rp[0]), close(rp[1]), close(gp[0]), close(gp[1]);
      memset(buf, 'w', size);
      write(ready[1], "w", 1);
      r = write(wp[1], buf, size);
      printf("killblock: FAILED: the writer's write of %d bytes returned %d\n", size, r);
    } else {                            // waiter
      close(rp[0]), close(rp[1]), close(wp[0]), close(wp[1]), close(gp[1]);
      int g = fork();
      if (g == 0) {
        printf("killblock: grandchild pid %d blocked in read\n", getpid());
        write(ready[1], "g", 1);
        r = read(gp[0], buf, 1);
        exit(r == 0 ? 0 : 4);           // end of file, once the parent closes G
      }
      close(gp[0]);
      write(ready[1], "a", 1);
      r = wait(0);
      printf("killblock: FAILED: the waiter's wait returned %d\n", r);
    }
    exit(3);
  }
  close(ready[1]);
  close(rp[0]);                         // the parent keeps rp[1], wp[0] and gp[1]
  close(wp[1]);
  close(gp[0]);
  for (int got = 0; got < 4; got += r)
    if ((r = read(ready[0], buf, 4 - got)) <= 0)
      fail("read of the ready pipe", r);
  close(ready[0]);
  sleep(SETTLE);
  printf("killblock: reader pid %d, writer pid %d, waiter pid %d\n", pids[0], pids[1], pids[2]);

  for (int k = 0; k < 3; k++) {
    int i = order[k], status = -12345, start = uptime();
    r = kill(pids[i]);
    printf("killblock: kill %s pid %d = %d\n", names[i], pids[i], r);
    int pid = wait(&status);
    printf("killblock: reaped pid %d status %d after %d ticks\n", pid, status, uptime() - start);
  }

  close(gp[1]);                         // the grandchild's end of file
  int status = -12345, pid = wait(&status);
  printf("killblock: grandchild: reaped pid %d status %d\n", pid, status);
  close(rp[1]);
  close(wp[0]);
  struct sysinfo info;
  sysinfo(&info);
  printf("killblock: nproc %d\n", (int)info.nproc);
  printf("killblock: done\n");
  exit(0);
}
