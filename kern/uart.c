// The serial console: a 16550 UART on COM1, polled.
//
// QEMU connects COM1 to the terminal (make qemu) or to the grader's pipe,
// so this is the kernel's console in every lab. In lab 1 output is polled:
// uart_putc waits until the transmitter can take a byte. Lab 7 makes the
// port interrupt-driven and adds input with line editing.
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

// Send one byte, waiting for room. A newline goes out as CR LF, which is
// what a terminal needs to start the next line at the left.
void
uart_putc(int c)
{
  if (c == '\n')
    uart_putc('\r');
  while ((inb(UART_LSR) & LSR_THRE) == 0)
    ;
  outb(UART_DATA, c);
}
