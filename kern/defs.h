// Prototypes of the functions that one kernel file offers the others,
// grouped by the file that defines them.

#ifndef KERN_DEFS_H
#define KERN_DEFS_H

#include "types.h"

// backtrace.c
struct ksym {
  uint64 addr;          // start address of the function
  const char *name;
};
void          backtrace(uint64 rbp, uint64 lo, uint64 hi);
const char   *ksym_lookup(uint64 addr, uint64 *offset);
void          stack_bounds(uint64 sp, uint64 *lo, uint64 *hi);

// cmdline.c
struct cmdline_option {
  const char *key;
  const char *help;
};
// Declare the option key=... (a bare identifier), with a line of help that
// an unknown option's report shows: an entry in the .cmdline_options
// section, which kernel.ld gathers (see cmdline.c).
#define CMDLINE_OPTION(key, help)                                       \
  static const struct cmdline_option cmdline_option_##key               \
  __attribute__((used, section(".cmdline_options"), aligned(8))) = { #key, help }
void          cmdline_init(void);
const char   *cmdline_get(const char *key);

// e820.c
struct e820_range {
  uint64 base;          // first byte
  uint64 end;           // the byte after the last
  int usable;           // usable RAM (else reserved, ACPI, bad, ...)
};
void          e820_print(void);
uint64        e820_usable_bytes(void);
uint32        e820_ranges(struct e820_range *out, uint32 max);

// printf.c
void          printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void          vprintf(const char *fmt, va_list ap);
void          panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void          halt_forever(void) __attribute__((noreturn));

// selftest.c
struct selftest {
  const char *name;
  void (*run)(void);
};
// Register fn as the self-test test=name (a bare identifier): an entry in
// the .selftests section, which kernel.ld gathers (see selftest.c).
#define SELFTEST(name, fn)                                              \
  static const struct selftest selftest_##name                          \
  __attribute__((used, section(".selftests"), aligned(8))) = { #name, fn }
void          selftest_run(const char *name);
uint64        selftest_seed(void);
uint64        seed_next(uint64 *x);

// string.c
void         *memset(void *dst, int c, size_t n);
void         *memmove(void *dst, const void *src, size_t n);
void         *memcpy(void *dst, const void *src, size_t n);
int           memcmp(const void *a, const void *b, size_t n);
size_t        strlen(const char *s);
int           strcmp(const char *a, const char *b);
int           strncmp(const char *a, const char *b, size_t n);

// uart.c
void          uart_init(void);
void          uart_putc(int c);

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#endif
