// The user library's interface: system calls (usys.S), string and memory
// helpers (ulib.c), printf (printf.c) and malloc (umalloc.c).
//
// Names and signatures are xv6-riscv's, so that its programs compile
// unchanged, plus Kestrel's own calls yield() and sysinfo(). System calls
// return -1 on any error (kern/syscall.h); sbrk returns (char*)-1.
//
// Programs written for xv6-public (x86) compile unchanged too: the
// "dialect shims" at the end of this file accept its exit(), wait() and
// printf(fd, fmt, ...). Read them before you are surprised by them.
//
// Extras that xv6 lacks: strncmp(), and vprintf() (printf with a va_list,
// to an fd). There is no C library and no system header: va_list and its
// macros are defined here, from the compiler's builtins.

#ifndef USER_USER_H
#define USER_USER_H

#include "types.h"
#include "kern/syscall.h"       // struct sysinfo

struct stat;                    // stat.h, included before or after this

// Variable argument lists, as <stdarg.h> would give them.
#ifndef va_start
typedef __builtin_va_list va_list;
#define va_start(ap, last)      __builtin_va_start(ap, last)
#define va_arg(ap, type)        __builtin_va_arg(ap, type)
#define va_end(ap)              __builtin_va_end(ap)
#define va_copy(dst, src)       __builtin_va_copy(dst, src)
#endif

// System calls (usys.S; kern/syscall.h says what each one does).
int fork(void);
void exit(int) __attribute__((noreturn));
int wait(int*);
int pipe(int*);
int write(int, const void*, int);
int read(int, void*, int);
int close(int);
int kill(int);
int exec(const char*, char**);
int open(const char*, int);
int mknod(const char*, short, short);
int unlink(const char*);
int fstat(int fd, struct stat*);
int link(const char*, const char*);
int mkdir(const char*);
int chdir(const char*);
int dup(int);
int getpid(void);
char* sbrk(int);
int sleep(int);
int uptime(void);
int yield(void);
int sysinfo(struct sysinfo*);
int blkread(uint, void*);          // lab 7: the data disk's blocks
int blkwrite(uint, const void*);
int blkflush(void);

// ulib.c
int stat(const char*, struct stat*);
char* strcpy(char*, const char*);
void *memmove(void*, const void*, int);
char* strchr(const char*, char c);
int strcmp(const char*, const char*);
int strncmp(const char*, const char*, uint);
char* gets(char*, int max);
uint strlen(const char*);
void* memset(void*, int, uint);
int atoi(const char*);
int memcmp(const void *, const void *, uint);
void *memcpy(void *, const void *, uint);
// Kestrel's own, for the lab programs: the kernel's seeded LCG (the draw
// after *x, as kern/selftest.c's seed_next gives it), and the time-stamp
// counter read once every earlier instruction is done.
uint64 seed_next(uint64 *x);
uint64 rdtsc(void);

// printf.c: %d %i %u %x %p %s %c %%, l and ll, width, 0 and - flags.
void fprintf(int, const char*, ...) __attribute__((format(printf, 2, 3)));
void printf(const char*, ...) __attribute__((format(printf, 1, 2)));
void vprintf(int, const char*, va_list) __attribute__((format(printf, 2, 0)));

// umalloc.c
void* malloc(uint);
void free(void*);

// The dialect shims. xv6-public's programs call exit() and wait() with no
// argument and print with printf(fd, fmt, ...); xv6-riscv's call exit(n),
// wait(&status) or wait(0), printf(fmt, ...) and fprintf(fd, fmt, ...).
// These function-like macros accept both, at compile time, for free:
//
//   exit()            -> exit(0)        exit(n)       -> exit(n)
//   wait()            -> wait(0)        wait(p)       -> wait(p)
//   printf("x %d", x) -> printf(...)    printf(1, "x %d", x) -> fprintf(1, ...)
//
// ULIB_OR0(args) is its argument, or 0 if there is none: __VA_OPT__(,)
// puts a comma after a present argument, so ULIB_FIRST picks it; with
// none, ULIB_FIRST picks the 0. printf dispatches with C11's _Generic on
// the type of its first argument: a string (char* or const char*, an
// array decays) means printf, anything else (an int fd) means fprintf.
// A macro's own name inside its expansion is not expanded again, so the
// real functions are called; the compiler still checks every format.
// Only calls are rewritten: &exit or a declaration "void (exit)(int)"
// is untouched. (The library's own definitions undo the printf macro.)
#define ULIB_FIRST(a, ...)      a
#define ULIB_OR0(...)           ULIB_FIRST(__VA_ARGS__ __VA_OPT__(,) 0, 0)
#define exit(...)               exit(ULIB_OR0(__VA_ARGS__))
#define wait(...)               wait(ULIB_OR0(__VA_ARGS__))
#define printf(...) \
  _Generic(ULIB_FIRST(__VA_ARGS__, 0), \
           char *: printf, const char *: printf, default: fprintf)(__VA_ARGS__)

#endif
