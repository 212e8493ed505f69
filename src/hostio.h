/* The host side of the guest console, and the signals that stop kite. Owned
 * by main and kept across machine restarts (--on-reboot restart): it opens
 * its host resources once (--serial-out, the --console-socket listener, the
 * signalfd) and attaches to each machine's event loop in turn.
 *
 * Output. Every console device (the UART, virtio-console) hands its bytes to
 * hostio_write() from whatever thread it runs on; they go into one buffer
 * that the event-loop thread alone drains to stdout, --serial-out or the
 * socket client, never blocking (it waits for EPOLLOUT instead). So a slow
 * or stuck reader never blocks a vCPU thread, and a stop is never held up by
 * one. Above a high-water mark hostio_write() returns false: the device then
 * holds its transmitter (the UART clears THRE, virtio-console leaves chains
 * in its ring) until the buffer drains below the low-water mark and the
 * space callbacks run. A guest that ignores that loses what does not fit
 * the hard limit (counted).
 *
 * Input. Host stdin (or the socket client) goes through the Ctrl-A escape
 * filter to the device that is the console, with backpressure: nothing is
 * read that the device cannot take, and what was read but not taken when a
 * machine goes away is offered to the next one. */
#ifndef KITE_HOSTIO_H
#define KITE_HOSTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "evloop.h"
#include "vm_event.h"

#define HOSTIO_OUT_HIGH (256u << 10) /* devices hold their transmitters above */
#define HOSTIO_OUT_LOW (64u << 10)   /* ... and resume below */
#define HOSTIO_OUT_MAX (1u << 20)    /* beyond this, output is dropped */

struct hostio;

struct hostio_opts {
	const char *serial_out;     /* file for guest output, or NULL: stdout */
	const char *console_socket; /* Unix socket for the console, or NULL */
};

struct hostio_stats {
	uint64_t out_bytes;     /* written to the host */
	uint64_t out_dropped;   /* lost: reader gone, or the hard limit hit */
	uint64_t out_held;      /* times hostio_write asked a device to wait */
	uint64_t in_bytes;      /* delivered to the console device */
};

/* Blocks SIGINT/SIGTERM/SIGHUP for every thread created later (call before
 * any) and opens the host resources. err gets one line. */
int hostio_open(struct hostio **out, const struct hostio_opts *o, char *err,
		size_t errlen) MUST_CHECK;
/* Restores the terminal, removes the socket file, closes everything. */
void hostio_close(struct hostio *h);
/* The --console-socket file stays at close (api_server_keep_file). */
void hostio_keep_socket_file(struct hostio *h);

/* The process's event loop: signals and Ctrl-A x stop kite through `stop`;
 * input and output are served there. Once, before the first machine. */
int hostio_attach(struct hostio *h, struct evloop *ev, const struct vm_stopper *stop,
		  char *err, size_t errlen) MUST_CHECK;
/* Undoes hostio_attach (the loop is about to go). */
void hostio_detach(struct hostio *h);
/* A machine is going away (the loop does not run): its devices stop being
 * the console (no input target, no space callbacks) and a console-socket
 * client is closed (it reconnects to the next machine). Unread input and
 * unwritten output stay for the next machine. */
void hostio_machine_gone(struct hostio *h);
/* Writes what is still buffered, waiting for the reader at most timeout_ms
 * (0: only what can be written without waiting). Main thread, no loop. */
void hostio_flush(struct hostio *h, int timeout_ms);

/* Guest output, any thread. Returns true while there is room for more. */
bool hostio_write(struct hostio *h, const uint8_t *buf, size_t n);
/* A device that holds its transmitter when hostio_write returns false gets
 * fn(ctx) once the buffer has drained (event-loop thread). At most
 * HOSTIO_MAX_PRODUCERS. */
#define HOSTIO_MAX_PRODUCERS 4
int hostio_on_space(struct hostio *h, void (*fn)(void *ctx), void *ctx) MUST_CHECK;
/* Removes every space callback (the machine's devices are going away). */
void hostio_clear_producers(struct hostio *h);

/* Where host input goes: receive returns how many bytes the device took.
 * The device calls hostio_rx_space (any thread, no device lock needed)
 * once it has room again after taking less than offered. */
void hostio_set_input(struct hostio *h, size_t (*receive)(void *dev, const uint8_t *buf, size_t n),
		      void *dev);
void hostio_rx_space(void *h);

void hostio_get_stats(struct hostio *h, struct hostio_stats *s);

#endif
