// The few C library string and memory functions the kernel uses.
//
// The kernel links no C library, and the compiler may emit calls to
// memset, memcpy and memmove on its own (for struct copies), so they live
// here. Written for clarity, but for the two that move pages (below).

#include "types.h"
#include "defs.h"

// memset and memmove move eight bytes at a time with rep stosq and rep
// movsq when the addresses and the length allow it (most calls: whole
// pages), else one at a time: make bench showed fork spending most of
// its time here, a byte at a time.
#define ALIGNED8(a, b, n) ((((uint64)(a) | (uint64)(b) | (n)) & 7) == 0)

void *
memset(void *dst, int c, size_t n)
{
  void *d = dst;

  if (ALIGNED8(dst, 0, n)) {
    uint64 q = (uint8)c * 0x0101010101010101ull, count = n / 8;
    asm volatile("rep stosq" : "+D"(d), "+c"(count) : "a"(q) : "memory");
  } else {
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  }
  return dst;
}

// Copy n bytes; the regions may overlap.
void *
memmove(void *dst, const void *src, size_t n)
{
  uint8 *d = dst;
  const uint8 *s = src;

  if (s < d && s + n > d) {
    // Overlap with the source first: copy backwards.
    while (n-- > 0)
      d[n] = s[n];
  } else if (ALIGNED8(d, s, n)) {
    size_t count = n / 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(count) : : "memory");
  } else {
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  }
  return dst;
}

void *
memcpy(void *dst, const void *src, size_t n)
{
  return memmove(dst, src, n);
}

int
memcmp(const void *a, const void *b, size_t n)
{
  const uint8 *x = a, *y = b;

  for (; n > 0; n--, x++, y++)
    if (*x != *y)
      return *x - *y;
  return 0;
}

size_t
strlen(const char *s)
{
  size_t n = 0;

  while (s[n])
    n++;
  return n;
}

int
strncmp(const char *a, const char *b, size_t n)
{
  for (; n > 0 && *a && *a == *b; n--, a++, b++)
    ;
  if (n == 0)
    return 0;
  return (uint8)*a - (uint8)*b;
}

int
strcmp(const char *a, const char *b)
{
  return strncmp(a, b, (size_t)-1);
}
#if LAB >= 4

// The first c in s, or NULL.
char *
strchr(const char *s, int c)
{
  for (; *s; s++)
    if (*s == (char)c)
      return (char *)s;
  return NULL;
}

// Copy the string src into dst of size bytes, cutting it short if need
// be: dst always ends with a NUL (unlike strncpy's).
char *
safestrcpy(char *dst, const char *src, size_t size)
{
  size_t n = 0;

  if (size == 0)
    return dst;
  for (; n < size - 1 && src[n]; n++)
    dst[n] = src[n];
  dst[n] = '\0';
  return dst;
}
#endif
