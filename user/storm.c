// storm SEED: a seeded storm of fork, exit, wait, pipe, read, write,
// close and kill; at the end every process reaped and every page back.
//
// The first process (this one, "root") draws N = 600 + r1 % 400 and then
// N operations from the kernel's LCG (seed_next as in kern/test/selftest.c,
// x = SEED); each picks one of its children, if one fits, by a draw too:
//   spawn   fork a child of a drawn kind (at most MAXKIDS at once):
//           sink     reads its pipe until end of file, with read sizes of
//                    its own, and exits with the FNV-1a hash of what it read, % 90;
//           source   writes L = 1 + r % 3000 seeded bytes into its pipe, in
//                    pieces of its own, and exits with L % 90 (99 if a
//                    write fails: root closed its end first);
//           blocker  reads a pipe root never writes: exits 42 at end of file;
//           forker   forks 1..3 children of its own that exit with seeded
//                    statuses (< 50), waits for them, exits with their sum % 90
//                    (98 if a wait went wrong);
//           quick    exits at once with a seeded status.
//           A child's pipe is new for it; the child closes every other
//           descriptor it inherited, first thing.
//   feed    write 1..1200 seeded bytes to a sink (more than PIPESIZE
//           blocks root until the sink has read);
//   drain   read up to 1500 bytes from a source, each checked against the
//           source's seeded data;
//   close   close root's end of a child's pipe (a sink or blocker then
//           reads end of file; a source's next write fails);
//   kill    kill a child;
//   reap    make sure a child will end (close its pipe), then wait until
//           wait returns it; any other child wait returns meanwhile is
//           reaped as well. A forker's children that outlive it (killed)
//           are root's (it is the first process): wait returns them too;
//   yield   give the CPU away.
// Each reaped child's status must be the one it exits with, as root works
// it out (for a sink, from the bytes fed it), or for a killed child -1 or
// that one. At the end root closes every pipe and reaps everyone; then
// sysinfo must count one process, and as many free pages as before the
// storm (the heap is warmed first with more pipes at once than the storm
// can hold). The grader boots it on 4 CPUs, so children run side by side.
//
// Output:
//   storm: seed S ops N
//   storm: F forks, K kills (L of live children), R reaped, O orphans, B bytes fed, D bytes drained
//   storm: nproc P, free pages before B after A
//   storm: ok                          (exit 0)
// or "storm: FAILED: ..." lines (the first few) and exit 1.

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

#define MAXKIDS     10
#define MAXSHOWN    10          // failures reported one by one
#define FNV_INIT    0x811c9dc5u
#define FNV_PRIME   0x01000193u
#define DATA_MIX    0x9e3779b97f4a7c15ull   // a source's data: its seed ^ this
#define FEED_MIX    0xc2b2ae3d27d4eb4full   // root's feed bytes: SEED ^ this

enum { SINK, SOURCE, BLOCKER, FORKER, QUICK, NKINDS };
static const char *const kinds[NKINDS] = { "sink", "source", "blocker", "forker", "quick" };

struct kid {
  int pid;                      // 0: a free slot
  int kind;
  int fd;                       // root's end of its pipe; -1: none, or closed
  uint64 seed;                  // its own draws
  int killed;                   // kill() returned 0 for it
  int expect;                   // the status it exits with if not killed (-2: 0..89 or 99)
  uint hash;                    // sink: FNV-1a of the bytes fed it
  uint64 gen;                   // source: its data's generator, as far as drained
  int len, drained, eof;        // source: L, bytes drained, end of file seen
  int early;                    // source: root closed its end before end of file
};

static struct kid kids[MAXKIDS];
static char buf[1600];
static int nfail, forks, kills, livekills, reaped, orphans, fed, drained;

static void
failed(const char *what, int a, int b)
{
  if (nfail++ < MAXSHOWN)
    printf("storm: FAILED: %s (%d, %d)\n", what, a, b);
}

// A child: close every inherited descriptor from 3 up but keep.
static void
close_others(int keep)
{
  for (int fd = 3; fd < NOFILE; fd++)
    if (fd != keep)
      close(fd);
}

static void
sink(int fd, uint64 y)
{
  uint hash = FNV_INIT;
  int n;

  while ((n = read(fd, buf, 1 + seed_next(&y) % 900)) > 0)
    for (int i = 0; i < n; i++)
      hash = (hash ^ (uchar)buf[i]) * FNV_PRIME;
  exit(n < 0 ? 97 : hash % 90);
}

// A source's L (first draw of its seed); *y is left at its pieces' draws.
static int
source_len(uint64 *y)
{
  return 1 + seed_next(y) % 3000;
}

static void
source(int fd, uint64 y)
{
  uint64 d = y ^ DATA_MIX;
  int len = source_len(&y);

  for (int done = 0; done < len;) {
    int n = 1 + seed_next(&y) % 700;
    if (n > len - done)
      n = len - done;
    for (int i = 0; i < n; i++)
      buf[i] = seed_next(&d) & 0xff;
    if (write(fd, buf, n) != n)
      exit(99);
    done += n;
  }
  exit(len % 90);
}

// A forker's children's statuses, summed, % 90: what it exits with.
static int
forker_sum(uint64 y, int *n, int *st)
{
  int sum = 0;

  *n = 1 + seed_next(&y) % 3;
  for (int i = 0; i < *n; i++) {
    st[i] = seed_next(&y) % 50;
    sum += st[i];
  }
  return sum % 90;
}

static void
forker(uint64 y)
{
  int n, st[3], bad = 0, sum = forker_sum(y, &n, st), pids[3];

  for (int i = 0; i < n; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      if (st[i] % 2)
        yield();
      exit(st[i]);
    }
  }
  for (int i = 0; i < n; i++) {
    int status = -12345, pid = wait(&status), found = 0;
    for (int j = 0; j < n; j++)
      if (pids[j] == pid && pid > 0 && status == st[j])
        found = 1, pids[j] = 0;
    bad += !found;
  }
  exit(bad ? 98 : sum);
}

// A live child of the kinds in mask (bits), that has (if withfd) its pipe
// open, picked by a draw; NULL if none.
static struct kid *
pick(uint64 *x, int mask, int withfd)
{
  int n = 0, r = seed_next(x);

  for (int i = 0; i < MAXKIDS; i++)
    n += kids[i].pid && (mask >> kids[i].kind & 1) && (!withfd || kids[i].fd >= 0);
  if (n == 0)
    return 0;
  r %= n;
  for (int i = 0; i < MAXKIDS; i++)
    if (kids[i].pid && (mask >> kids[i].kind & 1) && (!withfd || kids[i].fd >= 0) && r-- == 0)
      return &kids[i];
  return 0;
}

static void
spawn(uint64 *x)
{
  struct kid *k = 0;
  int p[2] = { -1, -1 };

  for (int i = 0; i < MAXKIDS && !k; i++)
    if (kids[i].pid == 0)
      k = &kids[i];
  if (!k)
    return;
  memset(k, 0, sizeof(*k));
  k->kind = seed_next(x) % NKINDS;
  k->seed = seed_next(x);
  k->fd = -1;
  if (k->kind <= BLOCKER && pipe(p) < 0) {
    failed("pipe", -1, k->kind);
    return;
  }
  int pid = fork();
  if (pid < 0) {
    failed("fork", pid, k->kind);
    close(p[0]), close(p[1]);
    return;
  }
  if (pid == 0) {
    int mine = k->kind == SOURCE ? p[1] : p[0];
    close_others(k->kind <= BLOCKER ? mine : -1);
    uint64 y = k->seed;
    if (k->kind == SINK)
      sink(mine, y);
    if (k->kind == SOURCE)
      source(mine, y);
    if (k->kind == BLOCKER)
      exit(read(mine, buf, 1) == 0 ? 42 : 43);
    if (k->kind == FORKER)
      forker(y);
    exit(seed_next(&y) % 90);
  }
  forks++;
  k->pid = pid;
  uint64 y = k->seed;
  int n, st[3];
  switch (k->kind) {
  case SINK:
    close(p[0]);
    k->fd = p[1];
    k->hash = FNV_INIT;
    break;
  case SOURCE:
    close(p[1]);
    k->fd = p[0];
    k->gen = y ^ DATA_MIX;
    k->len = source_len(&y);
    k->expect = k->len % 90;
    break;
  case BLOCKER:
    close(p[0]);
    k->fd = p[1];
    k->expect = 42;
    break;
  case FORKER:
    k->expect = forker_sum(y, &n, st);
    break;
  case QUICK:
    k->expect = seed_next(&y) % 90;
    break;
  }
}

static void
feed(uint64 *x, uint64 *f)
{
  struct kid *k = pick(x, 1 << SINK, 1);
  int n = 1 + seed_next(x) % 1200;

  if (!k)
    return;
  for (int i = 0; i < n; i++)
    buf[i] = seed_next(f) & 0xff;
  int r = write(k->fd, buf, n);
  if (r == n) {
    for (int i = 0; i < n; i++)
      k->hash = (k->hash ^ (uchar)buf[i]) * FNV_PRIME;
    fed += n;
  } else if (r == -1 && k->killed) {
    close(k->fd);                       // its reader is gone
    k->fd = -1;
  } else {
    failed("feed: write to a sink", r, n);
  }
}

static void
drain(uint64 *x)
{
  struct kid *k = pick(x, 1 << SOURCE, 1);
  char in[1500];

  if (!k || k->eof)
    return;
  int r = read(k->fd, in, 1 + seed_next(x) % sizeof(in));
  if (r < 0) {
    failed("drain: read from a source", r, k->drained);
    return;
  }
  for (int i = 0; i < r; i++)
    if ((uchar)in[i] != (seed_next(&k->gen) & 0xff)) {
      failed("drain: a wrong byte at", k->drained + i, k->pid);
      break;
    }
  k->drained += r;
  drained += r;
  if (r == 0) {
    k->eof = 1;
    if (k->drained != k->len && !k->killed)
      failed("drain: end of file after too few bytes", k->drained, k->len);
  }
  if (k->drained > k->len)
    failed("drain: more bytes than the source wrote", k->drained, k->len);
}

static void
close_pipe(struct kid *k)
{
  if (k->fd < 0)
    return;
  close(k->fd);
  k->fd = -1;
  if (k->kind == SOURCE && !k->eof)
    k->early = 1;
}

// Account for one wait() result.
static void
reaped_one(int pid, int status)
{
  for (int i = 0; i < MAXKIDS; i++) {
    struct kid *k = &kids[i];
    if (k->pid != pid)
      continue;
    int want = k->kind == SINK ? (int)(k->hash % 90) : k->expect;
    int ok = status == want || (k->killed && status == -1) ||
             (k->kind == SOURCE && k->early && status == 99);
    if (!ok)
      failed(kinds[k->kind], status, want);
    close_pipe(k);
    k->pid = 0;
    reaped++;
    return;
  }
  orphans++;                            // a forker's child: root's now
  if (status < 0 || status >= 50)
    failed("an orphan's status", status, pid);
}

// Wait until k is reaped (after making sure it ends).
static void
reap(struct kid *k)
{
  int pid = k->pid, status, r;

  close_pipe(k);
  do {
    status = -12345;
    if ((r = wait(&status)) < 0) {
      failed("wait", r, pid);
      return;
    }
    reaped_one(r, status);
  } while (r != pid);
}

// Heap warm-up: 12 pipes at once (6 here, 6 in a child), more than the
// storm ever holds (a pipe per child, and one being made).
static void
warm(void)
{
  int p[2];

  for (int i = 0; i < 6; i++)
    pipe(p);
  int pid = fork();
  if (pid == 0) {
    close_others(-1);
    for (int i = 0; i < 6; i++)
      pipe(p);
    exit(0);
  }
  wait(0);
  close_others(-1);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed, f = seed ^ FEED_MIX;
  int nops = 600 + seed_next(&x) % 400, pid, status;
  struct sysinfo before, after;

  printf("storm: seed %d ops %d\n", (int)seed, nops);
  warm();
  sysinfo(&before);
  for (int op = 0; op < nops; op++) {
    int r = seed_next(&x) % 100;
    struct kid *k;
    if (r < 25) {
      spawn(&x);
    } else if (r < 40) {
      feed(&x, &f);
    } else if (r < 55) {
      drain(&x);
    } else if (r < 63) {
      if ((k = pick(&x, (1 << NKINDS) - 1, 1)))
        close_pipe(k);
    } else if (r < 75) {
      if ((k = pick(&x, (1 << NKINDS) - 1, 0))) {
        int r = kill(k->pid);
        kills++;
        if (r == 0) {
          k->killed = 1;
          livekills++;
        }
      }
    } else if (r < 92) {
      if ((k = pick(&x, (1 << NKINDS) - 1, 0)))
        reap(k);
    } else {
      yield();
    }
  }
  for (int i = 0; i < MAXKIDS; i++)
    close_pipe(&kids[i]);
  while ((pid = wait(&status)) > 0)
    reaped_one(pid, status);
  for (int i = 0; i < MAXKIDS; i++)
    if (kids[i].pid)
      failed("a child wait never returned", kids[i].pid, kids[i].kind);
  sysinfo(&after);
  printf("storm: %d forks, %d kills (%d of live children), %d reaped, %d orphans, "
         "%d bytes fed, %d bytes drained\n", forks, kills, livekills, reaped, orphans, fed,
         drained);
  printf("storm: nproc %d, free pages before %d after %d\n", (int)after.nproc,
         (int)before.freepages, (int)after.freepages);
  if (after.nproc != 1 || after.freepages != before.freepages)
    failed("a process or a page left over", (int)after.nproc,
           (int)(before.freepages - after.freepages));
  if (nfail) {
    printf("storm: FAILED: %d failures\n", nfail);
    exit(1);
  }
  printf("storm: ok\n");
  exit(0);
}
