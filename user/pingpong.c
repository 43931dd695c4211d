// pingpong SEED: pairs of processes bounce bytes through pipes, thousands of times.
//
// From the seed (the kernel's LCG draws, seed_next as in
// kern/test/selftest.c, from x = SEED): N = 5000 + r1 % 5000 rounds. PAIRS
// pairs play at once, each a parent (a child of this first process) and
// its child, with two pipes between them. In pair J's round i (from 0) the
// parent sends b_i, the (i + 1)-th draw from y = SEED + J + 1, masked to
// a byte, through pipe "ping"; the child reads it, checks it against its
// own draw, and sends b_i + 1 (mod 256) back through pipe "pong", which
// the parent reads and checks. Each side hashes what it received (FNV-1a,
// 32 bits).
//
// Every round puts each process to sleep on an empty pipe and has the
// other wake it: a wakeup lost between a reader's test of the ring and its
// sleep leaves both of a pair asleep for ever, and the grader's timeout
// catches the hang. (Three pairs on two CPUs keep the process table's lock
// busy, as a loaded machine does: then a sleeper that lets the pipe's
// lock go before it holds the table's waits for the table while its
// partner writes and calls wakeup, and the race that one pair alone runs
// into only now and then is lost within a few thousand rounds.)
//
// Output:
//   pingpong: seed S pairs P rounds N
//   pingpong: pair J child got N bytes, fnv 0xH, wrong W    (W: bytes not as drawn)
//   pingpong: pair J parent got N replies, fnv 0xH, wrong W
//   pingpong: pair J child status S
//   pingpong: pair J status S                               (this process's wait)
//   pingpong: done in T ticks                               (exit 0)
// and "pingpong: FAILED: ..." on a failed call or a wrong byte (exit 1).
// The grader works out N and every hash from the seed.

#include "kernel/types.h"
#include "user/user.h"

#define PAIRS       3
#define FNV_INIT    0x811c9dc5u
#define FNV_PRIME   0x01000193u

// Pair j: fork the child, play n rounds, reap it; exit 0 if all went right.
static void
pair(int j, int n, uint64 seed)
{
  uint64 y = seed + j + 1;
  int ping[2], pong[2], wrong = 0, got = 0;
  uint hash = FNV_INIT;
  uchar b, want;

  if (pipe(ping) < 0 || pipe(pong) < 0) {
    printf("pingpong: FAILED: pair %d: pipe\n", j);
    exit(1);
  }
  int pid = fork();
  if (pid < 0) {
    printf("pingpong: FAILED: pair %d: fork\n", j);
    exit(1);
  }
  if (pid == 0) {
    close(ping[1]);
    close(pong[0]);
    for (int i = 0; i < n; i++) {
      int r = read(ping[0], &b, 1);
      if (r != 1) {
        printf("pingpong: FAILED: pair %d child: read = %d in round %d\n", j, r, i);
        exit(1);
      }
      want = seed_next(&y) & 0xff;
      wrong += b != want;
      hash = (hash ^ b) * FNV_PRIME;
      got++;
      b++;
      if ((r = write(pong[1], &b, 1)) != 1) {
        printf("pingpong: FAILED: pair %d child: write = %d in round %d\n", j, r, i);
        exit(1);
      }
    }
    printf("pingpong: pair %d child got %d bytes, fnv 0x%x, wrong %d\n", j, got, hash, wrong);
    exit(wrong ? 2 : 0);
  }
  close(ping[0]);
  close(pong[1]);
  for (int i = 0; i < n; i++) {
    b = want = seed_next(&y) & 0xff;
    int r = write(ping[1], &b, 1);
    if (r != 1) {
      printf("pingpong: FAILED: pair %d parent: write = %d in round %d\n", j, r, i);
      exit(1);
    }
    if ((r = read(pong[0], &b, 1)) != 1) {
      printf("pingpong: FAILED: pair %d parent: read = %d in round %d\n", j, r, i);
      exit(1);
    }
    wrong += b != (uchar)(want + 1);
    hash = (hash ^ b) * FNV_PRIME;
    got++;
  }
  printf("pingpong: pair %d parent got %d replies, fnv 0x%x, wrong %d\n", j, got, hash, wrong);
  int status = -12345, w = wait(&status);
  printf("pingpong: pair %d child status %d\n", j, status);
  exit(w == pid && status == 0 && !wrong ? 0 : 1);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed;
  int n = 5000 + seed_next(&x) % 5000, pids[PAIRS], bad = 0, start = uptime();

  printf("pingpong: seed %d pairs %d rounds %d\n", (int)seed, PAIRS, n);
  for (int j = 0; j < PAIRS; j++) {
    if ((pids[j] = fork()) < 0) {
      printf("pingpong: FAILED: fork\n");
      exit(1);
    }
    if (pids[j] == 0)
      pair(j, n, seed);
  }
  for (int k = 0; k < PAIRS; k++) {
    int status = -12345, pid = wait(&status), j = -1;
    for (int i = 0; i < PAIRS; i++)
      if (pids[i] == pid)
        j = i;
    printf("pingpong: pair %d status %d\n", j, status);
    bad += j < 0 || status != 0;
  }
  if (bad) {
    printf("pingpong: FAILED: %d pairs did not end well\n", bad);
    exit(1);
  }
  printf("pingpong: done in %d ticks\n", uptime() - start);
  exit(0);
}
