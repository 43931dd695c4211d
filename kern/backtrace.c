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
// A backtrace runs when something has already gone wrong, so it must not
// make things worse: it trusts no frame pointer it reads. Each one must be
// 8-byte aligned, its frame (saved %rbp and return address) must lie
// inside the stack the backtrace walks, [lo, hi), and it must be strictly
// above the frame before it, since every caller's frame is above its
// callee's. A garbage pointer (a corrupted stack) is therefore refused
// before it is read through, and a chain that loops is refused when it
// turns back down. After BACKTRACE_DEPTH frames the walk stops too. Each
// early stop prints one "stopped" line that says where and why.
//
// Which stack: lab 1 has one, the boot stack (kernel.ld); stack_bounds()
// finds the stack of a given stack pointer, and later labs teach it their
// stacks (each process's kernel stack, the trap stacks).
//
// Names come from a symbol table that the build embeds in the kernel:
// tools/ksyms.awk turns `nm -n` of a first link into ksyms[], sorted by
// address, and the Makefile links the kernel again with it (see the
// Makefile's "kernel" rule for why the addresses don't move).
//
// Lab 1 exercises: ksym_lookup, frame_pointer_bad and backtrace.

#include "types.h"
#include "param.h"
#include "defs.h"

extern const struct ksym ksyms[];   // generated: sorted by addr
extern const uint64 ksyms_count;
extern char etext[];                // kernel.ld: end of the kernel's code
extern char boot_stack[], boot_stack_top[];  // kernel.ld: the boot stack

// The stack that holds the stack pointer sp: sets *lo to its lowest
// address and *hi to the address just above it. An empty range (lo = hi =
// 0) if sp is on no stack the kernel knows: a backtrace then follows no
// frame at all.
void
stack_bounds(uint64 sp, uint64 *lo, uint64 *hi)
{
  *lo = *hi = 0;
  if (sp >= (uint64)boot_stack && sp <= (uint64)boot_stack_top) {
    *lo = (uint64)boot_stack;
    *hi = (uint64)boot_stack_top;
  }
#if LAB >= 3
  if (*hi == 0)
    iststack_of(sp, lo, hi);
#endif
#if LAB >= 4
  if (*hi == 0)
    kstack_of(sp, lo, hi);
#endif
#if LAB >= 5
  if (*hi == 0)
    apstack_of(sp, lo, hi);
#endif
}

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

#if LAB >= 3
extern char alltraps[], vectors[];  // trapasm.S: the entry code, then the stubs

// Does ret return into the trap entry code? Then the frame above is the
// one that code made for the trap (calltrap, trapasm.S): it holds the
// interrupted %rip itself, not a return address.
static int
returns_to_trap_entry(uint64 ret)
{
  return ret > (uint64)alltraps && ret <= (uint64)vectors;
}
#endif

// Print line depth of a backtrace, for the return address ret.
// A return address points after the call instruction, which may be the
// last one of its function (a call to a noreturn function), so the name
// is looked up for ret - 1: that byte is always inside the caller. The
// exception is the frame a trap's entry code made (from lab 3 on): its
// "return address" is where the trap hit, maybe a function's first byte,
// so it is looked up as it is.
static void
print_frame(int depth, uint64 ret)
{
  uint64 offset = 0, back = 1;

#if LAB >= 3
  static uint64 prev;           // the address the line before this one printed
  if (depth > 0 && returns_to_trap_entry(prev))
    back = 0;
  prev = ret;
#endif
  const char *name = ksym_lookup(ret - back, &offset);
  if (name)
    printf("  #%d %p %s+0x%lx\n", depth, (void *)ret, name, offset + back);
  else
    printf("  #%d %p ?\n", depth, (void *)ret);
}

// Print the line that ends a backtrace early: the frame pointer it did not
// follow, and why (a phrase such as "is outside the stack").
static void
print_stop(uint64 rbp, const char *why)
{
  printf("  stopped at frame pointer %p: %s\n", (void *)rbp, why);
}

// Why rbp can't be the next frame pointer of a backtrace over the stack
// [lo, hi) whose previous frame pointer was prev (0 for the first frame),
// or NULL if it can: it must be 8-byte aligned, its frame (the 16 bytes of
// saved %rbp and return address) must lie inside [lo, hi), and it must be
// strictly above prev.
static const char *
frame_pointer_bad(uint64 rbp, uint64 prev, uint64 lo, uint64 hi)
{
#if SOL >= 1
  if (rbp % sizeof(uint64) != 0)
    return "is not 8-byte aligned";
  // Written so that nothing overflows, whatever garbage rbp holds.
  if (rbp < lo || rbp >= hi || hi - rbp < 2 * sizeof(uint64))
    return "is outside the stack";
  if (rbp <= prev)
    return "is not above the previous frame (a loop)";
  return NULL;
#else
  // LAB 1: return a short reason (a string such as "is outside the stack")
  // if rbp breaks one of the rules in the comment above, else NULL. Mind
  // that rbp may be any 64-bit garbage: compare without overflowing.
  (void)rbp;
  (void)prev;
  (void)lo;
  (void)hi;
  return NULL;
#endif
}

// Print the chain of return addresses starting with the frame at rbp,
// innermost first, walking only frames inside the stack [lo, hi) (see
// stack_bounds), at most BACKTRACE_DEPTH of them.
void
backtrace(uint64 rbp, uint64 lo, uint64 hi)
{
  printf("backtrace:\n");
#if SOL >= 1
  uint64 prev = 0;
  const char *bad;

  for (int depth = 0; rbp != 0; depth++) {
    if (depth == BACKTRACE_DEPTH) {
      print_stop(rbp, "more frames than BACKTRACE_DEPTH");
      return;
    }
    if ((bad = frame_pointer_bad(rbp, prev, lo, hi)) != NULL) {
      print_stop(rbp, bad);
      return;
    }
    uint64 *frame = (uint64 *)rbp;
    print_frame(depth, frame[1]);
    prev = rbp;
    rbp = frame[0];
  }
#else
  // LAB 1: follow the chain of frames from rbp (see the picture at the top
  // of this file) until the frame pointer is 0, printing each frame's
  // return address with print_frame(depth, address), innermost first.
  // Before reading through a frame pointer, check it with
  // frame_pointer_bad; if it is bad, or BACKTRACE_DEPTH frames have been
  // printed and the chain goes on, end with print_stop instead.
  (void)rbp;
  (void)lo;
  (void)hi;
  (void)print_frame;
  (void)print_stop;
  (void)frame_pointer_bad;
#endif
}
