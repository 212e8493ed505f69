/* An 8250/16550A UART (the PC's COM port): register model, 16-byte receive
 * FIFO, interrupt priorities, loopback, and a level interrupt line. A byte
 * written to THR goes straight to the caller's sink, so THR and the shift
 * register are empty again by the time the guest looks (LSR.THRE and
 * LSR.TEMT read 1) -- unless the sink said it is full: then the transmitter
 * is "held" (THRE and TEMT read 0, no THR-empty interrupt) until the host
 * calls serial8250_tx_space(). That is how a slow stdout reader slows the
 * guest down without ever blocking a vCPU thread.
 *
 * Threads: register accesses (serial8250_ops) come from vCPU threads, input
 * (serial8250_receive) and serial8250_tx_space() from other threads; a mutex
 * inside the device orders them. The out() sink and the irq line are called
 * with that mutex held, so they must not call back into the device (out()
 * must not call serial8250_tx_space() itself: it returns false instead and
 * calls it later); rx_space() is called after the mutex is dropped and may
 * call serial8250_receive().
 *
 * As a struct device (serial8250_new): pause refuses host input and keeps
 * the irq line where it is; resume re-asserts a high line and offers input
 * again; the section holds the registers, the receive FIFO, THRI and the
 * held transmitter (serial8250_state.c). */
#ifndef KITE_DEVICES_SERIAL8250_H
#define KITE_DEVICES_SERIAL8250_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"
#include "vm_event.h"

#define SERIAL8250_COM1_BASE 0x3f8
#define SERIAL8250_COM1_IRQ 4
#define SERIAL8250_NR_PORTS 8 /* the bus range length */
#define SERIAL8250_FIFO_SIZE 16

/* Register offsets from the base port. */
#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_DLL 0 /* DLAB=1 */
#define UART_IER 1 /* DLAB=0 */
#define UART_DLM 1 /* DLAB=1 */
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define UART_IER_ERBFI 0x01 /* received data available */
#define UART_IER_ETBEI 0x02 /* THR empty */
#define UART_IER_ELSI 0x04  /* receiver line status */
#define UART_IER_EDSSI 0x08 /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO_ENABLED 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER_MASK 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_ERR_BITS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_DELTAS 0x0f
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct serial8250_config {
	struct irq_line irq; /* copied; a NULL set means no interrupt */
	/* Transmitted bytes. Required. The sink takes the bytes (dropping
	 * them itself if even its hard limit is reached) and returns true
	 * while it has room for more, false once the guest should wait: the
	 * transmitter then stays busy until serial8250_tx_space(). */
	bool (*out)(void *ctx, const uint8_t *buf, size_t n);
	/* Optional: after serial8250_receive() took less than it was offered,
	 * called once the guest has emptied the receive FIFO (or, for input
	 * refused while paused, at resume if the FIFO has room). */
	void (*rx_space)(void *ctx);
	void *ctx;
};

struct serial8250_stats {
	uint64_t tx_bytes; /* bytes handed to out() */
	uint64_t rx_bytes; /* bytes taken by serial8250_receive() */
	uint64_t overruns; /* bytes lost to a full FIFO (loopback only) */
	uint64_t tx_held;  /* times out() said "full" and THRE went to 0 */
	/* Bytes the guest wrote while THRE was 0: still handed to out(),
	 * which may drop them; the UART itself drops nothing. */
	uint64_t tx_while_held;
};

/* The guest-visible register state, for snapshots. Plain data: the receive
 * FIFO is stored oldest byte first. */
struct serial8250_state {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	uint8_t rbr;          /* last byte read, returned again when empty */
	uint8_t thri_pending; /* THR-empty interrupt not yet acknowledged */
	uint8_t rx_count;
	uint8_t rx[SERIAL8250_FIFO_SIZE];
	uint8_t tx_held; /* out() was full: THRE/TEMT read 0 until tx_space */
};

struct serial8250 {
	struct device dev;
	pthread_mutex_t lock;
	struct serial8250_config cfg;
	struct serial8250_state r; /* rx[] here is a ring starting at rx_head */
	uint8_t rx_head;
	int irq_level;   /* last level given to the irq line */
	int rx_blocked;  /* a receive() call was refused space */
	bool paused;     /* struct device pause: no input, irq line kept */
	struct serial8250_stats stats;
};

extern const struct bus_ops serial8250_ops;
extern const struct device_ops serial8250_device_ops;

/* cfg->out is required (-EINVAL without it). */
int serial8250_init(struct serial8250 *s, const struct serial8250_config *cfg) MUST_CHECK;
void serial8250_free(struct serial8250 *s);
/* A heap device named `name`, freed by its destroy op. */
int serial8250_new(const struct serial8250_config *cfg, const char *name,
		   struct serial8250 **out) MUST_CHECK;

/* The host's sink has room again (any thread, takes the lock; not from
 * within out()): a held transmitter becomes empty, THRE/TEMT read 1 and a
 * THR-empty interrupt is raised if IER enables it. No-op when not held. */
void serial8250_tx_space(struct serial8250 *s);

/* Takes up to the free receive FIFO space from buf and returns how many bytes
 * it took; the caller keeps the rest and offers it again after rx_space().
 * Takes nothing in loopback mode (the line input is disconnected then). */
size_t serial8250_receive(struct serial8250 *s, const uint8_t *buf, size_t n);

void serial8250_get_stats(struct serial8250 *s, struct serial8250_stats *out);
void serial8250_save(struct serial8250 *s, struct serial8250_state *st);
/* -EINVAL if st is inconsistent (more bytes than the FIFO holds). Sets the
 * irq line to the restored level. Lenient (masks bits it ignores); the
 * device section's restore is the strict one. */
int serial8250_restore(struct serial8250 *s, const struct serial8250_state *st) MUST_CHECK;

#endif
