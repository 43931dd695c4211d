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
// stacks, exist already: this process's own stack needed them.)
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
