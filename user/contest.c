// contest EOFS RSIZE: console input, as read() on fd 0 returns it.
//
// Prints "contest: ready", then reads fd 0 RSIZE bytes at a time and
// reports each read as
//     contest: read N "TEXT"
// with TEXT's newline as \n and any other byte outside ' '..'~' as \xHH,
// until EOFS reads have returned 0 (end of file: ^D), each reported as
// "contest: eof"; then "contest: done". For lab 7's grader, which types
// at the console through QEMU's serial port. (contest flood: see flood().)

#include "kernel/types.h"
#include "user/user.h"

#define MAXREAD 128

// contest flood SEED N: N seeded lines of text in writes of several lines
// each, then "contest: flood N lines fnv 0xH uart intrs I": FNV-1a (32
// bits) of all it wrote, and the serial port's interrupts meanwhile.
static void
flood(uint64 seed, int n)
{
  static char out[2048];
  uint64 x = seed;
  uint hash = 0x811c9dc5u;
  int len = 0;
  struct sysinfo a, z;

  sysinfo(&a);
  for (int i = 0; i < n; i++) {
    int k = 10 + seed_next(&x) % 60;
    for (int j = 0; j < k; j++)
      out[len++] = 'a' + seed_next(&x) % 26;
    out[len++] = '\n';
    if (len > (int)sizeof(out) - 80 || i == n - 1) {
      for (int j = 0; j < len; j++)
        hash = (hash ^ (uchar)out[j]) * 0x01000193u;
      if (write(1, out, len) != len) {
        printf("contest: FAILED: write\n");
        exit(1);
      }
      len = 0;
    }
  }
  sysinfo(&z);
  printf("contest: flood %d lines fnv 0x%x uart intrs %lu\n", n, hash,
         z.uart_intrs - a.uart_intrs);
  exit(0);
}

int
main(int argc, char *argv[])
{
  if (argc == 4 && strcmp(argv[1], "flood") == 0)
    flood(atoi(argv[2]), atoi(argv[3]));
  int eofs = argc > 1 ? atoi(argv[1]) : 1;
  int rsize = argc > 2 ? atoi(argv[2]) : MAXREAD;
  char buf[MAXREAD], text[4 * MAXREAD + 1];

  if (rsize < 1 || rsize > MAXREAD) {
    printf("contest: RSIZE must be 1..%d\n", MAXREAD);
    exit(2);
  }
  printf("contest: ready\n");
  while (eofs > 0) {
    int n = read(0, buf, rsize);
    if (n < 0) {
      printf("contest: FAILED: read = %d\n", n);
      exit(1);
    }
    if (n == 0) {
      printf("contest: eof\n");
      eofs--;
      continue;
    }
    char *t = text;
    for (int i = 0; i < n; i++) {
      uchar c = buf[i];
      if (c == '\n') {
        *t++ = '\\';
        *t++ = 'n';
      } else if (c < ' ' || c > '~' || c == '"' || c == '\\') {
        *t++ = '\\';
        *t++ = 'x';
        *t++ = "0123456789abcdef"[c >> 4];
        *t++ = "0123456789abcdef"[c & 15];
      } else {
        *t++ = c;
      }
    }
    *t = 0;
    printf("contest: read %d \"%s\"\n", n, text);
  }
  printf("contest: done\n");
  exit(0);
}
