// pipechain SEED: seeded bytes through a chain of processes joined by pipes.
//
// From the seed (x = SEED; r1, r2, ... the kernel's LCG draws, seed_next as
// in kern/test/selftest.c, in this order):
//
//   K   = 2 + r1 % 5                  stages (children), 2..6
//   LEN = 3073 + 2 * (r2 % 3000)      bytes: odd, so never a multiple of PIPESIZE
//   byte i of the data = r(3 + i) & 0xff
//
// The parent writes the data into pipe 0 in pieces of seeded sizes (some
// bigger than PIPESIZE), then closes it. Stage i (0 .. K-1) reads pipe i
// with read sizes of its own seeded draws (1..700, again some bigger than
// PIPESIZE) and writes each piece it read into pipe i + 1; the last stage
// reads pipe K-1 and hashes what arrives (FNV-1a, 32 bits), comparing it
// byte by byte with the data it draws itself. Every process closes every
// descriptor it does not use, so each stage sees end of file once the
// stage before it has exited (and the parent has closed its own ends).
// The grader boots it on 4 CPUs, so the stages run side by side.
//
// Output:
//   pipechain: seed S stages K len LEN
//   pipechain: stage I copied N bytes in R reads, cpus 0xM      (I < K-1)
//   pipechain: last stage got N bytes in R reads, fnv 0xH, first wrong byte W
//                                                  (W is -1 if all are right)
//   pipechain: stage I pid P status S                            (each stage)
//   pipechain: done                                              (exit 0)
// and "pipechain: FAILED: ..." lines if a call fails (exit 1). The grader
// works out K, LEN and the hash from the seed itself.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define MAXSTAGES   6
#define MAXPIECE    1500        // the parent's writes: 1 .. MAXPIECE bytes
#define MAXREAD     700         // a stage's reads: 1 .. MAXREAD bytes
#define FNV_INIT    0x811c9dc5u
#define FNV_PRIME   0x01000193u

static char buf[MAXPIECE];

// Close every descriptor from 3 up but keep1 and keep2.
static void
close_others(int keep1, int keep2)
{
  for (int fd = 3; fd < NOFILE; fd++)
    if (fd != keep1 && fd != keep2)
      close(fd);
}

// Write all n bytes of b to fd, or fail.
static void
write_all(int fd, const char *b, int n, const char *who)
{
  int r = write(fd, b, n);

  if (r != n) {
    printf("pipechain: FAILED: %s: write(%d, %d bytes) = %d\n", who, fd, n, r);
    exit(1);
  }
}

// The CPU this process runs on now, as a bit.
static uint
cpu_bit(void)
{
  struct sysinfo info;

  return sysinfo(&info) == 0 ? 1u << (info.cpu & 31) : 0;
}

// Stage i: copy from in to out (out < 0: the last stage, which checks).
static void
stage(int i, int in, int out, uint64 seed)
{
  uint64 y = seed ^ (0x9e3779b97f4a7c15ull * (uint64)(i + 1));
  uint64 d = seed;                      // the data's draws, for the last stage
  int total = 0, reads = 0, wrong = -1, n;
  uint hash = FNV_INIT, cpus = cpu_bit();

  seed_next(&d);                        // r1 and r2 are K and LEN
  seed_next(&d);
  for (;;) {
    int want = 1 + seed_next(&y) % MAXREAD;
    n = read(in, buf, want);
    if (n <= 0)
      break;
    reads++;
    if (reads % 8 == 0)
      cpus |= cpu_bit();
    if (out >= 0) {
      write_all(out, buf, n, "stage");
    } else {
      for (int k = 0; k < n; k++) {
        hash = (hash ^ (uchar)buf[k]) * FNV_PRIME;
        if (wrong < 0 && (uchar)buf[k] != (seed_next(&d) & 0xff))
          wrong = total + k;
      }
    }
    total += n;
  }
  if (n < 0) {
    printf("pipechain: FAILED: stage %d: read = %d after %d bytes\n", i, n, total);
    exit(1);
  }
  if (out >= 0)
    printf("pipechain: stage %d copied %d bytes in %d reads, cpus 0x%x\n", i, total, reads,
           cpus);
  else
    printf("pipechain: last stage got %d bytes in %d reads, fnv 0x%x, first wrong byte %d\n",
           total, reads, hash, wrong);
  exit(0);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed;
  int k = 2 + seed_next(&x) % 5;
  int len = 3073 + 2 * (seed_next(&x) % 3000);
  int pids[MAXSTAGES], in[2], first = -1, bad = 0;

  printf("pipechain: seed %d stages %d len %d\n", (int)seed, k, len);

  // Pipe i feeds stage i. The parent keeps pipe 0's write end; each
  // stage gets the read end of its pipe and the write end of the next.
  if (pipe(in) < 0) {
    printf("pipechain: FAILED: pipe\n");
    exit(1);
  }
  first = in[1];
  for (int i = 0; i < k; i++) {
    int next[2] = { -1, -1 };
    if (i + 1 < k && pipe(next) < 0) {
      printf("pipechain: FAILED: pipe %d\n", i + 1);
      exit(1);
    }
    pids[i] = fork();
    if (pids[i] < 0) {
      printf("pipechain: FAILED: fork of stage %d\n", i);
      exit(1);
    }
    if (pids[i] == 0) {
      close_others(in[0], next[1]);
      stage(i, in[0], next[1], seed);
    }
    close(in[0]);                       // the stage's now
    if (next[1] >= 0)
      close(next[1]);
    in[0] = next[0];
  }

  // The data, in seeded pieces.
  uint64 w = seed ^ 0x5bd1e995ull;
  for (int done = 0; done < len;) {
    int n = 1 + seed_next(&w) % MAXPIECE;
    if (n > len - done)
      n = len - done;
    for (int j = 0; j < n; j++)
      buf[j] = seed_next(&x) & 0xff;
    write_all(first, buf, n, "parent");
    done += n;
  }
  close(first);

  for (int i = 0; i < k; i++) {
    int status = -12345, pid = wait(&status), stage = -1;
    for (int j = 0; j < k; j++)
      if (pids[j] == pid)
        stage = j;
    printf("pipechain: stage %d pid %d status %d\n", stage, pid, status);
    if (stage < 0 || status != 0)
      bad++;
  }
  if (bad) {
    printf("pipechain: FAILED: %d stages did not end well\n", bad);
    exit(1);
  }
  printf("pipechain: done\n");
  exit(0);
}
