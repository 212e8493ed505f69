/* libFuzzer target for the legacy devices' restore (and the VM generation
 * ID's, which lives with them on the board). The first byte picks a
 * device (low bits) and what the rest is (top bits): a whole framed section,
 * only its payload (the harness frames it for that device), or (offset,
 * value) byte pairs patched into a fresh device's own payload, so that the
 * fuzzer spends its time near states that are almost valid. Checks: a refused section leaves the
 * device exactly as it was; an accepted one saves back byte for byte (only
 * canonical states are accepted); the device then survives resume and
 * guest accesses, timer ticks and host input, and the state it ends up in
 * is accepted by a fresh instance again. The VM generation ID is the one
 * device that does not save back what it restored: an accepted section
 * saves back with the same address and a new ID, the guest's memory holds
 * that ID, and resume raises exactly one edge. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/serial8250.h"
#include "devices/vmgenid.h"
#include "guest_mem.h"

#define NR_KINDS 7
#define KIND_VMGENID 6
#define GEN_GSI 13
#define GEN_GPA 0x1008u

static struct timespec fnow;
static int uart_room;
static uint8_t gen_ram[0x2000];
static struct guest_mem gen_gm;
static int gen_edges, gen_level;

static void f_irq(void *ctx, unsigned int gsi, int level)
{
	(void)ctx;
	if (level != 0 && level != 1)
		abort();
	if (gsi == GEN_GSI) {
		gen_edges += level && !gen_level;
		gen_level = level;
	}
}

static void f_stop(void *ctx, enum vm_stop_reason r, int status)
{
	(void)ctx;
	(void)r;
	(void)status;
}

static bool f_out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	(void)n;
	return uart_room;
}

static void f_now(void *ctx, struct timespec *ts)
{
	(void)ctx;
	*ts = fnow;
}

static void f_arm(void *ctx, const struct timespec *dl)
{
	(void)ctx;
	/* Always strictly in the future of the clock it was armed on. */
	if (dl && !(dl->tv_sec > fnow.tv_sec ||
		    (dl->tv_sec == fnow.tv_sec && dl->tv_nsec > fnow.tv_nsec)))
		abort();
	if (dl && (dl->tv_nsec < 0 || dl->tv_nsec >= 1000000000L))
		abort();
}

static void f_mark(void *ctx, uint32_t v)
{
	(void)ctx;
	(void)v;
}

static struct device *make(unsigned int kind)
{
	static const struct vm_stopper stopper = {.fn = f_stop};
	struct serial8250_config uc = {.irq = {.set = f_irq, .gsi = 4}, .out = f_out};
	struct i8042_config kc = {.stopper = stopper,
				  .kbd_irq = {.set = f_irq, .gsi = 1},
				  .aux_irq = {.set = f_irq, .gsi = 12}};
	struct rtc_cmos_config rc = {
		.now = f_now, .timer_arm = f_arm, .irq = {.set = f_irq, .gsi = 8}};
	struct serial8250 *s;
	struct i8042 *k;
	struct rtc_cmos *r;
	struct acpi_pm *pm;
	struct boot_timer *bt;
	struct debug_exit *de;
	struct vmgenid_config gc = {
		.gm = &gen_gm, .gpa = GEN_GPA, .irq = {.set = f_irq, .gsi = GEN_GSI}};
	struct vmgenid *g;

	switch (kind) {
	case 0:
		return serial8250_new(&uc, "serial0", &s) ? NULL : &s->dev;
	case 1:
		return i8042_new(&kc, "i8042", &k) ? NULL : &k->dev;
	case 2:
		return rtc_cmos_new(&rc, "rtc0", &r) ? NULL : &r->dev;
	case 3:
		return acpi_pm_new(&stopper, "acpi_pm", &pm) ? NULL : &pm->dev;
	case 4:
		return boot_timer_new(f_mark, NULL, "boot_timer", &bt) ? NULL : &bt->dev;
	case KIND_VMGENID:
		return vmgenid_new(&gc, "vmgenid0", &g) ? NULL : &g->dev;
	default:
		return debug_exit_new(&stopper, "debug_exit", &de) ? NULL : &de->dev;
	}
}

static void pause_dev(struct device *d)
{
	if (!d->paused && d->ops->pause(d))
		abort();
	d->paused = true;
}

static void save(struct device *d, struct state_buf *b)
{
	state_buf_init(b);
	pause_dev(d);
	if (device_save_one(d, b) || b->err)
		abort();
}

static void same(const struct state_buf *a, const uint8_t *p, size_t n)
{
	if (a->len != n || memcmp(a->data, p, n))
		abort();
}

/* The guest reads the device's current ID. */
static void guest_has_id(struct device *d)
{
	const struct vmgenid *g = container_of(d, struct vmgenid, dev);

	if (memcmp(gen_ram + GEN_GPA, g->id, VMGENID_SIZE))
		abort();
}

/* A restore of the VM generation ID keeps the address and never the ID. */
static void new_generation(struct device *d, const struct state_buf *a, const uint8_t *p,
			   size_t n)
{
	if (a->len != n || n < VMGENID_SIZE ||
	    memcmp(a->data, p, n - VMGENID_SIZE) ||
	    !memcmp(a->data + n - VMGENID_SIZE, p + n - VMGENID_SIZE, VMGENID_SIZE))
		abort();
	guest_has_id(d);
}

/* Guest accesses, ticks and host input driven by the input bytes. */
static void exercise(unsigned int kind, struct device *d, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n && i < 256; i += 2) {
		uint8_t op = p[i], v = p[i + 1];
		uint8_t buf[4] = {v, 0, 0, 0};
		int w = op & 1;

		switch (kind) {
		case 0: {
			struct serial8250 *s = container_of(d, struct serial8250, dev);

			if ((op & 0x30) == 0x30) {
				serial8250_tx_space(s);
			} else if ((op & 0x30) == 0x20) {
				if (serial8250_receive(s, buf, 1 + (v & 1)) > 2)
					abort();
			} else if (w) {
				uart_room = !(op & 0x40);
				serial8250_ops.write(s, (op >> 1) & 7, buf, 1);
			} else {
				serial8250_ops.read(s, (op >> 1) & 7, buf, 1);
			}
			break;
		}
		case 1: {
			struct i8042 *k = container_of(d, struct i8042, dev);
			const struct bus_ops *ops = (op & 2) ? &i8042_cmd_ops : &i8042_data_ops;

			if (w)
				ops->write(k, 0, buf, 1);
			else
				ops->read(k, 0, buf, 1);
			break;
		}
		case 2: {
			struct rtc_cmos *r = container_of(d, struct rtc_cmos, dev);

			if ((op & 6) == 6) {
				fnow.tv_nsec += (long)v * 3906250L;
				while (fnow.tv_nsec >= 1000000000L) {
					fnow.tv_nsec -= 1000000000L;
					fnow.tv_sec++;
				}
				rtc_cmos_tick(r);
			} else if (w) {
				rtc_cmos_ops.write(r, (op >> 1) & 1, buf, 1);
			} else {
				rtc_cmos_ops.read(r, 1, buf, 1);
			}
			break;
		}
		case 3:
			if (w)
				acpi_pm_ops.write(container_of(d, struct acpi_pm, dev), (op >> 1) & 3,
						  buf, 1);
			break;
		case 4:
			boot_timer_ops.write(container_of(d, struct boot_timer, dev), 0, buf, 4);
			break;
		case KIND_VMGENID:
			if (w && vmgenid_regenerate(d))
				abort();
			break;
		default:
			debug_exit_ops.write(container_of(d, struct debug_exit, dev), 0, buf, 1);
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_buf before, after, framed;
	struct device_list list;
	struct device *d, *fresh;
	unsigned int kind;
	const uint8_t *sec;
	size_t sec_len;
	char err[200];

	if (size < 1)
		return 0;
	kind = (data[0] & 0x3f) % NR_KINDS;
	fnow = (struct timespec){.tv_sec = 1709214307, .tv_nsec = 500000000};
	uart_room = 1;
	gm_init_wrap(&gen_gm, gen_ram, sizeof(gen_ram));
	gen_level = 0;
	d = make(kind);
	if (!d)
		abort();
	state_buf_init(&framed);
	save(d, &before);
	if (data[0] & 0x80) {
		sec = data + 1;
		sec_len = size - 1;
	} else if (data[0] & 0x40) {
		size_t po = 1 + strlen(d->name) + 8, plen = before.len - po;

		state_put_bytes(&framed, before.data, before.len);
		if (framed.err)
			abort();
		/* GUEST (fuzz input): offsets are reduced modulo the payload. */
		for (size_t i = 1; plen && i + 1 < size; i += 2)
			framed.data[po + data[i] % plen] = data[i + 1];
		sec = framed.data;
		sec_len = framed.len;
	} else {
		size_t n = strlen(d->name);

		state_put_u8(&framed, (uint8_t)n);
		state_put_bytes(&framed, d->name, n);
		state_put_u32(&framed, d->ops->state_version);
		state_put_u32(&framed, (uint32_t)(size - 1));
		state_put_bytes(&framed, data + 1, size - 1);
		if (framed.err)
			abort();
		sec = framed.data;
		sec_len = framed.len;
	}
	err[0] = 0;
	if (device_restore_one(d, sec, sec_len, err, sizeof(err))) {
		if (!err[0])
			abort();
		save(d, &after); /* refused: unchanged */
		same(&after, before.data, before.len);
		if (kind == KIND_VMGENID)
			guest_has_id(d);
		goto out;
	}
	save(d, &after); /* accepted: canonical */
	if (kind == KIND_VMGENID)
		new_generation(d, &after, sec, sec_len);
	else
		same(&after, sec, sec_len);
	device_list_init(&list);
	if (device_list_add(&list, d))
		abort();
	gen_edges = 0;
	device_list_resume(&list);
	if (kind == KIND_VMGENID && (gen_edges != 1 || gen_level))
		abort();
	exercise(kind, d, data + 1, size - 1);
	if (device_list_pause(&list))
		abort();
	state_buf_free(&after);
	save(d, &after);
	/* Whatever it reached from an accepted state is accepted again. */
	fresh = make(kind);
	if (!fresh || device_restore_one(fresh, after.data, after.len, err, sizeof(err)))
		abort();
	fresh->ops->destroy(fresh);
	device_list_destroy(&list);
	d = NULL;
out:
	if (d)
		d->ops->destroy(d);
	state_buf_free(&before);
	state_buf_free(&after);
	state_buf_free(&framed);
	return 0;
}
