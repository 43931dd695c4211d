// The parts of the ELF-64 file format that the boot loader needs.
//
// The kernel is an ELF-64 executable; stage 2 of the boot loader reads its
// file header and program headers and copies each loadable segment to the
// physical address the linker gave it (kernel.ld).

#ifndef KERN_ELF_H
#define KERN_ELF_H

#include "types.h"

#define ELF_MAGIC   0x464c457f  // "\x7fELF" read as a little-endian word
#define EM_X86_64   62          // e_machine of x86-64 code
#define PT_LOAD     1           // a program header that describes a segment to load
#if LAB >= 4
// More of the format, for exec (lab 4): what it checks before it trusts a file.
#define ELF_CLASS64 2           // ident[0]: 64-bit objects
#define ELF_DATA2LSB 1          // ident[1]: little-endian
#define ELF_VERSION 1           // ident[2] and version: the only version
#define ET_EXEC     2           // type: an executable (not relocatable, not shared)
#define ELF_PF_X    1           // proghdr flags: executable
#define ELF_PF_W    2           //   writable
#define ELF_PF_R    4           //   readable
#endif

struct elfhdr {
  uint32 magic;       // ELF_MAGIC
  uint8  ident[12];   // class, data encoding, version, ABI, padding
  uint16 type;
  uint16 machine;
  uint32 version;
  uint64 entry;       // where execution starts (physical for the kernel)
  uint64 phoff;       // file offset of the program headers
  uint64 shoff;
  uint32 flags;
  uint16 ehsize;
  uint16 phentsize;
  uint16 phnum;       // number of program headers
  uint16 shentsize;
  uint16 shnum;
  uint16 shstrndx;
};

struct proghdr {
  uint32 type;        // PT_LOAD for the segments we copy
  uint32 flags;
  uint64 off;         // file offset of the segment
  uint64 vaddr;
  uint64 paddr;       // physical address to load at
  uint64 filesz;      // bytes in the file
  uint64 memsz;       // bytes in memory; the rest (bss) is zeroed
  uint64 align;
};

#endif
