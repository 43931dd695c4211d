// Formatted output to the console, and panic.
//
// printf understands what the kernel needs and no more:
//   %d %i  signed decimal        %u  unsigned decimal
//   %x     unsigned hexadecimal  %p  pointer, as 0x and 16 hex digits
//   %s     string ("(null)" for NULL)  %c  character  %%  a percent sign
// with an optional '0' flag and field width (%08x, %5d), and the size
// prefixes l and ll (both 64 bits on x86-64; without one, %d %u %x take a
// 32-bit int). Anything else is printed as it was written, so a mistake in
// a format string shows on the console instead of being swallowed.
//
// Every character goes to the serial console (uart.c). panic prints its
// message and a backtrace of the stack (backtrace.c), then stops the CPU.
//
// Lab 1 exercise: print_number.

#include "types.h"
#include "param.h"
#include "x86.h"
#include "defs.h"

static const char hex_digits[] = "0123456789abcdef";

static void
putc(int c)
{
#if LAB >= 5
  console_putc(c);      // a whole line at a time (several CPUs print)
#else
  uart_putc(c);
#endif
}

static void
putc_repeat(int c, int count)
{
  for (; count > 0; count--)
    putc(c);
}

// Print the 64-bit value bits in base (10 or 16), right-aligned in a field
// of at least width characters filled on the left with pad (' ' or '0').
// If is_signed, bits holds a two's complement int64 and a negative value
// prints with a minus sign: before the zeros with '0' padding (-007),
// after the spaces with ' ' padding (  -7).
static void
print_number(uint64 bits, int is_signed, int base, int width, char pad)
{
#if SOL >= 1
  char digits[20];    // 2^64 - 1 has 20 decimal digits
  int ndigits = 0;
  int negative = is_signed && (int64)bits < 0;
  uint64 magnitude = negative ? 0 - bits : bits;  // also right for INT64_MIN

  do {
    digits[ndigits++] = hex_digits[magnitude % base];
    magnitude /= base;
  } while (magnitude != 0);

  width -= ndigits + negative;
  if (pad == ' ')
    putc_repeat(' ', width);
  if (negative)
    putc('-');
  if (pad == '0')
    putc_repeat('0', width);
  while (ndigits > 0)
    putc(digits[--ndigits]);
#else
  // LAB 1: print bits in the given base, as the comment above says.
  // Collect the digits least significant first (bits % base, then divide),
  // then print padding, sign and digits in the right order. Mind the value
  // 0 (one digit) and the most negative int64, whose negation overflows.
  // hex_digits and putc_repeat are there to help.
  (void)hex_digits;
  (void)putc_repeat;
  putc('?');
#endif
}

// Print a string, padded on the left to width.
static void
print_string(const char *s, int width)
{
  if (s == NULL)
    s = "(null)";
  putc_repeat(' ', width - (int)strlen(s));
  for (; *s; s++)
    putc(*s);
}

void
vprintf(const char *fmt, va_list ap)
{
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      putc(*fmt);
      continue;
    }
    const char *spec = fmt++;   // remember where the conversion started
    char pad = ' ';
    int width = 0, longs = 0;

    if (*fmt == '0') {
      pad = '0';
      fmt++;
    }
    for (; *fmt >= '0' && *fmt <= '9'; fmt++)
      width = width * 10 + (*fmt - '0');
    for (; *fmt == 'l'; fmt++)
      longs++;

    switch (*fmt) {
    case 'd':
    case 'i':
      print_number(longs ? va_arg(ap, int64) : (int64)va_arg(ap, int32), 1, 10, width, pad);
      break;
    case 'u':
      print_number(longs ? va_arg(ap, uint64) : va_arg(ap, uint32), 0, 10, width, pad);
      break;
    case 'x':
      print_number(longs ? va_arg(ap, uint64) : va_arg(ap, uint32), 0, 16, width, pad);
      break;
    case 'p':
      putc('0');
      putc('x');
      print_number((uint64)va_arg(ap, void *), 0, 16, 16, '0');
      break;
    case 's':
      print_string(va_arg(ap, const char *), width);
      break;
    case 'c':
      putc(va_arg(ap, int));
      break;
    case '%':
      putc('%');
      break;
    default:
      // Unknown conversion (or the string ended): show it as written.
      for (; spec <= fmt && *spec; spec++)
        putc(*spec);
      if (*fmt == '\0')
        return;
      break;
    }
  }
}

void
printf(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

// Stop this CPU for good: interrupts off, then halt (an NMI could wake
// it, hence the loop).
void
halt_forever(void)
{
  cli();
  for (;;)
    hlt();
}

// How many panics have begun: 1 in an ordinary panic, more when something
// went wrong while panicking (a fault in the backtrace once traps exist, or
// a panic called by something panic itself calls).
int panicking;

// The last line of every panic, written straight to the UART so that it
// comes out even when printf is what broke. In a self-test (test=NAME)
// the machine then powers off, with status 1: many self-tests end in a
// panic on purpose, and their reader need not wait to know it came.
static void __attribute__((noreturn))
panic_halted(void)
{
  for (const char *s = "panic: halted\n"; *s; s++)
    uart_putc(*s);
  if (selftest_running)
    outb(DEBUG_EXIT_PORT, 1);
  halt_forever();
}

// Print "panic: " and the message, a backtrace of the caller's stack and
// "panic: halted", and stop. The message should name its origin:
// panic("kalloc: out of memory"). A panic during a panic prints its
// message without a backtrace (the backtrace may be what failed); a third
// one only ends the output. Either way the last line is "panic: halted",
// which tells whoever reads the console (the grader too) that nothing
// more will come.
void
panic(const char *fmt, ...)
{
  va_list ap;
  uint64 lo, hi;

  cli();                        // for good: no pop_off follows a panic
#if LAB >= 5
  if (panicking == 0 && smp_stop_others() < 0)
    halt_forever();             // another CPU's panic came first: its output only
#endif
  panicking++;
  if (panicking > 2)
    panic_halted();

  printf(panicking == 1 ? "panic: " : "panic: nested panic: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (panicking == 1) {
    stack_bounds(rrsp(), &lo, &hi);
    backtrace(rrbp(), lo, hi);
  }
  panic_halted();
}
