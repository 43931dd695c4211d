// Stage 1 of the boot loader: the 512-byte boot sector.
//
// The BIOS loads sector 0 of the boot disk to physical 0x7c00 and jumps to
// it in 16-bit real mode with the boot drive number in %dl. This code:
//
//   1. sets up segments and a stack below itself;
//   2. asks the BIOS for the e820 memory map and stores it at E820_MAP,
//      where the kernel will read it (the BIOS can't be called later);
//   3. enables the A20 line so that addresses above 1 MiB don't wrap;
//   4. loads stage 2 (BOOT2_SECTORS sectors after this one) to BOOT2_ADDR
//      with the BIOS disk service, also only callable in real mode;
//   5. switches to 32-bit protected mode with a flat GDT and calls stage 2,
//      bootmain() in bootmain.c, which loads the kernel from disk.
//
// kern/boot/boot.ld links this sector and stage 2 together and fails the
// build if this sector outgrows its 510 bytes.

#include "../memlayout.h"
#include "../mmu.h"

#define E820_SMAP   0x534d4150      // "SMAP": the e820 call's signature
#define BIOS_E820   0xe820          // int 0x15 function: query memory map
#define BIOS_EXTREAD 0x42           // int 0x13 function: extended (LBA) read
#define PORT_A20    0x92            // "system control port A" (fast A20)
#define A20_ENABLE  0x02            // port A bit 1: the A20 line is on
#define A20_RESET   0x01            // port A bit 0: writing 1 resets the machine
#define BIOS_TELETYPE 0x0e          // int 0x10 function: print the character in %al

.code16
.section .text.stage1, "ax"
.globl start
start:
  cli                               // no interrupts until the kernel wants them
  cld                               // string instructions count upwards
  xorw    %ax, %ax                  // flat real-mode segments: all zero
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss
  movw    $BOOT1_ADDR, %sp          // stack grows down from just below us
  movb    %dl, boot_drive           // BIOS tells us which drive we came from

// Collect the e820 map: each int 0x15 call returns one entry at %es:%di,
// and %ebx is the BIOS's cursor, zero again after the last entry.
  movl    $0, E820_MAP              // count = 0
  movw    $E820_ENTRIES, %di
  xorl    %ebx, %ebx                // cursor: start at the first entry
e820_next:
  movl    $BIOS_E820, %eax
  movl    $E820_ENTRY_SIZE, %ecx    // size of the buffer at %es:%di
  movl    $E820_SMAP, %edx
  movl    $E820_ATTR_VALID, E820_ATTRS(%di) // a 20-byte BIOS leaves attrs "valid"
  int     $0x15
  jc      e820_done                 // carry: no (more) entries
  cmpl    $E820_SMAP, %eax          // a BIOS without e820 doesn't echo SMAP
  jne     e820_done
  incl    E820_MAP
  addw    $E820_ENTRY_SIZE, %di
  cmpl    $E820_MAX, E820_MAP       // keep within the space memlayout.h gives us
  je      e820_done
  testl   %ebx, %ebx                // cursor back to zero: that was the last one
  jnz     e820_next
e820_done:

// Enable A20 through port 0x92; bit 0 would reset the machine, keep it 0.
  inb     $PORT_A20, %al
  orb     $A20_ENABLE, %al
  andb    $~A20_RESET, %al
  outb    %al, $PORT_A20

// Load stage 2 with one extended read, described by the packet below.
  movb    $BIOS_EXTREAD, %ah
  movb    boot_drive, %dl
  movw    $disk_packet, %si
  int     $0x13
  jc      disk_error

// Switch to protected mode: load the GDT, set CR0.PE, then a far jump
// reloads %cs from the GDT and starts decoding 32-bit instructions.
  lgdt    gdt_desc
  movl    %cr0, %eax
  orl     $CR0_PE, %eax
  movl    %eax, %cr0
  ljmp    $BOOT_SEG_CODE32, $start32

disk_error:
  movw    $disk_message, %si
print_loop:                         // print a NUL-terminated string with the BIOS
  lodsb
  testb   %al, %al
  jz      stop16
  movb    $BIOS_TELETYPE, %ah
  int     $0x10
  jmp     print_loop
stop16:
  hlt
  jmp     stop16

.code32
start32:
  movw    $BOOT_SEG_DATA32, %ax     // flat data segments for 32-bit C
  movw    %ax, %ds
  movw    %ax, %es
  movw    %ax, %ss
  movw    $0, %ax                   // %fs, %gs unused: null selector
  movw    %ax, %fs
  movw    %ax, %gs
  movl    $BOOT1_ADDR, %esp         // same stack, now addressed as 32-bit
  call    bootmain                  // stage 2; returns only if the kernel is bad
stop32:
  hlt
  jmp     stop32

// Boot GDT: null descriptor, then flat 4 GiB code (execute/read) and data
// (read/write) segments, both with 32-bit default size (D=1) and 4 KiB
// granularity (G=1): base 0, limit 0xfffff pages, DPL 0 (mmu.h names the bits).
#define FLAT_LIMIT  0xfffff         // in 4 KiB pages: all 4 GiB
#define FLAT_FLAGS  (SEG_F_G | SEG_F_DB)
.p2align 3
gdt:
  .quad 0                                               // the null descriptor
  .quad SEG_DESC(0, FLAT_LIMIT, SEG_A_CODE, FLAT_FLAGS) // BOOT_SEG_CODE32
  .quad SEG_DESC(0, FLAT_LIMIT, SEG_A_DATA, FLAT_FLAGS) // BOOT_SEG_DATA32
gdt_desc:
  .word   gdt_desc - gdt - 1        // limit: size of the table minus one
  .long   gdt                       // base: linear address

// Disk address packet for int 0x13, ah=0x42.
disk_packet:
  .byte   16                        // size of this packet
  .byte   0                         // reserved
  .word   BOOT2_SECTORS             // sectors to read
  .word   BOOT2_ADDR, 0             // destination offset, segment
  .quad   1                         // first sector (LBA): the one after us

boot_drive:
  .byte   0
disk_message:
  .asciz  "boot: disk read failed"
