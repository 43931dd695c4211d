// The user side of the system call boundary: _start, where every program
// begins, and one small stub per system call.
//
// Each stub is a C function (user.h has its prototype): the compiler has
// put the arguments in %rdi, %rsi, %rdx, %rcx, %r8, %r9 as for any call.
// The stub loads the call's number (kern/syscall.h, the one home of the
// numbers) into %rax, moves the fourth argument from %rcx to %r10, and
// executes syscall; the kernel's result comes back in %rax, which is
// where a C caller looks for it. Why %r10: the syscall instruction
// itself overwrites %rcx (with the address to return to) and %r11 (with
// the flags) before the kernel runs, so the fourth argument cannot
// travel in %rcx. Both are scratch registers in the C convention, so
// the stub need not save them.

#include "kern/syscall.h"

// void _start(int argc, char **argv)
// The kernel enters here with %rdi = argc, %rsi = argv (on the user
// stack) and %rsp 16-byte aligned: already main's arguments, so we call
// main(argc, argv) and then exit(main's return value), as xv6-riscv does.
.text
.globl _start
.type _start, @function
_start:
        xor     %ebp, %ebp              // frame pointer 0: the outermost frame, for backtraces
        call    main                    // the call's push leaves %rsp as the ABI wants at entry
        mov     %eax, %edi              // main's return value is exit's argument
        call    exit
        ud2                             // exit does not return; if it did, fault at once
.size _start, . - _start

// SYSCALL(name): int name(...), system call SYS_name.
#define SYSCALL(name)                   \
  .globl name;                          \
  .type name, @function;                \
  name:                                 \
        mov     $SYS_ ## name, %eax;    \
        mov     %rcx, %r10;             \
        syscall;                        \
        ret;                            \
  .size name, . - name

SYSCALL(fork)
SYSCALL(exit)
SYSCALL(wait)
SYSCALL(pipe)
SYSCALL(read)
SYSCALL(kill)
SYSCALL(exec)
SYSCALL(fstat)
SYSCALL(chdir)
SYSCALL(dup)
SYSCALL(getpid)
SYSCALL(sbrk)
SYSCALL(sleep)
SYSCALL(uptime)
SYSCALL(open)
SYSCALL(write)
SYSCALL(mknod)
SYSCALL(unlink)
SYSCALL(link)
SYSCALL(mkdir)
SYSCALL(close)
SYSCALL(yield)
SYSCALL(sysinfo)
SYSCALL(blkread)
SYSCALL(blkwrite)
SYSCALL(blkflush)

// No executable stack wanted.
.section .note.GNU-stack, "", @progbits
