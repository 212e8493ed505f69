/* The i8042 controller: command decoding, the output buffer and its
 * interrupts, and the reset line. See i8042.h for what is modelled. */
#include "devices/i8042.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CTR(k) ((k)->ram[0])
/* Input port (command 0xC0): bit 7 set means the keyboard is not inhibited. */
#define INPUT_PORT 0x80
/* Self-test and interface-test answers. */
#define SELFTEST_OK 0x55
#define IFTEST_OK 0x00
/* What the controller returns when a device does not answer. */
#define NO_DEVICE 0xfe

static void out_push(struct i8042 *k, uint8_t byte, uint8_t status)
{
	if (k->out_count >= I8042_OUTQ_SIZE) {
		/* A guest issuing commands without reading the answers. */
		log_guest("i8042", "output buffer full, byte %#x dropped", byte);
		k->stats.out_dropped++;
		return;
	}
	k->stats.out_bytes++;
	k->outq[(k->out_head + k->out_count) % I8042_OUTQ_SIZE] =
		(struct i8042_out){.byte = byte, .status = status};
	k->out_count++;
}

static void set_line(const struct i8042 *k, const struct irq_line *l, int *cur, int level)
{
	/* Paused: the lines stay as they are; resume brings them up to date. */
	if (k->paused)
		return;
	if (*cur != level) {
		*cur = level;
		irq_line_set(l, level);
	}
}

/* The byte at the head of the output buffer drives IRQ 1 or IRQ 12 if the
 * CTR enables that port's interrupt. */
static void levels_of(const struct i8042 *k, int *kbd, int *aux)
{
	*kbd = *aux = 0;
	if (k->out_count) {
		if (k->outq[k->out_head].status & I8042_STR_AUXDATA)
			*aux = !!(CTR(k) & I8042_CTR_AUXINT);
		else
			*kbd = !!(CTR(k) & I8042_CTR_KBDINT);
	}
}

static void update_irq(struct i8042 *k)
{
	int kbd, aux;

	levels_of(k, &kbd, &aux);
	set_line(k, &k->cfg.kbd_irq, &k->kbd_level, kbd);
	set_line(k, &k->cfg.aux_irq, &k->aux_level, aux);
}

static uint8_t status_read(const struct i8042 *k)
{
	uint8_t st = I8042_STR_KEYLOCK;

	if (CTR(k) & I8042_CTR_SYS)
		st |= I8042_STR_SYS;
	if (k->last_was_cmd)
		st |= I8042_STR_CMDDAT;
	if (k->out_count)
		st |= I8042_STR_OBF | k->outq[k->out_head].status;
	return st;
}

static uint8_t data_read(struct i8042 *k)
{
	if (!k->out_count)
		return k->last_data;
	k->last_data = k->outq[k->out_head].byte;
	k->out_head = (uint8_t)((k->out_head + 1) % I8042_OUTQ_SIZE);
	k->out_count--;
	/* OBF drops when the byte is read and rises again when the next one
	 * is loaded: a fresh edge for the edge-triggered PC interrupt. */
	set_line(k, &k->cfg.kbd_irq, &k->kbd_level, 0);
	set_line(k, &k->cfg.aux_irq, &k->aux_level, 0);
	update_irq(k);
	return k->last_data;
}

/* Returns nonzero when the guest pulsed the reset line. */
static int command(struct i8042 *k, uint8_t cmd)
{
	k->pending_cmd = 0;
	if (cmd >= 0x20 && cmd <= 0x3f) { /* read controller RAM */
		/* GUEST: cmd & 0x1f < ARRAY_SIZE(ram) == 32. */
		out_push(k, k->ram[cmd & 0x1f], 0);
		return 0;
	}
	if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
		k->pending_cmd = cmd; /* the data byte follows on port 0x60 */
		return 0;
	}
	if (cmd >= 0xf0) /* pulse output lines; bit 0 clear pulses reset */
		return !(cmd & 1);
	switch (cmd) {
	case 0xa7:
		CTR(k) |= I8042_CTR_AUXDIS;
		break;
	case 0xa8:
		CTR(k) &= (uint8_t)~I8042_CTR_AUXDIS;
		break;
	case 0xa9: /* AUX interface test */
	case 0xab: /* keyboard interface test */
		out_push(k, IFTEST_OK, 0);
		break;
	case 0xaa:
		CTR(k) |= I8042_CTR_SYS;
		out_push(k, SELFTEST_OK, 0);
		break;
	case 0xad:
		CTR(k) |= I8042_CTR_KBDDIS;
		break;
	case 0xae:
		CTR(k) &= (uint8_t)~I8042_CTR_KBDDIS;
		break;
	case 0xc0:
		out_push(k, INPUT_PORT, 0);
		break;
	case 0xd0:
		out_push(k, k->outport, 0);
		break;
	case 0xdd: /* A20 off/on: KVM has no A20 gate; only the bit moves */
		k->outport &= (uint8_t)~0x02;
		break;
	case 0xdf:
		k->outport |= 0x02;
		break;
	case 0xe0: /* test inputs */
		out_push(k, 0, 0);
		break;
	default:
		log_guest("i8042", "unhandled command %#x", cmd);
		break;
	}
	return 0;
}

/* A byte on port 0x60: the parameter of a pending command, or else a byte
 * for the keyboard. Returns nonzero when the reset line was pulled. */
static int data_write(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	if (cmd >= 0x60 && cmd <= 0x7f) {
		/* GUEST: cmd & 0x1f < ARRAY_SIZE(ram) == 32. */
		k->ram[cmd & 0x1f] = v;
		return 0;
	}
	switch (cmd) {
	case 0xd1: /* write output port; bit 0 is the CPU reset line */
		k->outport = v;
		return !(v & 1);
	case 0xd2:
		out_push(k, v, 0);
		break;
	case 0xd3:
		out_push(k, v, I8042_STR_AUXDATA);
		break;
	case 0xd4: /* to the mouse, which is not there */
		out_push(k, NO_DEVICE, I8042_STR_AUXDATA | I8042_STR_TIMEOUT);
		break;
	default: /* to the keyboard, which is not there */
		out_push(k, NO_DEVICE, I8042_STR_TIMEOUT);
		break;
	}
	return 0;
}

/* Both ports are one byte wide; a wider access uses the low byte and reads
 * fill the rest with 0xff (the bus only sends len 1 to one-port ranges). */
static void data_port_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;

	(void)offset;
	memset(data, 0xff, len);
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	data[0] = data_read(k);
	pthread_mutex_unlock(&k->lock);
}

static void data_port_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	int reset;

	(void)offset;
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	k->last_was_cmd = 0;
	k->stats.data_writes++;
	reset = data_write(k, data[0]);
	k->stats.resets += !!reset;
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	/* Outside the lock: the stopper may wait for other vCPUs. */
	if (reset)
		vm_stopper_fire(&k->cfg.stopper, VM_STOP_RESET, 0);
}

static void cmd_port_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;

	(void)offset;
	memset(data, 0xff, len);
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	data[0] = status_read(k);
	pthread_mutex_unlock(&k->lock);
}

static void cmd_port_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	int reset;

	(void)offset;
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	k->last_was_cmd = 1;
	k->stats.commands++;
	reset = command(k, data[0]);
	k->stats.resets += !!reset;
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		vm_stopper_fire(&k->cfg.stopper, VM_STOP_RESET, 0);
}

const struct bus_ops i8042_data_ops = {
	.read = data_port_read,
	.write = data_port_write,
};

const struct bus_ops i8042_cmd_ops = {
	.read = cmd_port_read,
	.write = cmd_port_write,
};

int i8042_init(struct i8042 *k, const struct i8042_config *cfg)
{
	int err;

	if (!cfg)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	err = pthread_mutex_init(&k->lock, NULL);
	if (err)
		return -err;
	k->cfg = *cfg;
	/* What firmware leaves: POST passed, keyboard interrupt on, scancode
	 * translation on, AUX port disabled. */
	CTR(k) = I8042_CTR_KBDINT | I8042_CTR_SYS | I8042_CTR_XLATE | I8042_CTR_AUXDIS;
	k->outport = 0x03; /* out of reset, A20 on */
	return 0;
}

void i8042_free(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

/* The struct device. Section (version 1):
 *   u8 ram[32], u8 outport, u8 pending_cmd, u8 last_was_cmd, u8 last_data,
 *   u8 out_count, 8 x {u8 byte, u8 status} (oldest first, unused ones 0),
 *   u8 kbd level, u8 aux level */

static struct i8042 *to_kbd(const struct device *d)
{
	return container_of(d, struct i8042, dev);
}

static void kbd_destroy(struct device *d)
{
	struct i8042 *k = to_kbd(d);

	i8042_free(k);
	free(k);
}

int i8042_send_ctrl_alt_del(struct i8042 *k)
{
	/* Make codes only, as Firecracker sends them: Linux reboots on the
	 * Del press while Ctrl and Alt are down. Set 1 when the controller
	 * translates (CTR XLATE, what a PC's firmware leaves), set 2 if not. */
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71};
	const uint8_t *codes;
	int rc = 0;

	pthread_mutex_lock(&k->lock);
	codes = CTR(k) & I8042_CTR_XLATE ? set1 : set2;
	if (k->out_count + sizeof(set1) > I8042_OUTQ_SIZE) {
		rc = -EBUSY; /* the guest has not read what is there yet */
	} else {
		for (size_t i = 0; i < sizeof(set1); i++)
			out_push(k, codes[i], 0);
		update_irq(k);
	}
	pthread_mutex_unlock(&k->lock);
	return rc;
}

static int kbd_pause(struct device *d)
{
	struct i8042 *k = to_kbd(d);

	pthread_mutex_lock(&k->lock);
	k->paused = true;
	pthread_mutex_unlock(&k->lock);
	return 0;
}

/* A high line is asserted again (after a restore the interrupt controller
 * may never have seen it; on an unchanged line it makes no new edge). */
static void reassert(const struct irq_line *l, int *cur, int level)
{
	if (level || *cur)
		irq_line_set(l, level);
	*cur = level;
}

static void kbd_resume(struct device *d)
{
	struct i8042 *k = to_kbd(d);
	int kbd, aux;

	pthread_mutex_lock(&k->lock);
	k->paused = false;
	levels_of(k, &kbd, &aux);
	reassert(&k->cfg.kbd_irq, &k->kbd_level, kbd);
	reassert(&k->cfg.aux_irq, &k->aux_level, aux);
	pthread_mutex_unlock(&k->lock);
}

static int kbd_save(const struct device *d, struct state_buf *out)
{
	struct i8042 *k = to_kbd(d);
	int kbd, aux;

	pthread_mutex_lock(&k->lock);
	state_put_bytes(out, k->ram, sizeof(k->ram));
	state_put_u8(out, k->outport);
	state_put_u8(out, k->pending_cmd);
	state_put_u8(out, k->last_was_cmd);
	state_put_u8(out, k->last_data);
	state_put_u8(out, k->out_count);
	for (unsigned int i = 0; i < I8042_OUTQ_SIZE; i++) {
		struct i8042_out o = {0};

		if (i < k->out_count)
			o = k->outq[(k->out_head + i) % I8042_OUTQ_SIZE];
		state_put_u8(out, o.byte);
		state_put_u8(out, o.status);
	}
	levels_of(k, &kbd, &aux);
	state_put_u8(out, (uint8_t)kbd);
	state_put_u8(out, (uint8_t)aux);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static bool pending_ok(uint8_t cmd)
{
	return cmd == 0 || (cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4);
}

static int kbd_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	struct i8042 *k = to_kbd(d);
	struct i8042 n; /* scratch: checked whole, then copied in */
	uint8_t kbd, aux;
	int want_kbd, want_aux;

	(void)version; /* 1 is the only one */
	memset(&n, 0, sizeof(n));
	state_get_bytes(in, n.ram, sizeof(n.ram));
	n.outport = state_get_u8(in);
	n.pending_cmd = state_get_u8(in);
	n.last_was_cmd = state_get_u8(in);
	n.last_data = state_get_u8(in);
	n.out_count = state_get_u8(in);
	for (unsigned int i = 0; i < I8042_OUTQ_SIZE; i++) {
		n.outq[i].byte = state_get_u8(in);
		n.outq[i].status = state_get_u8(in);
	}
	kbd = state_get_u8(in);
	aux = state_get_u8(in);
	if (in->err)
		return -EINVAL;
	if (!state_check(in, pending_ok(n.pending_cmd), "pending_cmd", n.pending_cmd) ||
	    !state_check(in, n.last_was_cmd <= 1, "last_was_cmd", n.last_was_cmd) ||
	    /* GUEST (snapshot): out_count bounds the output buffer index. */
	    !state_check(in, n.out_count <= I8042_OUTQ_SIZE, "out_count", n.out_count))
		return -EINVAL;
	for (unsigned int i = 0; i < I8042_OUTQ_SIZE; i++) {
		uint8_t st = n.outq[i].status;

		if (i >= n.out_count &&
		    !state_check(in, !n.outq[i].byte && !st, "unused output byte", i))
			return -EINVAL;
		if (!state_check(in, !(st & ~(I8042_STR_AUXDATA | I8042_STR_TIMEOUT)),
				 "output status", st))
			return -EINVAL;
	}
	levels_of(&n, &want_kbd, &want_aux);
	/* state_end: leftovers are refused before anything changes. */
	if (!state_check(in, kbd == want_kbd, "kbd irq level", kbd) ||
	    !state_check(in, aux == want_aux, "aux irq level", aux) || state_end(in, NULL, 0))
		return -EINVAL;
	pthread_mutex_lock(&k->lock);
	memcpy(k->ram, n.ram, sizeof(k->ram));
	k->outport = n.outport;
	k->pending_cmd = n.pending_cmd;
	k->last_was_cmd = n.last_was_cmd;
	k->last_data = n.last_data;
	memcpy(k->outq, n.outq, sizeof(k->outq));
	k->out_head = 0;
	k->out_count = n.out_count;
	/* kbd_level/aux_level are what the lines were given: resume. */
	pthread_mutex_unlock(&k->lock);
	return 0;
}

static void kbd_stats(struct device *d, struct device_stats *out)
{
	struct i8042 *k = to_kbd(d);
	struct i8042_stats st;

	pthread_mutex_lock(&k->lock);
	st = k->stats;
	pthread_mutex_unlock(&k->lock);
	device_stat(out, "commands", st.commands);
	device_stat(out, "data_writes", st.data_writes);
	device_stat(out, "out_bytes", st.out_bytes);
	device_stat(out, "out_dropped", st.out_dropped);
	device_stat(out, "resets", st.resets);
}

const struct device_ops i8042_device_ops = {
	.kind = "i8042",
	.state_version = 1,
	.destroy = kbd_destroy,
	.pause = kbd_pause,
	.resume = kbd_resume,
	.save = kbd_save,
	.restore = kbd_restore,
	.stats = kbd_stats,
};

int i8042_new(const struct i8042_config *cfg, const char *name, struct i8042 **out)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int rc;

	if (!k)
		return -ENOMEM;
	rc = i8042_init(k, cfg);
	if (rc) {
		free(k);
		return rc;
	}
	device_init(&k->dev, &i8042_device_ops, name);
	*out = k;
	return 0;
}
