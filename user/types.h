// xv6's short type names, for user programs.
//
// Programs written for xv6 include this first (as "kernel/types.h" in
// xv6-riscv's style, "types.h" in xv6-public's); user.h and stat.h also
// include it themselves, so the order of includes never matters. Sizes
// are those of x86-64: int 32 bits, long and pointers 64.

#ifndef USER_TYPES_H
#define USER_TYPES_H

typedef unsigned int   uint;
typedef unsigned short ushort;
typedef unsigned char  uchar;

typedef unsigned char  uint8;
typedef unsigned short uint16;
typedef unsigned int   uint32;
typedef unsigned long  uint64;

typedef uint64 pde_t;   // a page-table entry, as the kernel stores it

#endif
