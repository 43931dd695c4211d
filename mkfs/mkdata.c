// mkdata: build lab 7's data disk, seeded bytes that tests can check.
//
//   mkdata SEED SECTORS OUTPUT
//
// Every SECTOR_SIZE-byte sector s of the image holds 64-bit words,
// little-endian: s itself, then SEED, then draws of an LCG started from
// SEED and s. So each sector says which it is (a read of the wrong one
// shows), and no two images of different seeds agree. Tests make an
// image with a seed of their own and compare what the kernel read with
// the image's bytes, and what the kernel wrote with them afterwards.
//
// The output is written to a temporary file and renamed into place, so a
// failed run never leaves a half-written image. Errors are one line on
// stderr and exit status 1 (2 for bad usage).

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kern/memlayout.h"

#define MAX_SECTORS (1L << 28)          // what an LBA28 command reaches

static char tmp_path[4096];

static void
die(const char *what, const char *path)
{
  fprintf(stderr, "mkdata: %s %s%s%s\n", what, path, errno ? ": " : "", errno ? strerror(errno) : "");
  if (tmp_path[0])
    unlink(tmp_path);
  exit(1);
}

// A whole decimal number in 1 .. max, or -1.
static long
number(const char *s, long max)
{
  char *end;

  errno = 0;
  long n = strtol(s, &end, 10);
  if (errno || end == s || *end || n < 1 || n > max)
    return -1;
  return n;
}

int
main(int argc, char *argv[])
{
  long seed, sectors;
  uint64_t words[SECTOR_SIZE / 8];

  if (argc != 4) {
    fprintf(stderr, "usage: mkdata SEED SECTORS OUTPUT\n");
    return 2;
  }
  if ((seed = number(argv[1], 1L << 62)) < 0) {
    fprintf(stderr, "mkdata: SEED must be a number from 1 to 2^62, not '%s'\n", argv[1]);
    return 2;
  }
  if ((sectors = number(argv[2], MAX_SECTORS)) < 0) {
    fprintf(stderr, "mkdata: SECTORS must be a number from 1 to 2^28, not '%s'\n", argv[2]);
    return 2;
  }
  if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", argv[3]) >= (int)sizeof(tmp_path)) {
    tmp_path[0] = '\0';
    errno = 0;
    die("output path too long:", argv[3]);
  }
  FILE *out = fopen(tmp_path, "wb");
  if (out == NULL) {
    tmp_path[0] = '\0';
    die("cannot create", argv[3]);
  }
  for (long s = 0; s < sectors; s++) {
    uint64_t x = (uint64_t)seed * 0x9e3779b97f4a7c15ull + (uint64_t)s;
    words[0] = s;
    words[1] = seed;
    for (size_t i = 2; i < sizeof(words) / 8; i++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      words[i] = x;
    }
    if (fwrite(words, sizeof(words), 1, out) != 1)
      die("cannot write", tmp_path);
  }
  if (fclose(out) != 0)
    die("cannot write", tmp_path);
  if (rename(tmp_path, argv[3]) != 0)
    die("cannot rename the image to", argv[3]);
  return 0;
}
