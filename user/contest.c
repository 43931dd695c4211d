// contest EOFS RSIZE: console input, as read() on fd 0 returns it.
//
// Prints "contest: ready", then reads fd 0 RSIZE bytes at a time and
// reports each read as
//     contest: read N "TEXT"
// with TEXT's newline as \n and any other byte outside ' '..'~' as \xHH,
// until EOFS reads have returned 0 (end of file: ^D), each reported as
// "contest: eof"; then "contest: done". For lab 7's grader, which types
// at the console through QEMU's serial port.

#include "kernel/types.h"
#include "user/user.h"

#define MAXREAD 128

int
main(int argc, char *argv[])
{
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
