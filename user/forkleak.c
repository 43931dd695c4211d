// forkleak SEED: fork, work, exit and wait hundreds of times; nothing may leak.
//
// N = 200 + SEED % 200 children, one at a time. Before fork i (from 0) the
// parent draws r_i with the kernel's LCG (seed_next as in kern/test/selftest.c,
// x = SEED), and child i grows its heap by 1 + r_i % 4 pages, writes each
// page, and exits with status i % 7; every seventh child (i % 7 == 0)
// instead execs nop, which exits 0, the same status. The parent checks
// that wait returns each child's pid and status. At the end every page and
// process slot must be back: sysinfo's nproc and free pages exactly as
// before. (The kernel's own tables, such as the one that maps kernel
// stacks, exist already: this process's own stack needed them.) Last, a
// fork that runs out of memory halfway must leave no page behind either
// (failed_fork).
//
// Output:
//   forkleak: N forks, free pages before B after A
//   forkleak: nproc before X after Y
//   forkleak: ok                                       (exit 0)
// or, instead of ok, "forkleak: FAILED: ..." lines (the first few wrong
// children, the leak) and exit 1.

#include "kernel/types.h"
#include "user/user.h"

#define PGSIZE    4096
#define MAXSHOWN  5     // wrong children reported one by one
#define CHUNK_PAGES 64  // failed_fork grows the heap this much at a time

// Child i: a little work in its own memory, then exit with status i % 7.
static void
child(int i, int pages)
{
  if (i % 7 == 0) {
    char *argv[] = { "nop", 0 };
    exec("nop", argv);
    printf("forkleak: FAILED: child %d: exec nop failed\n", i);
    exit(100);
  }
  char *p = sbrk(pages * PGSIZE);
  if (p == (char *)-1)
    exit(101);
  for (int j = 0; j < pages; j++)
    p[j * PGSIZE] = i;
  exit(i % 7);
}

// Fork child i, wait for it, and check the pid and status. Returns 1 if
// wrong, and then says so if show.
static int
fork_one(int i, int pages, int show)
{
  int status = -12345;
  int pid = fork();

  if (pid == 0)
    child(i, pages);
  int r = wait(&status);
  if (pid > 0 && r == pid && status == i % 7)
    return 0;
  if (show)
      printf("forkleak: FAILED: child %d: fork = %d, wait = %d, status %d, expected %d\n",
           i, pid, r, status, i % 7);
  return 1;
}

// A fork that runs out of memory halfway through copying this process
// must give back every page it took. Grow the heap until sbrk fails
// (nearly no memory is left), give back a seeded 25..40% of it, so that
// this process is bigger than what is free, and fork: it must return -1
// and leave the free count as it found it. Runs in a child of its own, so
// that the page tables its heap needed go with it; its exit status says
// whether it was right (0) or not.
static void
failed_fork(uint64 *x)
{
  struct sysinfo a, b;
  int chunk = CHUNK_PAGES * PGSIZE, grown = 0;

  while (sbrk(chunk) != (char *)-1)
    grown += chunk;
  int back = grown / 100 * (25 + seed_next(x) % 16) / PGSIZE * PGSIZE;
  sbrk(-back);
  sysinfo(&a);
  int pid = fork();
  if (pid == 0)
    exit(0);
  if (pid > 0)
    wait(0);
  sysinfo(&b);
  printf("forkleak: a fork out of memory: fork = %s, free pages before %ld after %ld\n",
         pid < 0 ? "-1" : "a child", a.freepages, b.freepages);
  if (pid >= 0 || a.freepages != b.freepages) {
    printf("forkleak: FAILED: a fork that ran out of memory %s\n",
           pid >= 0 ? "did not fail" : "leaked pages");
    exit(1);
  }
  exit(0);
}

int
main(int argc, char *argv[])
{
  struct sysinfo before, after;
  int wrong = 0;

  if (argc != 2) {
    printf("forkleak: usage: forkleak SEED\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]), x = seed;
  int n = 200 + seed % 200;
  sysinfo(&before);
  for (int i = 0; i < n; i++) {
    int pages = 1 + seed_next(&x) % 4;
    wrong += fork_one(i, pages, wrong < MAXSHOWN);
  }
  int status = 1;
  if (fork() == 0)
    failed_fork(&x);
  wait(&status);
  wrong += status != 0;
  sysinfo(&after);
  printf("forkleak: %d forks, free pages before %ld after %ld\n",
         n, before.freepages, after.freepages);
  printf("forkleak: nproc before %ld after %ld\n", before.nproc, after.nproc);
  int bad = wrong > 0;
  if (wrong)
    printf("forkleak: FAILED: %d children wrong\n", wrong);
  if (after.freepages != before.freepages) {
    printf("forkleak: FAILED: %ld pages leaked\n", before.freepages - after.freepages);
    bad = 1;
  }
  if (after.nproc != before.nproc) {
    printf("forkleak: FAILED: nproc %ld, was %ld\n", after.nproc, before.nproc);
    bad = 1;
  }
  if (bad)
    exit(1);
  printf("forkleak: ok\n");
  exit(0);
}
