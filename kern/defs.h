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
void          cmdline_init(void);
const char   *cmdline_get(const char *key);

// e820.c
void          e820_print(void);
uint64        e820_usable_bytes(void);

// printf.c
void          printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void          vprintf(const char *fmt, va_list ap);
void          panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void          halt_forever(void) __attribute__((noreturn));

// selftest.c
void          selftest_run(const char *name);

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
