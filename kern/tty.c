// Console input: the line discipline between the keyboard (the serial
// port's received bytes) and a process that reads fd 0.
//
// Bytes arrive one at a time, in the UART's interrupt (uart_intr calls
// console_input). A terminal sends what the user types, editing
// included: the line discipline does the editing, so that read() returns
// the line as the user finally wrote it:
//   backspace (^H or DEL)  erases the last character of the line
//   ^U                     erases the whole line
//   ^D                     end of file: read() returns what came before
//                          it, and a read() that finds it first returns 0
//   ^P                     prints the process list (procdump), for debugging
//   CR or LF               ends the line (kept as '\n')
// and every other byte is part of the line. Each is echoed as it is
// typed (an erased character as "\b \b", which backs over it on a
// terminal), so the user sees the line being edited.
//
// The input waits in buf[], a ring of INPUT_BUF bytes with three counters
// (byte i at buf[i % INPUT_BUF]):
//     r <= w <= e
//     r .. w-1   whole lines (each ending in '\n' or ^D) that read() may take
//     w .. e-1   the line being typed, which the user may still edit
// A line becomes readable only when it ends: console_input moves w to e
// then and wakes the readers, who sleep on &tty.r until w moves past r.
// A full ring counts as an ended line (no byte more would fit: better to
// give the reader what there is than to wait forever).
//
// tty.lock guards the ring; the interrupt handler takes it with interrupts
// off on its CPU, as every spinlock is taken.
//
// Lab 7 exercise: console_input (the editing) and console_read.

#include "types.h"
#include "param.h"
#include "proc.h"
#include "spinlock.h"
#include "defs.h"

#define CTRL(x)   ((x) - '@')   // the byte a terminal sends for Control-x
#define BACKSPACE 0x7f          // what most terminals send for the backspace key

static struct {
  struct spinlock lock;
  char buf[INPUT_BUF];
  uint64 r;                     // bytes read
  uint64 w;                     // bytes of ended lines
  uint64 e;                     // bytes typed (and not erased)
} tty;

void
tty_init(void)
{
  initlock(&tty.lock, "tty");
}

// Echo c to the terminal, or for BACKSPACE erase the character before
// the cursor.
static void
echo(int c)
{
  char ch = c;

  if (c == BACKSPACE)
    console_write("\b \b", 3);
  else
    console_write(&ch, 1);
}

// One byte from the keyboard (uart_intr, interrupts off).
void
console_input(int c)
{
  int dump = 0;

  acquire(&tty.lock);
#if SOL >= 7
  switch (c) {
  case CTRL('P'):
    dump = 1;
    break;
  case CTRL('U'):                       // erase back to the line's start
    while (tty.e != tty.w && tty.buf[(tty.e - 1) % INPUT_BUF] != '\n') {
      tty.e--;
      echo(BACKSPACE);
    }
    break;
  case CTRL('H'):
  case BACKSPACE:
    if (tty.e != tty.w) {
      tty.e--;
      echo(BACKSPACE);
    }
    break;
  default:
    if (c == 0 || tty.e - tty.r >= INPUT_BUF)
      break;
    if (c == '\r')
      c = '\n';
    tty.buf[tty.e++ % INPUT_BUF] = c;
    if (c != CTRL('D'))
      echo(c);
    if (c == '\n' || c == CTRL('D') || tty.e - tty.r == INPUT_BUF) {
      tty.w = tty.e;                    // the line is ended: readers may have it
      wakeup(&tty.r);
    }
    break;
  }
#else
  // LAB 7: the editing, as the top of this file says: ^P sets dump; ^U
  // and backspace (^H or BACKSPACE) erase what is typed but not yet
  // ended (back to w, never further), echoing BACKSPACE per character;
  // any other byte but 0 goes in at e, while there is room (e - r <
  // INPUT_BUF), CR as '\n', echoed (but ^D). A '\n', a ^D or a full ring
  // ends the line: w = e, and wake the readers (on &tty.r).
  //
  // This stub passes every byte through as it comes, unedited and
  // unechoed, and wakes the readers at each.
  (void)echo;
  if (c == CTRL('P'))
    dump = 1;
  else if (tty.e - tty.r < INPUT_BUF) {
    tty.buf[tty.e++ % INPUT_BUF] = c;
    tty.w = tty.e;
    wakeup(&tty.r);
  }
#endif
  release(&tty.lock);
  if (dump)
    procdump();
}

// read(0, buf, n) on the console: wait until a line has ended, then copy
// up to n bytes of it to user address buf, stopping after its '\n'. The
// count copied; 0 at end of file (^D first); -1 if killed while waiting.
int
console_read(uint64 buf, int n)
{
  struct proc *p = myproc();
  int got = 0;

  acquire(&tty.lock);
#if SOL >= 7
  while (got < n) {
    while (tty.r == tty.w) {
      if (p->killed) {
        release(&tty.lock);
        return -1;
      }
      sleep(&tty.r, &tty.lock);
    }
    char c = tty.buf[tty.r % INPUT_BUF];
    if (c == CTRL('D')) {
      if (got == 0)                     // end of file now; else the next read's
        tty.r++;
      break;
    }
    if (copyout(p->pml4, buf + got, &c, 1) < 0)
      break;
    tty.r++;
    got++;
    if (c == '\n')
      break;
  }
#else
  // LAB 7: while fewer than n bytes are copied: sleep on &tty.r (with
  // tty.lock) while there is no ended line (r == w), returning -1 if
  // p->killed; take the byte at r. A ^D: if nothing is copied yet, take it
  // (this read returns 0, end of file), else leave it for the next read;
  // either way stop. Else copyout the byte (to buf + got) and stop after
  // a '\n'.
  //
  // This stub returns whatever bytes are there, without waiting.
  while (got < n && tty.r != tty.w) {
    char c = tty.buf[tty.r % INPUT_BUF];
    if (copyout(p->pml4, buf + got, &c, 1) < 0)
      break;
    tty.r++;
    got++;
  }
  (void)p->killed;
#endif
  release(&tty.lock);
  return got;
}
