/* The 8250/16550A UART model: registers, receive FIFO, interrupt priority and
 * the level interrupt line. See serial8250.h for the threading rules. */
#include "devices/serial8250.h"

#include <errno.h>
#include <string.h>

#include "devices/serial8250_priv.h"

/* With no modem attached the lines read as a cable that is ready. */
#define MSR_IDLE (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

static int fifo_enabled(const struct serial8250 *s)
{
	return s->r.fcr & UART_FCR_ENABLE;
}

/* Without FIFOs the 8250 has a single receive holding register. */
unsigned int serial8250_rx_capacity(uint8_t fcr)
{
	return (fcr & UART_FCR_ENABLE) ? SERIAL8250_FIFO_SIZE : 1;
}

static unsigned int rx_trigger(const struct serial8250 *s)
{
	static const uint8_t levels[4] = {1, 4, 8, 14};

	return levels[s->r.fcr >> 6];
}

static int rx_push(struct serial8250 *s, uint8_t b)
{
	if (s->r.rx_count >= serial8250_rx_capacity(s->r.fcr))
		return -1;
	/* rx_head and rx_count stay below SERIAL8250_FIFO_SIZE (a power of
	 * two), checked just above. */
	s->r.rx[(s->rx_head + s->r.rx_count) % SERIAL8250_FIFO_SIZE] = b;
	s->r.rx_count++;
	return 0;
}

static uint8_t rx_pop(struct serial8250 *s)
{
	uint8_t b = s->r.rx[s->rx_head];

	s->rx_head = (uint8_t)((s->rx_head + 1) % SERIAL8250_FIFO_SIZE);
	s->r.rx_count--;
	return b;
}

static void rx_clear(struct serial8250 *s)
{
	s->rx_head = 0;
	s->r.rx_count = 0;
}

static uint8_t lsr_value(const struct serial8250 *s)
{
	uint8_t v = (uint8_t)(s->r.lsr & UART_LSR_ERR_BITS);

	if (!s->r.tx_held)
		v |= UART_LSR_THRE | UART_LSR_TEMT;
	if (s->r.rx_count)
		v |= UART_LSR_DR;
	return v;
}

/* The highest-priority pending interrupt, as IIR bits 3:0. */
static uint8_t iir_source(const struct serial8250 *s)
{
	uint8_t ier = s->r.ier;

	if ((ier & UART_IER_ELSI) && (s->r.lsr & UART_LSR_ERR_BITS))
		return UART_IIR_RLSI;
	if ((ier & UART_IER_ERBFI) && s->r.rx_count) {
		if (!fifo_enabled(s) || s->r.rx_count >= rx_trigger(s))
			return UART_IIR_RDI;
		/* Data below the trigger level: a real 16550 reports a
		 * character timeout after four character times of silence;
		 * kite reports it at once, which a driver cannot tell apart
		 * from a fast line. */
		return UART_IIR_TIMEOUT;
	}
	if ((ier & UART_IER_ETBEI) && s->r.thri_pending)
		return UART_IIR_THRI;
	if ((ier & UART_IER_EDSSI) && (s->r.msr & UART_MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

/* On a PC the UART's INTR pin reaches the PIC through a buffer enabled by
 * MCR.OUT2; drivers set OUT2 to get interrupts. kite gates on the register
 * bit only, so interrupts keep working in loopback when OUT2 is set. */
int serial8250_level(const struct serial8250 *s)
{
	return iir_source(s) != UART_IIR_NO_INT && (s->r.mcr & UART_MCR_OUT2);
}

static void update_irq(struct serial8250 *s)
{
	int level = serial8250_level(s);

	/* Paused: the line stays as it is; resume brings it up to date. */
	if (s->paused)
		return;
	if (level != s->irq_level) {
		s->irq_level = level;
		irq_line_set(&s->cfg.irq, level);
	}
}

uint8_t serial8250_msr_status(uint8_t mcr)
{
	uint8_t st = 0;

	if (!(mcr & UART_MCR_LOOP))
		return MSR_IDLE;
	if (mcr & UART_MCR_DTR)
		st |= UART_MSR_DSR;
	if (mcr & UART_MCR_RTS)
		st |= UART_MSR_CTS;
	if (mcr & UART_MCR_OUT1)
		st |= UART_MSR_RI;
	if (mcr & UART_MCR_OUT2)
		st |= UART_MSR_DCD;
	return st;
}

/* Recomputes the MSR status bits from MCR and latches the delta bits. */
static void msr_update(struct serial8250 *s)
{
	uint8_t old = s->r.msr & SERIAL8250_MSR_STATUS;
	uint8_t st = serial8250_msr_status(s->r.mcr);
	uint8_t chg = old ^ st;
	uint8_t delta = s->r.msr & UART_MSR_DELTAS;

	if (chg & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (chg & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if (chg & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	if ((old & UART_MSR_RI) && !(st & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	s->r.msr = delta | st;
}

/* Returns nonzero when the caller should invoke rx_space() after unlocking:
 * input was refused earlier and the guest has now emptied the FIFO. */
static int rx_space_due(struct serial8250 *s)
{
	if (!s->rx_blocked || s->r.rx_count || (s->r.mcr & UART_MCR_LOOP))
		return 0;
	s->rx_blocked = 0;
	return s->cfg.rx_space != NULL;
}

static void transmit(struct serial8250 *s, uint8_t v)
{
	/* Writing THR acknowledges a THR-empty interrupt; the line drops
	 * before the byte "leaves", which gives edge-triggered interrupt
	 * controllers a fresh edge when THR empties again just below. */
	s->r.thri_pending = 0;
	update_irq(s);
	if (s->r.mcr & UART_MCR_LOOP) {
		if (rx_push(s, v)) {
			/* The 16550 keeps the FIFO and loses the new byte. */
			s->r.lsr |= UART_LSR_OE;
			s->stats.overruns++;
		}
	} else {
		/* A byte written while THRE is 0 still goes to the sink:
		 * a guest that ignores THRE loses nothing that the sink
		 * would not drop anyway. */
		if (s->r.tx_held)
			s->stats.tx_while_held++;
		if (!s->cfg.out(s->cfg.ctx, &v, 1) && !s->r.tx_held) {
			s->r.tx_held = 1;
			s->stats.tx_held++;
		}
		s->stats.tx_bytes++;
	}
	/* THR is empty again at once, unless the sink is full: then it
	 * stays busy until serial8250_tx_space(). */
	if (!s->r.tx_held && (s->r.ier & UART_IER_ETBEI))
		s->r.thri_pending = 1;
}

static uint8_t reg_read(struct serial8250 *s, unsigned int reg)
{
	uint8_t v = 0;
	int dlab = s->r.lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		if (dlab) {
			v = s->r.dll;
		} else if (s->r.rx_count) {
			v = rx_pop(s);
			s->r.rbr = v;
		} else {
			v = s->r.rbr;
		}
		break;
	case UART_IER:
		v = dlab ? s->r.dlm : s->r.ier;
		break;
	case UART_IIR:
		v = iir_source(s);
		/* Reading IIR acknowledges THRI only when it is what the
		 * guest was told about. */
		if (v == UART_IIR_THRI)
			s->r.thri_pending = 0;
		if (fifo_enabled(s))
			v |= UART_IIR_FIFO_ENABLED;
		break;
	case UART_LCR:
		v = s->r.lcr;
		break;
	case UART_MCR:
		v = s->r.mcr;
		break;
	case UART_LSR:
		v = lsr_value(s);
		s->r.lsr &= (uint8_t)~UART_LSR_ERR_BITS;
		break;
	case UART_MSR:
		v = s->r.msr;
		s->r.msr &= (uint8_t)~UART_MSR_DELTAS;
		break;
	case UART_SCR:
		v = s->r.scr;
		break;
	}
	update_irq(s);
	return v;
}

static void fcr_write(struct serial8250 *s, uint8_t v)
{
	/* Switching FIFO mode on or off resets both FIFOs. */
	if ((v ^ s->r.fcr) & UART_FCR_ENABLE)
		rx_clear(s);
	if (v & UART_FCR_ENABLE) {
		if (v & UART_FCR_CLEAR_RCVR)
			rx_clear(s);
		/* CLEAR_XMIT: the transmitter never holds bytes (a held
		 * transmitter is the host's sink being full, which no
		 * register write changes). */
		s->r.fcr = v & SERIAL8250_FCR_KEPT;
	} else {
		/* The other FCR bits are ignored unless bit 0 is set. */
		s->r.fcr = 0;
	}
}

static void reg_write(struct serial8250 *s, unsigned int reg, uint8_t v)
{
	int dlab = s->r.lcr & UART_LCR_DLAB;
	uint8_t old;

	switch (reg) {
	case UART_THR:
		if (dlab)
			s->r.dll = v;
		else
			transmit(s, v);
		break;
	case UART_IER:
		if (dlab) {
			s->r.dlm = v;
			break;
		}
		old = s->r.ier;
		s->r.ier = v & 0x0f;
		/* With THR empty, enabling ETBEI raises THRI at once, as on
		 * the 16550; disabling it forgets it. */
		if ((s->r.ier & UART_IER_ETBEI) && !(old & UART_IER_ETBEI) && !s->r.tx_held)
			s->r.thri_pending = 1;
		else if (!(s->r.ier & UART_IER_ETBEI))
			s->r.thri_pending = 0;
		break;
	case UART_FCR:
		fcr_write(s, v);
		break;
	case UART_LCR:
		/* The break bit (6) is stored; no break is ever received. */
		s->r.lcr = v;
		break;
	case UART_MCR:
		s->r.mcr = v & 0x1f;
		msr_update(s);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Factory-test writes on real parts; ignored. */
		break;
	case UART_SCR:
		s->r.scr = v;
		break;
	}
	update_irq(s);
}

/* Registers are one byte wide. A wider access acts on the one register at
 * `offset` using the low byte; the upper bytes of a read are 0 and of a
 * write are ignored (PC chipsets would split the access across neighbouring
 * registers, which no driver relies on). */
static void serial_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct serial8250 *s = opaque;
	int notify;

	memset(data, 0, len);
	/* GUEST: offset < SERIAL8250_NR_PORTS is checked here; the bus has
	 * already bounded offset + len by the registered range length. */
	if (offset >= SERIAL8250_NR_PORTS || len == 0) {
		if (len)
			data[0] = 0xff;
		return;
	}
	pthread_mutex_lock(&s->lock);
	data[0] = reg_read(s, (unsigned int)offset);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	if (notify)
		s->cfg.rx_space(s->cfg.ctx);
}

static void serial_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct serial8250 *s = opaque;
	int notify;

	/* GUEST: offset < SERIAL8250_NR_PORTS is checked here. */
	if (offset >= SERIAL8250_NR_PORTS || len == 0)
		return;
	pthread_mutex_lock(&s->lock);
	reg_write(s, (unsigned int)offset, data[0]);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	if (notify)
		s->cfg.rx_space(s->cfg.ctx);
}

const struct bus_ops serial8250_ops = {
	.read = serial_read,
	.write = serial_write,
};

int serial8250_init(struct serial8250 *s, const struct serial8250_config *cfg)
{
	int err;

	if (!cfg || !cfg->out)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	err = pthread_mutex_init(&s->lock, NULL);
	if (err)
		return -err;
	s->cfg = *cfg;
	s->r.msr = MSR_IDLE;
	/* 9600 baud, what firmware leaves behind; the value has no effect. */
	s->r.dll = 12;
	return 0;
}

void serial8250_free(struct serial8250 *s)
{
	pthread_mutex_destroy(&s->lock);
}

size_t serial8250_receive(struct serial8250 *s, const uint8_t *buf, size_t n)
{
	size_t took = 0;

	pthread_mutex_lock(&s->lock);
	/* Paused: nothing is taken; the caller is told at resume. */
	if (!(s->r.mcr & UART_MCR_LOOP) && !s->paused) {
		while (took < n && rx_push(s, buf[took]) == 0)
			took++;
	}
	s->stats.rx_bytes += took;
	if (took < n)
		s->rx_blocked = 1;
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return took;
}

void serial8250_get_stats(struct serial8250 *s, struct serial8250_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	pthread_mutex_unlock(&s->lock);
}

void serial8250_save_locked(const struct serial8250 *s, struct serial8250_state *st)
{
	unsigned int i;

	*st = s->r;
	st->lsr = lsr_value(s);
	memset(st->rx, 0, sizeof(st->rx));
	for (i = 0; i < s->r.rx_count; i++)
		st->rx[i] = s->r.rx[(s->rx_head + i) % SERIAL8250_FIFO_SIZE];
}

void serial8250_save(struct serial8250 *s, struct serial8250_state *st)
{
	pthread_mutex_lock(&s->lock);
	serial8250_save_locked(s, st);
	pthread_mutex_unlock(&s->lock);
}

int serial8250_restore(struct serial8250 *s, const struct serial8250_state *st)
{
	int notify;

	/* Snapshot files are untrusted input too. */
	if (st->rx_count > serial8250_rx_capacity(st->fcr))
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	serial8250_load(s, st);
	update_irq(s);
	notify = rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	if (notify)
		s->cfg.rx_space(s->cfg.ctx);
	return 0;
}

void serial8250_load(struct serial8250 *s, const struct serial8250_state *st)
{
	s->r = *st;
	s->rx_head = 0;
	s->r.ier &= 0x0f;
	s->r.mcr &= 0x1f;
	s->r.fcr &= SERIAL8250_FCR_KEPT;
	if (!(s->r.fcr & UART_FCR_ENABLE))
		s->r.fcr = 0;
	s->r.lsr &= UART_LSR_ERR_BITS;
	s->r.msr = (uint8_t)((st->msr & UART_MSR_DELTAS) | serial8250_msr_status(s->r.mcr));
	s->r.tx_held = !!st->tx_held;
	s->r.thri_pending = st->thri_pending && !s->r.tx_held;
}

void serial8250_tx_space(struct serial8250 *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->r.tx_held) {
		/* THR empties: the usual THRI rule for an empty THR. */
		s->r.tx_held = 0;
		if (s->r.ier & UART_IER_ETBEI)
			s->r.thri_pending = 1;
		update_irq(s);
	}
	pthread_mutex_unlock(&s->lock);
}

void serial8250_pause(struct serial8250 *s)
{
	pthread_mutex_lock(&s->lock);
	s->paused = true;
	pthread_mutex_unlock(&s->lock);
}

void serial8250_resume(struct serial8250 *s)
{
	int level, notify = 0;

	pthread_mutex_lock(&s->lock);
	s->paused = false;
	level = serial8250_level(s);
	/* A high line is asserted again: after a restore the interrupt
	 * controller may never have seen it (a repeat is harmless on a
	 * level line). A line the state says is low is lowered. */
	if (level || s->irq_level)
		irq_line_set(&s->cfg.irq, level);
	s->irq_level = level;
	/* Input refused while paused is offered again if there is room. */
	if (s->rx_blocked && !(s->r.mcr & UART_MCR_LOOP) &&
	    s->r.rx_count < serial8250_rx_capacity(s->r.fcr)) {
		s->rx_blocked = 0;
		notify = s->cfg.rx_space != NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (notify)
		s->cfg.rx_space(s->cfg.ctx);
}
