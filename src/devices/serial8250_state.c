/* The UART as a struct device: constructor, pause/resume, its state section
 * and its counters. The section (version 1) is
 *   u8 ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr, rbr, thri_pending,
 *   u8 rx_count, u8 rx[16] (oldest first, unused bytes 0), u8 tx_held,
 *   u8 irq level
 * and restore accepts only what the device itself could have written: any
 * other value would be a state that no sequence of guest accesses reaches,
 * whose behaviour nobody has tested. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/serial8250.h"
#include "devices/serial8250_priv.h"

#define LSR_SAVED (UART_LSR_ERR_BITS | UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR)

static struct serial8250 *to_uart(const struct device *d)
{
	return container_of(d, struct serial8250, dev);
}

static void uart_destroy(struct device *d)
{
	struct serial8250 *s = to_uart(d);

	serial8250_free(s);
	free(s);
}

static int uart_pause(struct device *d)
{
	serial8250_pause(to_uart(d));
	return 0;
}

static void uart_resume(struct device *d)
{
	serial8250_resume(to_uart(d));
}

static int uart_save(const struct device *d, struct state_buf *out)
{
	struct serial8250 *s = to_uart(d);
	struct serial8250_state st;
	int level;

	/* One critical section: tx_space() may come from the event loop
	 * while paused, and the level must match the registers saved. */
	pthread_mutex_lock(&s->lock);
	serial8250_save_locked(s, &st);
	/* The level the state implies, not the one last given to the line
	 * (a tx_space() while paused may have changed it). */
	level = serial8250_level(s);
	pthread_mutex_unlock(&s->lock);
	state_put_u8(out, st.ier);
	state_put_u8(out, st.lcr);
	state_put_u8(out, st.mcr);
	state_put_u8(out, st.lsr);
	state_put_u8(out, st.msr);
	state_put_u8(out, st.scr);
	state_put_u8(out, st.dll);
	state_put_u8(out, st.dlm);
	state_put_u8(out, st.fcr);
	state_put_u8(out, st.rbr);
	state_put_u8(out, st.thri_pending);
	state_put_u8(out, st.rx_count);
	state_put_bytes(out, st.rx, sizeof(st.rx));
	state_put_u8(out, st.tx_held);
	state_put_u8(out, (uint8_t)level);
	return 0;
}

/* Checks a state against what the registers can hold; returns ok. */
static bool check_state(struct state_reader *in, const struct serial8250_state *st)
{
	uint8_t lsr_derived = 0;
	unsigned int i;

	if (!state_check(in, !(st->ier & ~0x0f), "ier", st->ier) ||
	    !state_check(in, !(st->mcr & ~0x1f), "mcr", st->mcr) ||
	    !state_check(in,
			 !(st->fcr & ~SERIAL8250_FCR_KEPT) &&
				 ((st->fcr & UART_FCR_ENABLE) || st->fcr == 0),
			 "fcr", st->fcr) ||
	    !state_check(in, st->tx_held <= 1, "tx_held", st->tx_held) ||
	    !state_check(in, st->thri_pending <= 1, "thri_pending", st->thri_pending))
		return false;
	/* GUEST (snapshot): rx_count bounds every FIFO index below. */
	if (!state_check(in, st->rx_count <= serial8250_rx_capacity(st->fcr), "rx_count",
			 st->rx_count))
		return false;
	for (i = st->rx_count; i < SERIAL8250_FIFO_SIZE; i++)
		if (!state_check(in, st->rx[i] == 0, "unused rx byte", st->rx[i]))
			return false;
	/* THRI means "THR empty and ETBEI set". */
	if (!state_check(in, !st->thri_pending || ((st->ier & UART_IER_ETBEI) && !st->tx_held),
			 "thri_pending", st->thri_pending))
		return false;
	if (!st->tx_held)
		lsr_derived |= UART_LSR_THRE | UART_LSR_TEMT;
	if (st->rx_count)
		lsr_derived |= UART_LSR_DR;
	if (!state_check(in,
			 !(st->lsr & ~LSR_SAVED) &&
				 (st->lsr & (uint8_t)~UART_LSR_ERR_BITS) == lsr_derived,
			 "lsr", st->lsr))
		return false;
	if (!state_check(in,
			 (st->msr & SERIAL8250_MSR_STATUS) == serial8250_msr_status(st->mcr),
			 "msr", st->msr))
		return false;
	return true;
}

/* The saved level must be the one the registers imply: worked out on a
 * scratch copy (the derivation lives in serial8250.c), so that the device
 * itself is untouched when it does not match. */
static bool check_level(struct state_reader *in, const struct serial8250_state *st,
			uint8_t level)
{
	struct serial8250 tmp;

	memset(&tmp, 0, sizeof(tmp));
	serial8250_load(&tmp, st);
	return state_check(in, level == serial8250_level(&tmp), "irq level", level);
}

static int uart_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	struct serial8250 *s = to_uart(d);
	struct serial8250_state st;
	uint8_t level;

	(void)version; /* 1 is the only one */
	memset(&st, 0, sizeof(st));
	st.ier = state_get_u8(in);
	st.lcr = state_get_u8(in);
	st.mcr = state_get_u8(in);
	st.lsr = state_get_u8(in);
	st.msr = state_get_u8(in);
	st.scr = state_get_u8(in);
	st.dll = state_get_u8(in);
	st.dlm = state_get_u8(in);
	st.fcr = state_get_u8(in);
	st.rbr = state_get_u8(in);
	st.thri_pending = state_get_u8(in);
	st.rx_count = state_get_u8(in);
	state_get_bytes(in, st.rx, sizeof(st.rx));
	st.tx_held = state_get_u8(in);
	level = state_get_u8(in);
	/* state_end here too: an oversized section must leave the device
	 * as it was, and the caller only looks for leftovers afterwards. */
	if (in->err || !check_state(in, &st) || !check_level(in, &st, level) ||
	    state_end(in, NULL, 0))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	serial8250_load(s, &st);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void uart_stats(struct device *d, struct device_stats *out)
{
	struct serial8250_stats st;

	serial8250_get_stats(to_uart(d), &st);
	device_stat(out, "tx_bytes", st.tx_bytes);
	device_stat(out, "rx_bytes", st.rx_bytes);
	device_stat(out, "overruns", st.overruns);
	device_stat(out, "tx_held", st.tx_held);
	device_stat(out, "tx_while_held", st.tx_while_held);
}

const struct device_ops serial8250_device_ops = {
	.kind = "serial8250",
	.state_version = 1,
	.destroy = uart_destroy,
	.pause = uart_pause,
	.resume = uart_resume,
	.save = uart_save,
	.restore = uart_restore,
	.stats = uart_stats,
};

int serial8250_new(const struct serial8250_config *cfg, const char *name,
		   struct serial8250 **out)
{
	struct serial8250 *s = calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	rc = serial8250_init(s, cfg);
	if (rc) {
		free(s);
		return rc;
	}
	device_init(&s->dev, &serial8250_device_ops, name);
	*out = s;
	return 0;
}
