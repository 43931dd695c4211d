// The user library's small helpers: strings, memory, numbers, gets, stat.
//
// There is no C library, so every program links with these (user.h has
// their prototypes, with xv6's types: lengths are uint, memmove's int).
// The compiler may call memset, memcpy, memmove and memcmp by itself (to
// clear or copy a struct, say), so they must exist; the first three use
// the string instructions (rep stosb, rep movsb), which modern x86 CPUs
// run fast, and which also keep the optimizer from turning a plain byte
// loop inside memset into a call to memset itself.

#include "user/types.h"
#include "user/stat.h"
#include "user/fcntl.h"
#include "user/user.h"

// Copy the string s, with its NUL, to d; return d.
char*
strcpy(char *d, const char *s)
{
  char *r = d;

  while ((*d++ = *s++) != '\0')
    ;
  return r;
}

// Compare two strings as unsigned bytes: <0, 0 or >0 as p sorts before,
// with or after q.
int
strcmp(const char *p, const char *q)
{
  while (*p != '\0' && *p == *q)
    p++, q++;
  return (uchar)*p - (uchar)*q;
}

// strcmp of at most the first n bytes.
int
strncmp(const char *p, const char *q, uint n)
{
  for (; n > 0; n--, p++, q++)
    if (*p == '\0' || *p != *q)
      return (uchar)*p - (uchar)*q;
  return 0;
}

// The length of s, without its NUL.
uint
strlen(const char *s)
{
  uint n = 0;

  while (s[n] != '\0')
    n++;
  return n;
}

// The first c in s (c may be its NUL), or 0 if there is none.
char*
strchr(const char *s, char c)
{
  for (; *s != c; s++)
    if (*s == '\0')
      return 0;
  return (char*)s;
}

// Set n bytes at dst to c; return dst.
void*
memset(void *dst, int c, uint n)
{
  void *d = dst;
  uint64 cnt = n;

  // rep stosb: store %al at (%rdi)++, %rcx times.
  asm volatile("rep stosb" : "+D" (d), "+c" (cnt) : "a" (c) : "memory");
  return dst;
}

// Copy n bytes from src to dst, which must not overlap; return dst.
void*
memcpy(void *dst, const void *src, uint n)
{
  void *d = dst;
  const void *s = src;
  uint64 cnt = n;

  // rep movsb: copy a byte from (%rsi)++ to (%rdi)++, %rcx times.
  asm volatile("rep movsb" : "+D" (d), "+S" (s), "+c" (cnt) : : "memory");
  return dst;
}

// Copy n bytes from src to dst, which may overlap; return dst.
void*
memmove(void *dst, const void *src, int n)
{
  char *d = dst;
  const char *s = src;
  uint64 cnt = n;

  if (n <= 0)
    return dst;
  if (s >= d || s + n <= d)
    return memcpy(dst, src, n);     // forwards is safe: dst starts first or apart
  // dst overlaps the end of src: copy backwards, from the last byte down.
  // std makes rep movsb step down; the ABI wants the flag clear again.
  d += n - 1;
  s += n - 1;
  asm volatile("std; rep movsb; cld" : "+D" (d), "+S" (s), "+c" (cnt) : : "memory");
  return dst;
}

// Compare n bytes as unsigned: <0, 0 or >0, as memory at a sorts before,
// with or after b.
int
memcmp(const void *a, const void *b, uint n)
{
  const uchar *p = a, *q = b;

  for (; n > 0; n--, p++, q++)
    if (*p != *q)
      return *p - *q;
  return 0;
}

// The decimal number at the start of s, after any spaces and one optional
// sign ('-' is an extension: xv6 reads digits only); 0 if there is none.
int
atoi(const char *s)
{
  int n = 0, neg = 0;

  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '-' || *s == '+')
    neg = (*s++ == '-');
  while (*s >= '0' && *s <= '9')
    n = n * 10 + (*s++ - '0');
  return neg ? -n : n;
}

// Read one line from fd 0 into buf, with its newline if it fits, at most
// max-1 bytes and a NUL; an empty string means end of input (or an error:
// read() fails until lab 7). Return buf.
char*
gets(char *buf, int max)
{
  int i = 0;
  char c;

  if (max <= 0)
    return buf;
  while (i + 1 < max && read(0, &c, 1) == 1) {
    buf[i++] = c;
    if (c == '\n' || c == '\r')
      break;
  }
  buf[i] = '\0';
  return buf;
}

// Fill *st for the file called path: 0, or -1 if it cannot be opened
// (always, until lab 8 brings files).
int
stat(const char *path, struct stat *st)
{
  int fd, r;

  if ((fd = open(path, O_RDONLY)) < 0)
    return -1;
  r = fstat(fd, st);
  close(fd);
  return r;
}

// The kernel's LCG (kern/test/selftest.c's seed_next): advance *x, return the
// next draw. The graders mirror it, so a program's seeded choices are
// known to them.
uint64
seed_next(uint64 *x)
{
  *x = *x * 6364136223846793005ull + 1442695040888963407ull;
  return *x >> 33;
}

// The time-stamp counter, read after every earlier instruction is done
// (lfence), for timing.
uint64
rdtsc(void)
{
  uint32 lo, hi;

  asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  return (uint64)hi << 32 | lo;
}
