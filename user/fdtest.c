// fdtest SEED ADDR...: file descriptors: dup, close, bad descriptors and
// pointers, fork and exec, and the per-process limit.
//
// ADDR... are bad user pointers the grader picks from the seed (hex:
// kernel addresses, unmapped user addresses); draws below are the
// kernel's LCG (seed_next as in kern/test/selftest.c) from x = SEED, in
// the order of the parts:
//
// 1. dup: 5 pipes take fds 3..12; each of those fds is closed if its draw
//    (r1..r10, in fd order) is odd (if none is, fd 3 + r11 % 10 is); then
//    dup(0) is called once per closed fd and once more: it must return the
//    closed fds from the lowest up, then 13.
// 2. share: a pipe (fds 3, 4); d = dup(4) (5). Seeded words go in through
//    4, then d, then (4 closed) d again; d closed; the read end must give
//    all three in order, then end of file.
// 3. badfd: close, read, write and dup of -1, NOFILE, 1000 and a closed
//    fd; read of a write end, write of a read end: each returns -1.
// 4. badptr: with 10 digits waiting in a pipe, read into and write from
//    each ADDR, and read into main (read-only code): each returns -1; then
//    the pipe must hold exactly the 10 digits (nothing taken, nothing
//    added).
// 5. fork: a child writes a seeded word into the pipe it inherited; the
//    parent reads it.
// 6. exec: a child closes fd 1, dup()s a pipe's write end (it must get 1),
//    closes the pipe's fds and execs echo with 1 + r % 4 seeded words; the
//    parent reads what echo printed until end of file.
// 7. limit: in each of 150 rounds, pipes until pipe() fails, then dup(0)
//    until it fails, then pipe() and dup() once more (both -1), then every
//    fd from 3 closed: each round the same fds, NOFILE in all. One round
//    first warms the kernel's heap; free pages must be the same after the
//    rounds as before them. (Leaking a file per round would run the
//    system's table, NFILE, out before the end.)
//
// Output ("fdtest: " and):
//   seed S NOFILE N
//   dup: closed F F ...          dup: dup(0) = F ...
//   share: dup(4) = D, read 'WORDS', then R                (R: end of file, 0)
//   badfd: CALL(FD) = R ...  (18 calls)
//   N bad calls did not return -1
//   badptr: read(3, 0xADDR, 8) = R ...   badptr: write(4, 0xADDR, 8) = R ...
//   badptr: then the pipe holds 'DIGITS'
//   fork: child wrote 'WORD', parent read 'WORD'
//   exec: dup = 1 in the child, echo wrote 'WORDS\n', status S
//   limit: P pipes, then pipe = -1, dup = F, ..., then dup = -1; once more: dup = -1,
//          pipe = -1 (N open)
//   limit: R rounds, W unlike the first, free pages before B after A
//   done                                                   (exit 0)
// "fdtest: FAILED: ..." where a call that must work fails (exit 1).

#include "kernel/types.h"
#include "user/user.h"
#include "user/param.h"

int main(int argc, char *argv[]);

#define NADDR   8
#define ROUNDS  150
#define MAXLINE 200

static char buf[512];
static int nbad;                        // -1 expected, something else came back

static void
fail(const char *what, int r)
{
  printf("fdtest: FAILED: %s (%d)\n", what, r);
  exit(1);
}

// A hex number (with or without 0x).
static uint64
hex(const char *s)
{
  uint64 v = 0;

  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    s += 2;
  for (; *s; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
            *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
    if (d < 0)
      break;
    v = v * 16 + d;
  }
  return v;
}

// Read fd until end of file into b (at most max - 1 bytes, NUL-terminated).
static int
slurp(int fd, char *b, int max)
{
  int total = 0, n;

  while (total < max - 1 && (n = read(fd, b + total, max - 1 - total)) > 0)
    total += n;
  b[total] = '\0';
  return total;
}

// A seeded lowercase word of 3..8 letters, in w.
static void
word(uint64 *x, char *w)
{
  int n = 3 + seed_next(x) % 6;

  for (int i = 0; i < n; i++)
    w[i] = 'a' + seed_next(x) % 26;
  w[n] = '\0';
}

static void
closeall(void)
{
  for (int fd = 3; fd < NOFILE; fd++)
    close(fd);
}

static void
dup_lowest(uint64 *x)
{
  int p[2], closed[10], nclosed = 0;

  for (int i = 0; i < 5; i++)
    if (pipe(p) < 0 || p[0] != 3 + 2 * i || p[1] != 4 + 2 * i)
      fail("dup: pipe did not take the lowest fds", p[0]);
  for (int fd = 3; fd <= 12; fd++)
    if (seed_next(x) % 2)
      closed[nclosed++] = fd;
  if (nclosed == 0)
    closed[nclosed++] = 3 + seed_next(x) % 10;
  printf("fdtest: dup: closed");
  for (int i = 0; i < nclosed; i++) {
    printf(" %d", closed[i]);
    if (close(closed[i]) != 0)
      fail("dup: close", closed[i]);
  }
  printf("\n");
  for (int i = 0; i <= nclosed; i++)
    printf("fdtest: dup: dup(0) = %d\n", dup(0));
  closeall();
}

static void
share(uint64 *x)
{
  int p[2];
  char w[3][16], got[64];

  for (int i = 0; i < 3; i++)
    word(x, w[i]);
  if (pipe(p) < 0)
    fail("share: pipe", -1);
  int d = dup(p[1]);
  if (write(p[1], w[0], strlen(w[0])) != strlen(w[0]) ||
      write(d, w[1], strlen(w[1])) != strlen(w[1]))
    fail("share: write", -1);
  close(p[1]);
  if (write(d, w[2], strlen(w[2])) != strlen(w[2]))
    fail("share: write through the dup after the original was closed", -1);
  close(d);
  slurp(p[0], got, sizeof(got));
  int after = read(p[0], buf, 10);
  printf("fdtest: share: dup(%d) = %d, read '%s', then %d\n", p[1], d, got, after);
  closeall();
}

// One call that must return -1: name(fd) = r.
static void
bad(const char *name, int fd, int r)
{
  printf("fdtest: badfd: %s(%d) = %d\n", name, fd, r);
  if (r != -1)
    nbad++;
}

static void
badfd(void)
{
  int p[2];

  if (pipe(p) < 0)
    fail("badfd: pipe", -1);
  int closed = dup(0);
  if (closed < 0 || close(closed) != 0)
    fail("badfd: dup", closed);
  int fds[] = { -1, NOFILE, 1000, closed };
  for (int i = 0; i < 4; i++) {
    int fd = fds[i];
    bad("close", fd, close(fd));
    bad("read", fd, read(fd, buf, 8));
    bad("write", fd, write(fd, "abcdefgh", 8));
    bad("dup", fd, dup(fd));
  }
  bad("read of the write end", p[1], read(p[1], buf, 8));
  bad("write of the read end", p[0], write(p[0], "abcdefgh", 8));
  closeall();
}

static void
badptr(uint64 *addrs, int naddrs, uint64 *x)
{
  int p[2];
  char digits[11], got[64];

  for (int i = 0; i < 10; i++)
    digits[i] = '0' + seed_next(x) % 10;
  digits[10] = '\0';
  if (pipe(p) < 0 || write(p[1], digits, 10) != 10)
    fail("badptr: pipe", -1);
  for (int i = 0; i <= naddrs; i++) {
    uint64 a = i < naddrs ? addrs[i] : (uint64)main;
    int r = read(p[0], (void *)a, 8);
    printf("fdtest: badptr: read(%d, %p, 8) = %d\n", p[0], (void *)a, r);
    nbad += r != -1;
    if (i == naddrs)
      break;                            // main's code may be read, not written
    r = write(p[1], (void *)a, 8);
    printf("fdtest: badptr: write(%d, %p, 8) = %d\n", p[1], (void *)a, r);
    nbad += r != -1;
  }
  close(p[1]);
  slurp(p[0], got, sizeof(got));
  printf("fdtest: badptr: then the pipe holds '%s'\n", got);
  closeall();
}

static void
inherit(uint64 *x)
{
  int p[2];
  char w[16], got[64];

  word(x, w);
  if (pipe(p) < 0)
    fail("fork: pipe", -1);
  int pid = fork();
  if (pid < 0)
    fail("fork", pid);
  if (pid == 0) {
    close(p[0]);
    exit(write(p[1], w, strlen(w)) == strlen(w) ? 0 : 1);
  }
  close(p[1]);
  slurp(p[0], got, sizeof(got));
  int status = -12345;
  if (wait(&status) != pid || status != 0)
    fail("fork: the child's status", status);
  printf("fdtest: fork: child wrote '%s', parent read '%s'\n", w, got);
  closeall();
}

static void
exec_echo(uint64 *x)
{
  int p[2], n = 1 + seed_next(x) % 4;
  char w[4][16], got[MAXLINE], shown[2 * MAXLINE];
  char *argv[6] = { "echo" };

  for (int i = 0; i < n; i++) {
    word(x, w[i]);
    argv[1 + i] = w[i];
  }
  argv[1 + n] = 0;
  if (pipe(p) < 0)
    fail("exec: pipe", -1);
  int pid = fork();
  if (pid < 0)
    fail("exec: fork", pid);
  if (pid == 0) {
    close(1);
    int fd = dup(p[1]);
    close(p[0]);
    close(p[1]);
    if (fd != 1) {
      fprintf(2, "fdtest: FAILED: exec: dup = %d in the child, not 1\n", fd);
      exit(3);
    }
    exec("echo", argv);
    fprintf(2, "fdtest: FAILED: exec: exec echo failed\n");
    exit(4);
  }
  close(p[1]);
  int len = slurp(p[0], got, sizeof(got)), status = -12345;
  if (wait(&status) != pid)
    fail("exec: wait", -1);
  char *s = shown;                      // the newline shown as \n
  for (int i = 0; i < len; i++) {
    if (got[i] == '\n') {
      *s++ = '\\';
      *s++ = 'n';
    } else {
      *s++ = got[i];
    }
  }
  *s = '\0';
  printf("fdtest: exec: dup = %d in the child, echo wrote '%s', status %d\n",
         status == 3 ? -1 : 1, shown, status);
  closeall();
}

// One round of part 7: what happened, in r (which show prints).
struct round {
  int npipes;                   // pipes made before pipe() failed
  int ndups, dups[NOFILE];      // the fds dup(0) gave before it failed
  int lastdup, lastpipe;        // dup and pipe once more: -1 and -1
  int open;                     // fds open then
};

static void
round(struct round *r)
{
  int p[2], fd;

  memset(r, 0, sizeof(*r));
  while (pipe(p) == 0)
    r->npipes++;
  while ((fd = dup(0)) >= 0 && r->ndups < NOFILE)
    r->dups[r->ndups++] = fd;
  r->lastdup = dup(0);
  r->lastpipe = pipe(p);
  r->open = 3 + 2 * r->npipes + r->ndups;
  closeall();
}

static void
show(struct round *r)
{
  printf("fdtest: limit: %d pipes, then pipe = -1", r->npipes);
  for (int i = 0; i < r->ndups; i++)
    printf(", dup = %d", r->dups[i]);
  printf(", then dup = -1; once more: dup = %d, pipe = %d (%d open)\n", r->lastdup, r->lastpipe,
         r->open);
}

static void
limit(void)
{
  struct round first, r;
  struct sysinfo before, after;
  int unlike = 0;

  round(&first);                        // the heap grows to what a round needs
  show(&first);
  sysinfo(&before);
  for (int i = 0; i < ROUNDS; i++) {
    round(&r);
    if (memcmp(&r, &first, sizeof(r)) != 0) {
      if (unlike++ < 3) {
        printf("fdtest: limit: round %d:\n", i);
        show(&r);
      }
    }
  }
  sysinfo(&after);
  printf("fdtest: limit: %d rounds, %d unlike the first, free pages before %d after %d\n",
         ROUNDS, unlike, (int)before.freepages, (int)after.freepages);
}

int
main(int argc, char *argv[])
{
  uint64 seed = argc > 1 ? atoi(argv[1]) : 1, x = seed, addrs[NADDR];
  int naddrs = 0;

  for (int i = 2; i < argc && naddrs < NADDR; i++)
    addrs[naddrs++] = hex(argv[i]);
  printf("fdtest: seed %d NOFILE %d\n", (int)seed, NOFILE);
  dup_lowest(&x);
  share(&x);
  badfd();
  badptr(addrs, naddrs, &x);
  inherit(&x);
  exec_echo(&x);
  limit();
  printf("fdtest: %d bad calls did not return -1\n", nbad);
  printf("fdtest: done\n");
  exit(0);
}
