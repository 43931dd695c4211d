// The serial console: a 16550 UART on COM1.
//
// QEMU connects COM1 to the terminal (make qemu) or to the grader's pipe,
// so this is the kernel's console in every lab. In lab 1 output is polled:
// uart_putc waits until the transmitter can take a byte. Lab 7 makes the
// port interrupt-driven: a received byte raises IRQ 4, and uart_intr
// hands it to the console's line editor (tty.c); an empty transmitter
// raises it too, and console.c gives the UART more of what user programs
// wrote.
//
// The port is set to 115200 baud, 8 data bits, no parity, one stop bit,
// FIFOs on. QEMU ignores the speed, real hardware does not.

#include "types.h"
#include "x86.h"
#include "defs.h"

#define COM1        0x3f8
#define UART_DATA   (COM1 + 0)  // transmit / receive; divisor low when DLAB=1
#define UART_IER    (COM1 + 1)  // interrupt enable; divisor high when DLAB=1
#define UART_FCR    (COM1 + 2)  // FIFO control
#define UART_LCR    (COM1 + 3)  // line control
#define UART_MCR    (COM1 + 4)  // modem control
#define UART_LSR    (COM1 + 5)  // line status
#if LAB >= 7
#define UART_IIR    (COM1 + 2)  // interrupt identification (read; FCR when written)
#define UART_MSR    (COM1 + 6)  // modem status

#define IER_RX      0x01        // interrupt: a byte received
#define IER_TX      0x02        // interrupt: the transmitter is empty
#define IIR_NONE    0x01        // no interrupt pending
#define IIR_WHY     0x0e        // the reason:
#define IIR_TX      0x02        //   the transmitter is empty
#define IIR_RX      0x04        //   received bytes
#define IIR_RX_TIMEOUT 0x0c     //   received bytes, waiting a while in the FIFO
#define LSR_DR      0x01        // a received byte is waiting
#define MCR_OUT2    0x08        // on a PC, connects the UART's interrupt to its IRQ line
#define UART_FIFO   16          // bytes the transmit FIFO holds
#endif

#define LCR_DLAB    0x80        // next two registers are the baud divisor
#define LCR_8N1     0x03        // 8 data bits, no parity, 1 stop bit
#define FCR_ENABLE  0x07        // enable and clear both FIFOs
#define MCR_DTR_RTS 0x03        // data terminal ready, request to send
#define LSR_THRE    0x20        // transmit holding register empty

#define UART_CLOCK  115200      // the divisor counts this clock
#define BAUD        115200

void
uart_init(void)
{
  uint16 divisor = UART_CLOCK / BAUD;

  outb(UART_IER, 0);                  // no interrupts in lab 1
  outb(UART_LCR, LCR_DLAB);
  outb(UART_DATA, divisor & 0xff);
  outb(UART_IER, divisor >> 8);
  outb(UART_LCR, LCR_8N1);            // also clears DLAB
  outb(UART_FCR, FCR_ENABLE);
  outb(UART_MCR, MCR_DTR_RTS);
}

// Send one byte as it is, waiting for room.
void
uart_putc_raw(int c)
{
  while ((inb(UART_LSR) & LSR_THRE) == 0)
    ;
  outb(UART_DATA, c);
}

// Send one byte, waiting for room. A newline goes out as CR LF, which is
// what a terminal needs to start the next line at the left.
void
uart_putc(int c)
{
  if (c == '\n')
    uart_putc_raw('\r');
  uart_putc_raw(c);
}
#if LAB >= 7

// How many bytes the transmitter takes now without waiting: a FIFO's
// worth when it is empty, else none (the 16550 tells no more).
int
uart_tx_room(void)
{
  return (inb(UART_LSR) & LSR_THRE) ? UART_FIFO : 0;
}

// Send c; the caller knows there is room.
void
uart_tx(int c)
{
  outb(UART_DATA, c);
}

// COM1's interrupt (trap() calls this for T_SERIAL): the UART says why
// in IIR, one reason at a time, until it has none. Its line to the I/O
// APIC is an edge: a reason left pending would keep the line up, and no
// further interrupt would ever come. So the loop goes on until IIR says
// none is left.
void
uart_intr(void)
{
  int iir;

  while (((iir = inb(UART_IIR)) & IIR_NONE) == 0) {
    switch (iir & IIR_WHY) {
    case IIR_RX:
    case IIR_RX_TIMEOUT:
      while (inb(UART_LSR) & LSR_DR)
        console_input(inb(UART_DATA));
      break;
    case IIR_TX:                        // reading IIR said "seen"
      console_tx_intr();
      break;
    default:                            // line or modem status: read to clear
      inb(UART_LSR);
      inb(UART_MSR);
      break;
    }
  }
}

// Lab 7: interrupts for received bytes and for an empty transmitter.
void
uart_intr_on(void)
{
  outb(UART_IER, IER_RX | IER_TX);
  outb(UART_MCR, MCR_DTR_RTS | MCR_OUT2);
}
#endif
