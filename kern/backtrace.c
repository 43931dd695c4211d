// Backtraces: walking the stack by frame pointers, and naming addresses.
//
// The kernel is compiled with -fno-omit-frame-pointer, so every function
// starts with
//     push %rbp           // save the caller's frame pointer
//     mov  %rsp, %rbp     // this frame starts here
// and each frame looks like this, %rbp pointing at the saved %rbp:
//
//     higher addresses
//     +--------------------+
//     | return address     |  rbp + 8: where this function returns to,
//     +--------------------+           inside its caller
//     | caller's %rbp      |  rbp + 0: the next frame up the chain
//     +--------------------+
//     | locals ...         |
//     lower addresses
//
// entry.S sets %rbp to 0 before calling main, which ends the chain.
//
// Names come from a symbol table that the build embeds in the kernel:
// kern/ksyms.awk turns `nm -n` of a first link into ksyms[], sorted by
// address, and the Makefile links the kernel again with it (see the
// Makefile's "kernel" rule for why the addresses don't move).
//
// Lab 1 exercises: ksym_lookup and backtrace.

#include "types.h"
#include "param.h"
#include "memlayout.h"
#include "defs.h"

extern const struct ksym ksyms[];   // generated: sorted by addr
extern const uint64 ksyms_count;
extern char etext[];                // kernel.ld: end of the kernel's code

// The function that contains addr: its name, and in *offset how far addr
// is from its start. NULL if addr is not in the kernel's code.
const char *
ksym_lookup(uint64 addr, uint64 *offset)
{
#if SOL >= 1
  uint64 lo = 0, hi = ksyms_count;

  if (ksyms_count == 0 || addr < ksyms[0].addr || addr >= (uint64)etext)
    return NULL;
  // Binary search for the last symbol at or below addr: the invariant is
  // ksyms[lo].addr <= addr, and every symbol from hi on is above addr.
  while (hi - lo > 1) {
    uint64 mid = lo + (hi - lo) / 2;
    if (ksyms[mid].addr <= addr)
      lo = mid;
    else
      hi = mid;
  }
  *offset = addr - ksyms[lo].addr;
  return ksyms[lo].name;
#else
  // LAB 1: find the entry of ksyms[] (ksyms_count of them, sorted by
  // address) with the greatest address <= addr; store addr minus that
  // address in *offset and return its name. Return NULL for an address
  // below the first symbol or at or above etext.
  return NULL;
#endif
}

// Print one line of a backtrace for the return address ret.
// A return address points after the call instruction, which may be the
// last one of its function (a call to a noreturn function), so the name
// is looked up for ret - 1: that byte is always inside the caller.
static void
print_frame(int depth, uint64 ret)
{
  uint64 offset = 0;
  const char *name = ksym_lookup(ret - 1, &offset);

  if (name)
    printf("  #%d %p %s+0x%lx\n", depth, (void *)ret, name, offset + 1);
  else
    printf("  #%d %p ?\n", depth, (void *)ret);
}

// Can rbp be a frame pointer of ours? It must be 8-byte aligned and in the
// kernel half; a broken chain is reported rather than followed into a fault.
static int
frame_pointer_ok(uint64 rbp)
{
  return rbp % sizeof(uint64) == 0 && rbp >= KERNEL_SPACE;
}

// Print the chain of return addresses starting with the frame at rbp,
// innermost first, at most BACKTRACE_DEPTH of them.
void
backtrace(uint64 rbp)
{
  printf("backtrace:\n");
#if SOL >= 1
  for (int depth = 0; rbp != 0 && depth < BACKTRACE_DEPTH; depth++) {
    if (!frame_pointer_ok(rbp)) {
      printf("  (frame pointer %p is not a kernel stack address; stopping)\n", (void *)rbp);
      return;
    }
    uint64 *frame = (uint64 *)rbp;
    print_frame(depth, frame[1]);
    rbp = frame[0];
  }
#else
  // LAB 1: follow the chain of frames from rbp (see the picture at the top
  // of this file) until the frame pointer is 0, printing each frame's
  // return address with print_frame(depth, address), innermost first.
  // Check each frame pointer with frame_pointer_ok before you read through
  // it, and stop after BACKTRACE_DEPTH frames.
  (void)print_frame;
  (void)frame_pointer_ok;
#endif
}
