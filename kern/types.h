// Fixed-size integer types for the kernel and the boot loader.
//
// The kernel is freestanding (no C library), so it names its own types,
// xv6 style: the size is in the name. The boot loader (32-bit code) uses
// the same header; only the 64-bit types differ between the two, because
// long is 64 bits in the kernel and 32 bits in the boot loader.

#ifndef KERN_TYPES_H
#define KERN_TYPES_H

typedef unsigned char      uint8;
typedef unsigned short     uint16;
typedef unsigned int       uint32;
#ifdef __x86_64__
typedef unsigned long      uint64;  // long is 64 bits here: printf's %lu, %lx
typedef long               int64;
#else
typedef unsigned long long uint64;
typedef long long          int64;
#endif
typedef signed char        int8;
typedef short              int16;
typedef int                int32;

#ifdef __x86_64__
typedef uint64 uintptr;
#else
typedef uint32 uintptr;
#endif

typedef uint64 size_t;

#define NULL ((void *)0)

// Variable arguments, straight from the compiler (no <stdarg.h> without libc).
typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type)   __builtin_va_arg(ap, type)
#define va_end(ap)         __builtin_va_end(ap)

#endif
