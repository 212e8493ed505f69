/* The PC's i8042 PS/2 keyboard controller, as much as an OS needs to probe
 * it and to reset the machine through it: the status/command port 0x64, the
 * data port 0x60, the controller command byte, the self and interface tests,
 * the AUX loop-back, and the reset line (command 0xFE, or an output-port
 * write with bit 0 clear) which fires VM_STOP_RESET.
 *
 * Both PS/2 ports exist but nothing is plugged in: a byte sent to the
 * keyboard or (via 0xD4) the mouse is answered by the controller with 0xFE
 * and the time-out status bit, as a real 8042 does, so Linux's atkbd and
 * psmouse probes fail at once instead of waiting for time-outs.
 *
 * The lead registers two one-port bus ranges with the same opaque pointer:
 *   bus_add(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042")
 *   bus_add(pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k, "i8042")
 * Port 0x61 (system control port B) between them is not this device's.
 *
 * As a struct device (i8042_new): it has no host input, so pause only keeps
 * the irq lines where they are; resume re-asserts a high line; the section
 * holds controller RAM, the output port, the pending command and the output
 * buffer. */
#ifndef KITE_DEVICES_I8042_H
#define KITE_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"
#include "vm_event.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register (port 0x64 read). */
#define I8042_STR_OBF 0x01
#define I8042_STR_IBF 0x02
#define I8042_STR_SYS 0x04
#define I8042_STR_CMDDAT 0x08
#define I8042_STR_KEYLOCK 0x10 /* 1: keyboard not inhibited */
#define I8042_STR_AUXDATA 0x20
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Controller command byte (CTR). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

#define I8042_OUTQ_SIZE 8

struct i8042_config {
	struct vm_stopper stopper;
	/* Optional (a NULL set means unwired); edge interrupts on a PC, driven
	 * high while a byte for that port waits in the output buffer. */
	struct irq_line kbd_irq;
	struct irq_line aux_irq;
};

struct i8042_out {
	uint8_t byte;
	uint8_t status; /* I8042_STR_AUXDATA and/or I8042_STR_TIMEOUT */
};

struct i8042_stats {
	uint64_t commands;    /* port 0x64 writes */
	uint64_t data_writes; /* port 0x60 writes */
	uint64_t out_bytes;   /* bytes queued for the guest */
	uint64_t out_dropped; /* ... and lost to a full output buffer */
	uint64_t resets;      /* reset line pulses (VM_STOP_RESET requests) */
};

struct i8042 {
	struct device dev;
	pthread_mutex_t lock;
	struct i8042_config cfg;
	uint8_t ram[32];     /* controller RAM; ram[0] is the CTR */
	uint8_t outport;     /* bit 0: reset line (1 = run), bit 1: A20 */
	uint8_t pending_cmd; /* command waiting for its data byte, 0 if none */
	uint8_t last_was_cmd;
	uint8_t last_data;   /* port 0x60 reads this again when nothing waits */
	struct i8042_out outq[I8042_OUTQ_SIZE];
	uint8_t out_head, out_count;
	int kbd_level, aux_level; /* last given to the lines */
	bool paused;
	struct i8042_stats stats;
};

extern const struct bus_ops i8042_data_ops; /* port 0x60 */
extern const struct bus_ops i8042_cmd_ops;  /* port 0x64 */
extern const struct device_ops i8042_device_ops;

/* Puts Ctrl, Alt and Del key presses in the output buffer with IRQ 1, for
 * the API's SendCtrlAltDel. -EBUSY when the buffer has no room. Any thread. */
int i8042_send_ctrl_alt_del(struct i8042 *k) MUST_CHECK;
int i8042_init(struct i8042 *k, const struct i8042_config *cfg) MUST_CHECK;
void i8042_free(struct i8042 *k);
/* A heap device named `name`, freed by its destroy op. */
int i8042_new(const struct i8042_config *cfg, const char *name, struct i8042 **out) MUST_CHECK;

#endif
