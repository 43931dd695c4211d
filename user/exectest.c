// exectest SEED: exec's failures, then an exec that works.
//
// exec must return -1, leaving the process as it was, for a program that
// does not exist, for more than MAXARG arguments and for an argument of
// MAXARGLEN bytes or more (MAXARGLEN counts the NUL). Then the seed picks
// K = 1 + SEED % 6 words, each "w" and a number, word j's number being the
// kernel's LCG draw j (seed_next, as in kern/test/selftest.c, from x = SEED) mod
// 100000; the program execs echo with them, which prints them on one line,
// separated by spaces.
//
// Output:
//   exectest: pid P
//   exectest: exec nosuchprogram = R                  R must be -1
//   exectest: exec echo with 33 args = R              MAXARG + 1 arguments; -1
//   exectest: exec echo with a 256-byte argument = R  MAXARGLEN bytes and a NUL; -1
//   exectest: exec echo with K args
//   w123 w45678 ...                                   echo's line (K words)
// A failed check prints "exectest: FAILED: ..." and exits 1 without the last
// exec; if that exec returns, "exectest: exec echo returned R" and exit 1.

#include "kernel/types.h"
#include "kernel/param.h"
#include "user/user.h"

#define MAXWORDS 6
#define WORDMOD  100000

// Write "w" and n in decimal into buf (room for 8 bytes).
static void
make_word(char *buf, uint n)
{
  char digits[8];
  int i = 0;

  do {
    digits[i++] = '0' + n % 10;
    n /= 10;
  } while (n > 0);
  *buf++ = 'w';
  while (i > 0)
    *buf++ = digits[--i];
  *buf = 0;
}

// exec must have failed: r is what it returned, and WHAT says which
// exec it was in "exectest: FAILED: WHAT". Returns 1 if r is not -1.
static int
failed(char *what, int r)
{
  if (r == -1)
    return 0;
  printf("exectest: FAILED: %s returned %d, not -1\n", what, r);
  return 1;
}

int
main(int argc, char *argv[])
{
  static char *args[MAXARG + 2];
  static char words[MAXWORDS][8];
  static char longarg[MAXARGLEN + 1];
  int r, bad = 0;

  if (argc != 2) {
    printf("exectest: usage: exectest SEED\n");
    exit(1);
  }
  uint64 seed = atoi(argv[1]), x = seed;
  printf("exectest: pid %d\n", getpid());

  args[0] = "nosuchprogram";
  args[1] = 0;
  r = exec("nosuchprogram", args);
  printf("exectest: exec nosuchprogram = %d\n", r);
  bad += failed("exec nosuchprogram", r);

  args[0] = "echo";                     // echo and MAXARG more: one too many
  for (int i = 1; i <= MAXARG; i++)
    args[i] = "x";
  args[MAXARG + 1] = 0;
  r = exec("echo", args);
  printf("exectest: exec echo with %d args = %d\n", MAXARG + 1, r);
  bad += failed("exec with too many args", r);

  memset(longarg, 'y', MAXARGLEN);      // MAXARGLEN letters, then the NUL
  args[1] = longarg;
  args[2] = 0;
  r = exec("echo", args);
  printf("exectest: exec echo with a %d-byte argument = %d\n", MAXARGLEN, r);
  bad += failed("exec with a long arg", r);

  if (bad) {
    printf("exectest: FAILED: %d checks\n", bad);
    exit(1);
  }
  int k = 1 + seed % MAXWORDS;
  for (int i = 0; i < k; i++) {
    make_word(words[i], seed_next(&x) % WORDMOD);
    args[1 + i] = words[i];
  }
  args[1 + k] = 0;
  printf("exectest: exec echo with %d args\n", k);
  r = exec("echo", args);
  printf("exectest: exec echo returned %d\n", r);
  exit(1);
}
