// forktree SEED: build a tree of processes with fork, and reap it with wait.
//
// The seed chooses the tree's shape with the kernel's LCG (seed_next, as
// in kern/test/selftest.c, so that the grader can work it out too): a fanout F
// of 2 or 3 and a depth D of 2 or 3. The root is at depth 0; every node
// at a depth below D forks F children, each of which does the same one level
// down. So the tree holds 1 + F + ... + F^D processes.
//
// Output (every line starts "forktree: "):
//   forktree: seed S fanout F depth D                  the root, first
//   forktree: pid P parent Q depth D index I           each child, at its start
//   forktree: pid Q forked P                           a parent, after each fork
//   forktree: pid Q reaped P status S                  a parent, after each wait
//   forktree: pid Q wait -1                            a parent, once all are reaped
//   forktree: done, N processes                        the root, last
// and on an error "forktree: FAILED: ...".
//
// Child I (from 0) of a node, at depth D, exits with status
//   (SEED + 1000 * D + 37 * I) % 251
// and its parent checks the status it reaps against that formula, and that
// one more wait(0), with no children left, returns -1. The parent's pid that
// a child prints is the one the parent knew before fork, passed down, so a
// kernel that mixes up parents shows. The root exits 0 if all its own
// checks passed, else 1; a failure lower down prints its FAILED line.

#include "kernel/types.h"
#include "user/user.h"

#define MAXFAN 3

static uint64 seed;
static int fanout, depth;

// The exit status of child index at level d.
static int
child_status(int d, int index)
{
  return (seed + 1000 * (uint64)d + 37 * (uint64)index) % 251;
}

// Reap one child of the node at level d (pid me) whose children are
// pids[], and check its pid and status. Returns 1 if a check failed.
static int
reap_one(int d, int me, int *pids)
{
  int status = -12345;
  int pid = wait(&status);

  printf("forktree: pid %d reaped %d status %d\n", me, pid, status);
  for (int i = 0; i < fanout; i++) {
    if (pid > 0 && pids[i] == pid) {
      pids[i] = -1;             // reaped: a second wait must not return it
      if (status == child_status(d + 1, i))
        return 0;
      printf("forktree: FAILED: pid %d: child %d status %d, expected %d\n",
             me, pid, status, child_status(d + 1, i));
      return 1;
    }
  }
  printf("forktree: FAILED: pid %d: wait = %d, not a child left to reap\n", me, pid);
  return 1;
}

// Fork this node's children (it is at level d and its pid is me), reap
// them, and check what wait says. Returns the number of failed checks.
static int
node(int d, int me)
{
  int pids[MAXFAN], bad = 0;

  if (d >= depth)
    return 0;
  for (int i = 0; i < fanout; i++) {
    int pid = fork();
    if (pid < 0) {
      printf("forktree: FAILED: pid %d fork = %d\n", me, pid);
      bad++;
      pids[i] = -2;
      continue;
    }
    if (pid == 0) {
      int self = getpid();
      printf("forktree: pid %d parent %d depth %d index %d\n", self, me, d + 1, i);
      node(d + 1, self);
      exit(child_status(d + 1, i));
    }
    pids[i] = pid;
    printf("forktree: pid %d forked %d\n", me, pid);
  }
  for (int n = 0; n < fanout; n++)
    bad += reap_one(d, me, pids);
  int r = wait(0);
  printf("forktree: pid %d wait %d\n", me, r);
  if (r != -1) {
    printf("forktree: FAILED: pid %d: wait with no children = %d\n", me, r);
    bad++;
  }
  return bad;
}

int
main(int argc, char *argv[])
{
  uint64 x, n = 1, level = 1;

  if (argc != 2) {
    printf("forktree: usage: forktree SEED\n");
    exit(1);
  }
  seed = x = atoi(argv[1]);
  fanout = 2 + seed_next(&x) % 2;
  depth = 2 + seed_next(&x) % 2;
  printf("forktree: seed %ld fanout %d depth %d\n", seed, fanout, depth);
  int bad = node(0, getpid());
  for (int d = 1; d <= depth; d++)
    n += (level *= fanout);
  printf("forktree: done, %ld processes\n", n);
  exit(bad ? 1 : 0);
}
