// Formatted output for user programs: printf, fprintf, vprintf.
//
// printf(fmt, ...) writes to fd 1, fprintf(fd, fmt, ...) to fd, and
// vprintf(fd, fmt, ap) takes the arguments as a va_list. A conversion is
//
//   % [flags] [width] [length] conversion
//
//   flags       0 pads numbers with zeros on the left (after a '-' sign);
//               - pads with spaces on the right; else spaces on the left
//   width       a decimal minimum field width ('*' is not read)
//   length      l, ll or z: the argument is a long (all 64 bits); h and
//               hh are skipped (the argument arrives as an int anyway)
//   d, i        signed decimal             u   unsigned decimal
//   x           unsigned hexadecimal, lowercase
//   p           a pointer: 0x and 16 hex digits
//   s           a string; a null pointer prints as (null)
//   c           one character              %%  a '%'
//
// Anything else (a precision, %f, %X, ...) is printed as it stands, from
// its '%' on, so that a mistake shows in the output rather than hiding.
// GCC's format checking (user.h) catches most such mistakes at compile time.
//
// Output collects in a buffer on the stack, written with one write() when
// it fills and at the end: a printf of up to OUTBUF bytes is one write, so
// the lines of processes printing at the same time do not mix mid-line.

#include "user/types.h"
#include "user/user.h"

#undef printf           // user.h's dialect shim: here we define the function

#define OUTBUF 256

// An output buffer for one call, bound for fd.
struct out {
  int fd;
  int n;                // bytes in buf
  char buf[OUTBUF];
};

// One parsed conversion's flags, width and length.
struct spec {
  int zero;             // flag 0
  int left;             // flag -
  int width;
  int lng;              // l, ll or z: a 64-bit argument
};

// Write out what o holds.
static void
flush(struct out *o)
{
  if (o->n > 0)
    write(o->fd, o->buf, o->n);
  o->n = 0;
}

// Add c to o's buffer, writing the buffer first if it is full.
static void
outc(struct out *o, char c)
{
  if (o->n == OUTBUF)
    flush(o);
  o->buf[o->n++] = c;
}

// Add n copies of c.
static void
outpad(struct out *o, char c, int n)
{
  for (; n > 0; n--)
    outc(o, c);
}

// Add the len bytes at s, after prefix (a sign or "0x"), padded to sp's
// width as its flags say.
static void
outfield(struct out *o, const char *prefix, const char *s, int len, struct spec *sp)
{
  int pad = sp->width - len - (int)strlen(prefix);

  if (!sp->left && !sp->zero)
    outpad(o, ' ', pad);
  while (*prefix != '\0')
    outc(o, *prefix++);
  if (!sp->left && sp->zero)
    outpad(o, '0', pad);
  while (len-- > 0)
    outc(o, *s++);
  if (sp->left)
    outpad(o, ' ', pad);
}

// Add x in base 10 or 16, after prefix.
static void
outnum(struct out *o, uint64 x, int base, const char *prefix, struct spec *sp)
{
  char digits[20];      // 2^64-1 has 20 decimal digits
  int i = sizeof(digits);

  do {
    digits[--i] = "0123456789abcdef"[x % base];
    x /= base;
  } while (x != 0);
  outfield(o, prefix, digits + i, sizeof(digits) - i, sp);
}

// Add the signed number v.
static void
outsigned(struct out *o, long v, struct spec *sp)
{
  if (v < 0)
    outnum(o, -(uint64)v, 10, "-", sp);     // -(uint64): LONG_MIN has no positive long
  else
    outnum(o, v, 10, "", sp);
}

// Parse the flags, width and length that follow a '%' at fmt into *sp;
// return a pointer to the conversion character (perhaps the NUL).
static const char*
parsespec(const char *fmt, struct spec *sp)
{
  sp->zero = sp->left = sp->width = sp->lng = 0;
  for (;; fmt++) {
    if (*fmt == '0')
      sp->zero = 1;
    else if (*fmt == '-')
      sp->left = 1;
    else
      break;
  }
  while (*fmt >= '0' && *fmt <= '9')
    sp->width = sp->width * 10 + (*fmt++ - '0');
  for (;; fmt++) {
    if (*fmt == 'l' || *fmt == 'z')
      sp->lng = 1;
    else if (*fmt != 'h')
      break;
  }
  return fmt;
}

// Print fmt and the arguments in ap to fd.
void
vprintf(int fd, const char *fmt, va_list ap)
{
  struct out o;
  struct spec sp;
  const char *pct, *s;
  char c;

  o.fd = fd;
  o.n = 0;
  for (; *fmt != '\0'; fmt++) {
    if (*fmt != '%') {
      outc(&o, *fmt);
      continue;
    }
    pct = fmt;
    fmt = parsespec(fmt + 1, &sp);
    switch (*fmt) {
    case 'd':
    case 'i':
      outsigned(&o, sp.lng ? va_arg(ap, long) : va_arg(ap, int), &sp);
      break;
    case 'u':
      outnum(&o, sp.lng ? va_arg(ap, uint64) : va_arg(ap, uint), 10, "", &sp);
      break;
    case 'x':
      outnum(&o, sp.lng ? va_arg(ap, uint64) : va_arg(ap, uint), 16, "", &sp);
      break;
    case 'p':
      sp.zero = 1;
      sp.width = 2 + 16;
      outnum(&o, (uint64)va_arg(ap, void*), 16, "0x", &sp);
      break;
    case 's':
      if ((s = va_arg(ap, const char*)) == 0)
        s = "(null)";
      sp.zero = 0;
      outfield(&o, "", s, strlen(s), &sp);
      break;
    case 'c':
      c = va_arg(ap, int);
      sp.zero = 0;
      outfield(&o, "", &c, 1, &sp);
      break;
    case '%':
      outc(&o, '%');
      break;
    default:
      // Unknown, or fmt ended inside the conversion: print it as written.
      for (; pct < fmt; pct++)
        outc(&o, *pct);
      if (*fmt == '\0')
        goto done;
      outc(&o, *fmt);
      break;
    }
  }
done:
  flush(&o);
}

// Print to fd.
void
fprintf(int fd, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fd, fmt, ap);
  va_end(ap);
}

// Print to the standard output, fd 1.
void
printf(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(1, fmt, ap);
  va_end(ap);
}
