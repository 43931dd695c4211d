// The console with several CPUs: where the kernel's printf and user
// programs' write() to the console go, on their way to the serial port
// (uart.c), so that lines from different CPUs never mix inside a line.
//
// Sent a character at a time, two CPUs' lines would interleave letter by
// letter. So each CPU collects what it prints in a line buffer of its own
// and sends a whole line to the UART at once, holding the console's lock:
// at the line's newline, when the buffer fills, and at the end of each
// write() (a prompt has no newline, and must show). Interrupts are off
// while a CPU adds to its buffer: an interrupt handler that prints adds
// its line after the characters already there, never in their middle.
//
// The lock is a bare word taken with xchg, not a spinlock.c lock: the
// spinlock checks print their reports, the lock-order checker while it
// holds its own table's lock; a checked console lock would check, and
// wait for, itself. Two writers go around it:
//   - the panicking CPU: it has stopped the others, any of which may have
//     stopped holding the lock, so from the panic on it sends each
//     character straight to the UART;
//   - an NMI that comes while its CPU is sending a line (the watchdog
//     asks a lock's holder for a backtrace with one): that CPU holds the
//     lock already, and waiting for it would wait for itself (put).

#include "types.h"
#include "param.h"
#include "x86.h"
#include "trap.h"
#include "defs.h"
#if LAB >= 7
#include "proc.h"
#include "spinlock.h"
#endif

static struct {
  uint32 locked;        // 1 while a CPU sends a line
  int owner;            // that CPU's id; -1 while free
} cons = { 0, -1 };

static struct line {
  char buf[CONSOLE_LINE];
  int n;
} lines[NCPU];

#if LAB >= 7
// Lab 7: user output waits in a ring for the UART's transmit interrupt
// (txbuf[i % UART_TXBUF], bytes txr .. txw-1; under cons.locked), so a
// process that writes a lot sleeps while the UART sends it (console_queue).
// The kernel's own lines still go out before send() returns, and after
// the user output already queued: a line that tells of a process's exit
// never passes what the process wrote.
static char txbuf[UART_TXBUF];
static uint64 txr, txw;         // bytes sent from the ring, and put in it
static struct spinlock txwait;  // writers sleep on &txr with it, for room
#endif

static void
cons_lock(int id)
{
  while (__atomic_exchange_n(&cons.locked, 1, __ATOMIC_ACQUIRE) != 0)
    pause();
  __atomic_store_n(&cons.owner, id, __ATOMIC_RELAXED);
}

static void
cons_unlock(void)
{
  __atomic_store_n(&cons.owner, -1, __ATOMIC_RELAXED);
  __atomic_store_n(&cons.locked, 0, __ATOMIC_RELEASE);
}

// Send CPU id's buffered characters to the UART, as one piece.
static void
send(struct line *l, int id)
{
  int locking = !panicking;

  if (locking)
    cons_lock(id);
#if LAB >= 7
  while (txr != txw)                    // what user programs wrote first
    uart_putc_raw(txbuf[txr++ % UART_TXBUF]);
#endif
  for (int i = 0; i < l->n; i++)
    uart_putc(l->buf[i]);
  l->n = 0;
  if (locking)
    cons_unlock();
}

// Add c to this CPU's line (flush says: send the line now, whole or not).
// An NMI handler that prints while its CPU is sending a line writes
// straight out: its characters go in the middle of that line, but the
// buffer being sent stays as it is.
static void
put(int c, int flush)
{
  int id = mycpu()->id;
  struct line *l = &lines[id];

  if (__atomic_load_n(&cons.owner, __ATOMIC_RELAXED) == id) {
    uart_putc(c);
    return;
  }
  l->buf[l->n++] = c;
  if (c == '\n' || l->n == CONSOLE_LINE || flush || panicking)
    send(l, id);
}

// printf's way out: one character.
void
console_putc(int c)
{
  push_off();
  put(c, 0);
  pop_off();
}

// n characters, sent before it returns: write()'s way out (lab 7 gives
// write() the transmit ring, and this to the echo of what is typed).
void
console_write(const char *s, int n)
{
  push_off();
  for (int i = 0; i < n; i++)
    put(s[i], i == n - 1);
  pop_off();
}

#if LAB >= 7
// Give the UART what its transmit FIFO takes from the ring (cons.locked
// held): it interrupts again when the FIFO is empty.
static void
tx_start(void)
{
  for (int room = uart_tx_room(); txr != txw && room > 0; room--)
    uart_tx(txbuf[txr++ % UART_TXBUF]);
}

// Put all n bytes of s in the ring for the UART, a newline as CR LF, and
// return 1; or, if they do not fit, none of them, and return 0. All or
// none: the bytes of one write stay together, as in labs 5 and 6, and
// lines of processes on several CPUs never mix.
static int
console_queue(const char *s, int n)
{
  int need = n;

  for (int i = 0; i < n; i++)
    need += s[i] == '\n';
  push_off();
  cons_lock(mycpu()->id);
  int fits = UART_TXBUF - (txw - txr) >= (uint64)need;
  for (int i = 0; fits && i < n; i++) {
    if (s[i] == '\n')
      txbuf[txw++ % UART_TXBUF] = '\r';
    txbuf[txw++ % UART_TXBUF] = s[i];
  }
  tx_start();
  cons_unlock();
  pop_off();
  return fits;
}

// A user program's n bytes (write() has copied them into the kernel; n
// is at most half the ring) to the console: into the ring, after
// sleeping until there is room for them all. 0, or -1 if killed while
// asleep. The test for room and the sleep happen under txwait, which
// the transmit interrupt takes to wake the writers after it has made
// room: no wakeup falls between them.
int
console_put_user(const char *s, int n)
{
  acquire(&txwait);
  while (!console_queue(s, n)) {
    if (myproc()->killed) {
      release(&txwait);
      return -1;
    }
    sleep(&txr, &txwait);
  }
  release(&txwait);
  return 0;
}

// The UART's transmit interrupt (uart.c): more bytes for it, and the
// writers waiting for room woken.
void
console_tx_intr(void)
{
  cons_lock(mycpu()->id);
  tx_start();
  cons_unlock();
  // Wake the writers even if this interrupt sent nothing: a kernel line
  // (send) may have emptied the ring by itself since they went to sleep.
  acquire(&txwait);
  wakeup(&txr);
  release(&txwait);
}

void
console_init(void)
{
  initlock(&txwait, "txwait");
}
#else

// A user program's n bytes (write() has copied them into the kernel) to
// the console; 0.
int
console_put_user(const char *s, int n)
{
  console_write(s, n);
  return 0;
}
#endif
