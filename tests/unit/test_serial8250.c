/* Unit tests for the 8250/16550A UART model. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/serial8250.h"

struct fixture {
	struct serial8250 s;
	uint8_t out[256];
	size_t out_len;
	int levels[64]; /* every irq_line_set() call, in order */
	int nr_levels;
	int rx_space_calls;
};

static bool fx_out(void *ctx, const uint8_t *buf, size_t n)
{
	struct fixture *f = ctx;

	assert_true(f->out_len + n <= sizeof(f->out));
	memcpy(f->out + f->out_len, buf, n);
	f->out_len += n;
	return true;
}

static void fx_irq(void *ctx, unsigned int gsi, int level)
{
	struct fixture *f = ctx;

	assert_int_equal(gsi, 4);
	assert_true(f->nr_levels < (int)ARRAY_SIZE(f->levels));
	f->levels[f->nr_levels++] = level;
}

static void fx_rx_space(void *ctx)
{
	struct fixture *f = ctx;

	f->rx_space_calls++;
}

static int setup(void **state)
{
	static struct fixture f;
	struct serial8250_config cfg = {
		.irq = {.set = fx_irq, .ctx = &f, .gsi = 4},
		.out = fx_out,
		.rx_space = fx_rx_space,
		.ctx = &f,
	};

	memset(&f, 0, sizeof(f));
	assert_int_equal(serial8250_init(&f.s, &cfg), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	serial8250_free(&f->s);
	return 0;
}

static uint8_t rd(struct fixture *f, unsigned int reg)
{
	uint8_t v = 0xaa;

	serial8250_ops.read(&f->s, reg, &v, 1);
	return v;
}

static void wr(struct fixture *f, unsigned int reg, uint8_t v)
{
	serial8250_ops.write(&f->s, reg, &v, 1);
}

static int cur_level(const struct fixture *f)
{
	return f->nr_levels ? f->levels[f->nr_levels - 1] : 0;
}

static void feed(struct fixture *f, const char *str)
{
	size_t n = strlen(str);

	assert_int_equal(serial8250_receive(&f->s, (const uint8_t *)str, n), n);
}

static void test_init_and_bad_config(void **state)
{
	struct fixture *f = *state;
	struct serial8250 s2;
	struct serial8250_config cfg = {0};

	assert_int_equal(serial8250_init(&s2, &cfg), -EINVAL);
	assert_int_equal(rd(f, UART_IER), 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(f, UART_LCR), 0);
	assert_int_equal(rd(f, UART_MCR), 0);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	assert_int_equal(f->nr_levels, 0);
}

static void test_scr_and_lcr(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_SCR, 0x5a);
	assert_int_equal(rd(f, UART_SCR), 0x5a);
	wr(f, UART_LCR, 0x1b);
	assert_int_equal(rd(f, UART_LCR), 0x1b);
	/* LSR and MSR ignore writes. */
	wr(f, UART_LSR, 0xff);
	wr(f, UART_MSR, 0xff);
	assert_int_equal(rd(f, UART_LSR), 0x60);
	assert_int_equal(rd(f, UART_MSR), 0xb0);
}

static void test_dlab_switching(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, 0x05);
	wr(f, UART_LCR, UART_LCR_DLAB | 0x03);
	wr(f, UART_DLL, 0x01);
	wr(f, UART_DLM, 0x02);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x02);
	/* DLAB does not transmit and does not touch IER. */
	assert_int_equal(f->out_len, 0);
	wr(f, UART_LCR, 0x03);
	assert_int_equal(rd(f, UART_IER), 0x05);
	wr(f, UART_THR, 'x');
	assert_int_equal(f->out_len, 1);
	wr(f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x02);
}

static void test_ier_mask(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, 0xff);
	assert_int_equal(rd(f, UART_IER), 0x0f);
}

static void test_transmit_and_stats(void **state)
{
	struct fixture *f = *state;
	struct serial8250_stats st;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	wr(f, UART_THR, 'h');
	wr(f, UART_THR, 'i');
	assert_int_equal(f->out_len, 2);
	assert_memory_equal(f->out, "hi", 2);
	assert_int_equal(rd(f, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT),
			 UART_LSR_THRE | UART_LSR_TEMT);
	feed(f, "abc");
	serial8250_get_stats(&f->s, &st);
	assert_int_equal(st.tx_bytes, 2);
	assert_int_equal(st.rx_bytes, 3);
	assert_int_equal(st.overruns, 0);
}

static void test_receive_no_fifo(void **state)
{
	struct fixture *f = *state;
	uint8_t two[2] = {'a', 'b'};

	/* 8250 mode: one holding register. */
	assert_int_equal(serial8250_receive(&f->s, two, 2), 1);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(rd(f, UART_RBR), 'a');
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	/* Empty RBR reads the last byte again. */
	assert_int_equal(rd(f, UART_RBR), 'a');
	assert_int_equal(f->rx_space_calls, 1);
	assert_int_equal(serial8250_receive(&f->s, two + 1, 1), 1);
	assert_int_equal(rd(f, UART_RBR), 'b');
	assert_int_equal(f->rx_space_calls, 1);
}

static void test_fifo_fill_and_overrun(void **state)
{
	struct fixture *f = *state;
	struct serial8250_stats st;
	int i;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_FIFO_ENABLED | UART_IIR_NO_INT);
	wr(f, UART_MCR, UART_MCR_LOOP);
	for (i = 0; i < 16; i++)
		wr(f, UART_THR, (uint8_t)('A' + i));
	assert_int_equal(rd(f, UART_LSR) & (UART_LSR_DR | UART_LSR_OE), UART_LSR_DR);
	wr(f, UART_THR, 'Z');
	assert_int_equal(rd(f, UART_LSR) & (UART_LSR_DR | UART_LSR_OE),
			 UART_LSR_DR | UART_LSR_OE);
	/* Reading LSR cleared OE. */
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_OE, 0);
	serial8250_get_stats(&f->s, &st);
	assert_int_equal(st.overruns, 1);
	assert_int_equal(st.tx_bytes, 0);
	/* The FIFO kept the first 16 bytes and lost the 17th. */
	for (i = 0; i < 16; i++)
		assert_int_equal(rd(f, UART_RBR), 'A' + i);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(f->out_len, 0);
}

static void test_receive_backpressure(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[20];
	int i;

	for (i = 0; i < 20; i++)
		buf[i] = (uint8_t)i;
	wr(f, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(serial8250_receive(&f->s, buf, 20), 16);
	assert_int_equal(serial8250_receive(&f->s, buf + 16, 4), 0);
	assert_int_equal(f->rx_space_calls, 0);
	for (i = 0; i < 15; i++)
		assert_int_equal(rd(f, UART_RBR), i);
	assert_int_equal(f->rx_space_calls, 0);
	assert_int_equal(rd(f, UART_RBR), 15);
	assert_int_equal(f->rx_space_calls, 1);
	/* Only once per refusal. */
	rd(f, UART_RBR);
	assert_int_equal(f->rx_space_calls, 1);
	assert_int_equal(serial8250_receive(&f->s, buf + 16, 4), 4);
	for (i = 16; i < 20; i++)
		assert_int_equal(rd(f, UART_RBR), i);
	assert_int_equal(f->rx_space_calls, 1);

	/* A FIFO clear also makes room. */
	assert_int_equal(serial8250_receive(&f->s, buf, 20), 16);
	wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	assert_int_equal(f->rx_space_calls, 2);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
}

static void test_loopback_refuses_input(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	wr(f, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(serial8250_receive(&f->s, (const uint8_t *)"x", 1), 0);
	wr(f, UART_MCR, 0);
	assert_int_equal(f->rx_space_calls, 1);
	feed(f, "x");
	assert_int_equal(rd(f, UART_RBR), 'x');
}

static void test_fifo_mode_switch_clears(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	feed(f, "abcd");
	wr(f, UART_FCR, 0);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	/* CLEAR_XMIT leaves the receiver alone; CLEAR_RCVR empties it. */
	wr(f, UART_FCR, UART_FCR_ENABLE | 0x80);
	feed(f, "ab");
	wr(f, UART_FCR, UART_FCR_ENABLE | 0x80 | UART_FCR_CLEAR_XMIT);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
}

static void test_trigger_levels(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint8_t fcr;
		int level;
	} t[] = {{0x00, 1}, {0x40, 4}, {0x80, 8}, {0xc0, 14}};
	unsigned int i;
	int n;

	wr(f, UART_IER, UART_IER_ERBFI);
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR | t[i].fcr);
		assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_NO_INT);
		for (n = 1; n <= 16; n++) {
			uint8_t b = (uint8_t)n;
			uint8_t want = n >= t[i].level ? UART_IIR_RDI : UART_IIR_TIMEOUT;

			assert_int_equal(serial8250_receive(&f->s, &b, 1), 1);
			assert_int_equal(rd(f, UART_IIR), 0xc0 | want);
		}
	}
}

static void test_no_fifo_rdi(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_ERBFI);
	wr(f, UART_MCR, UART_MCR_OUT2);
	feed(f, "q");
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	assert_int_equal(cur_level(f), 1);
	assert_int_equal(rd(f, UART_RBR), 'q');
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(cur_level(f), 0);
	assert_int_equal(f->nr_levels, 2);
}

static void test_iir_priorities(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	rd(f, UART_MSR); /* drop the deltas from entering loopback */
	wr(f, UART_IER, 0x0f);
	/* THRI is pending (ETBEI newly set); make every source pending. */
	wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP | UART_MCR_RTS); /* DCTS */
	for (int i = 0; i < 17; i++) /* 16 in the FIFO, one overrun */
		wr(f, UART_THR, 'a');
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_RLSI);
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_RLSI);
	rd(f, UART_LSR); /* clears RLSI */
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_RDI);
	wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RCVR);
	/* The THR writes left THRI pending. */
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_THRI);
	/* ... and that read acknowledged it. */
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_MSI);
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_MSI);
	assert_int_equal(rd(f, UART_MSR) & UART_MSR_DELTAS, UART_MSR_DCTS);
	assert_int_equal(rd(f, UART_IIR), 0xc0 | UART_IIR_NO_INT);
	assert_int_equal(cur_level(f), 0);
}

static void test_iir_read_keeps_thri_below_higher(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	feed(f, "x");
	/* RDI is reported, so the read does not acknowledge THRI. */
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	rd(f, UART_RBR);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
}

static void test_thre_rules(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(f->nr_levels, 0);
	/* Newly setting ETBEI with THR empty raises THRI. */
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(f->nr_levels, 1);
	assert_int_equal(cur_level(f), 1);
	/* Rewriting IER with ETBEI still set does not re-raise. */
	assert_int_equal(rd(f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(cur_level(f), 0);
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(f->nr_levels, 2);
	/* A THR write: drops (already low) and rises when THR empties. */
	wr(f, UART_THR, 'a');
	assert_int_equal(f->nr_levels, 3);
	assert_int_equal(cur_level(f), 1);
	/* A THR write while THRI is pending pulses the line. */
	wr(f, UART_THR, 'b');
	assert_int_equal(f->nr_levels, 5);
	assert_int_equal(f->levels[3], 0);
	assert_int_equal(f->levels[4], 1);
	/* Clearing ETBEI drops it; setting it again re-raises it. */
	wr(f, UART_IER, 0);
	assert_int_equal(cur_level(f), 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(cur_level(f), 1);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(f->nr_levels, 8);
	/* Level changes alternate: no call repeats the previous level. */
	for (int i = 0; i < f->nr_levels; i++)
		assert_int_equal(f->levels[i], (i + 1) % 2);
}

static void test_out2_gating(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_IER, UART_IER_ERBFI);
	feed(f, "x");
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	assert_int_equal(f->nr_levels, 0);
	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(f->nr_levels, 1);
	assert_int_equal(cur_level(f), 1);
	wr(f, UART_MCR, UART_MCR_DTR);
	assert_int_equal(f->nr_levels, 2);
	assert_int_equal(cur_level(f), 0);
	/* IIR still reports the source while the line is gated. */
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
}

static void test_loopback_msr(void **state)
{
	struct fixture *f = *state;

	/* Entering loopback with no MCR outputs drops CTS/DSR/DCD. */
	wr(f, UART_MCR, UART_MCR_LOOP);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_DDCD);
	assert_int_equal(rd(f, UART_MSR), 0);
	/* Linux's probe: LOOP|OUT2|RTS reads back as DCD|CTS. */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT1);
	assert_int_equal(rd(f, UART_MSR),
			 UART_MSR_DSR | UART_MSR_RI | UART_MSR_DCTS | UART_MSR_DDSR |
				 UART_MSR_DDCD);
	/* RI falling sets TERI; RI rising does not. */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DSR | UART_MSR_TERI);
	/* Bytes loop back and never reach the sink. */
	wr(f, UART_THR, 'L');
	assert_int_equal(rd(f, UART_RBR), 'L');
	assert_int_equal(f->out_len, 0);
	wr(f, UART_MCR, 0);
	assert_int_equal(rd(f, UART_MSR), 0xb0 | UART_MSR_DCTS | UART_MSR_DDCD);
	wr(f, UART_THR, 'o');
	assert_int_equal(f->out_len, 1);
}

static void test_rls_interrupt(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_ELSI);
	wr(f, UART_THR, '1');
	assert_int_equal(f->nr_levels, 0);
	wr(f, UART_THR, '2'); /* no FIFO: overruns the holding register */
	assert_int_equal(cur_level(f), 1);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RLSI);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_DR | UART_LSR_OE | 0x60);
	assert_int_equal(cur_level(f), 0);
	assert_int_equal(rd(f, UART_RBR), '1');
}

static void test_wide_access(void **state)
{
	struct fixture *f = *state;
	uint8_t d[4] = {0x42, 0x99, 0x99, 0x99};

	serial8250_ops.write(&f->s, UART_SCR, d, 2);
	assert_int_equal(rd(f, UART_SCR), 0x42);
	memset(d, 0xee, sizeof(d));
	serial8250_ops.read(&f->s, UART_LSR, d, 4);
	assert_int_equal(d[0], 0x60);
	assert_int_equal(d[1], 0);
	assert_int_equal(d[3], 0);
	/* Out of range offsets are ignored. */
	serial8250_ops.write(&f->s, 9, d, 1);
	serial8250_ops.read(&f->s, 9, d, 1);
	assert_int_equal(d[0], 0xff);
}

static void test_save_restore(void **state)
{
	struct fixture *f = *state;
	struct serial8250_state st, st2;
	struct serial8250 s2;
	struct serial8250_config cfg = {
		.irq = {.set = fx_irq, .ctx = f, .gsi = 4},
		.out = fx_out,
		.ctx = f,
	};
	int n;

	wr(f, UART_FCR, UART_FCR_ENABLE | 0x40);
	wr(f, UART_IER, UART_IER_ERBFI);
	wr(f, UART_SCR, 0x77);
	wr(f, UART_LCR, 0x83);
	wr(f, UART_DLL, 3);
	wr(f, UART_LCR, 0x03);
	/* Wrap the ring so that save has to linearise it. */
	feed(f, "0123456789");
	for (n = 0; n < 8; n++)
		rd(f, UART_RBR);
	feed(f, "abcdefghijk");
	wr(f, UART_MCR, UART_MCR_OUT2);
	serial8250_save(&f->s, &st);
	assert_int_equal(st.rx_count, 13);
	assert_memory_equal(st.rx, "89abcdefghijk", 13);

	assert_int_equal(serial8250_init(&s2, &cfg), 0);
	n = f->nr_levels;
	assert_int_equal(serial8250_restore(&s2, &st), 0);
	assert_int_equal(f->nr_levels, n + 1);
	assert_int_equal(cur_level(f), 1);
	serial8250_save(&s2, &st2);
	assert_memory_equal(&st, &st2, sizeof(st));

	st2.rx_count = 17;
	assert_int_equal(serial8250_restore(&s2, &st2), -EINVAL);
	st2.rx_count = 2;
	st2.fcr = 0; /* 8250 mode holds one byte */
	assert_int_equal(serial8250_restore(&s2, &st2), -EINVAL);
	serial8250_free(&s2);
}

#define STRESS_BYTES 20000

static void *feeder(void *arg)
{
	struct fixture *f = arg;
	size_t sent = 0;

	while (sent < STRESS_BYTES) {
		uint8_t chunk[7];
		size_t n = MIN(sizeof(chunk), STRESS_BYTES - sent), i;

		for (i = 0; i < n; i++)
			chunk[i] = (uint8_t)(sent + i);
		n = serial8250_receive(&f->s, chunk, n);
		sent += n;
		if (!n)
			sched_yield();
	}
	return NULL;
}

/* Input from another thread while a "vCPU" drains: nothing lost or
 * reordered. */
static void test_concurrent_receive(void **state)
{
	struct fixture *f = *state;
	struct serial8250_stats st;
	pthread_t t;
	size_t got = 0;

	wr(f, UART_FCR, UART_FCR_ENABLE);
	assert_int_equal(pthread_create(&t, NULL, feeder, f), 0);
	while (got < STRESS_BYTES) {
		if (rd(f, UART_LSR) & UART_LSR_DR) {
			assert_int_equal(rd(f, UART_RBR), (uint8_t)got);
			got++;
		} else {
			sched_yield();
		}
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	serial8250_get_stats(&f->s, &st);
	assert_int_equal(st.rx_bytes, STRESS_BYTES);
	assert_int_equal(st.overruns, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_init_and_bad_config),
		T(test_scr_and_lcr),
		T(test_dlab_switching),
		T(test_ier_mask),
		T(test_transmit_and_stats),
		T(test_receive_no_fifo),
		T(test_fifo_fill_and_overrun),
		T(test_receive_backpressure),
		T(test_loopback_refuses_input),
		T(test_fifo_mode_switch_clears),
		T(test_trigger_levels),
		T(test_no_fifo_rdi),
		T(test_iir_priorities),
		T(test_iir_read_keeps_thri_below_higher),
		T(test_thre_rules),
		T(test_out2_gating),
		T(test_loopback_msr),
		T(test_rls_interrupt),
		T(test_wide_access),
		T(test_save_restore),
		T(test_concurrent_receive),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
