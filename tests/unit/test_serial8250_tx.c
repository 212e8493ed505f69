/* Unit tests for the UART's transmit backpressure: a sink that says "full"
 * holds THRE/TEMT at 0 and the THR-empty interrupt back until
 * serial8250_tx_space(). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/serial8250.h"

#define THRE_TEMT (UART_LSR_THRE | UART_LSR_TEMT)

struct fixture {
	struct serial8250 s;
	uint8_t out[256];
	size_t out_len;
	bool room;
	int levels[64];
	int nr_levels;
};

static bool fx_out(void *ctx, const uint8_t *buf, size_t n)
{
	struct fixture *f = ctx;

	assert_true(f->out_len + n <= sizeof(f->out));
	memcpy(f->out + f->out_len, buf, n);
	f->out_len += n;
	return f->room;
}

static void fx_irq(void *ctx, unsigned int gsi, int level)
{
	struct fixture *f = ctx;

	(void)gsi;
	assert_true(f->nr_levels < (int)ARRAY_SIZE(f->levels));
	f->levels[f->nr_levels++] = level;
}

static int setup(void **state)
{
	static struct fixture f;
	struct serial8250_config cfg = {
		.irq = {.set = fx_irq, .ctx = &f, .gsi = 4},
		.out = fx_out,
		.ctx = &f,
	};

	memset(&f, 0, sizeof(f));
	f.room = true;
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

static int level(const struct fixture *f)
{
	return f->nr_levels ? f->levels[f->nr_levels - 1] : 0;
}

static void test_held_thre(void **state)
{
	struct fixture *f = *state;
	struct serial8250_stats st;

	f->room = false;
	wr(f, UART_THR, 'a');
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, 0);
	/* A guest that ignores THRE: the byte still reaches the sink. */
	wr(f, UART_THR, 'b');
	assert_int_equal(f->out_len, 2);
	assert_memory_equal(f->out, "ab", 2);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, 0);
	/* The sink having room again changes nothing until tx_space. */
	f->room = true;
	wr(f, UART_THR, 'c');
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, 0);
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
	wr(f, UART_THR, 'd');
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
	serial8250_get_stats(&f->s, &st);
	assert_int_equal(st.tx_bytes, 4);
	assert_int_equal(st.tx_held, 1);
	assert_int_equal(st.tx_while_held, 2);
}

static void test_thri_on_tx_space(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_MCR, UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(level(f), 1);
	f->room = false;
	/* The THR write acknowledges THRI; a full sink keeps it away. */
	wr(f, UART_THR, 'a');
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Re-enabling ETBEI while THR is busy raises nothing. */
	wr(f, UART_IER, 0);
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	serial8250_tx_space(&f->s);
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_THRI); /* acknowledges */
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* A second tx_space, nothing held: no interrupt. */
	serial8250_tx_space(&f->s);
	assert_int_equal(level(f), 0);
	for (int i = 0; i < f->nr_levels; i++)
		assert_int_equal(f->levels[i], (i + 1) % 2);
}

static void test_tx_space_without_etbei(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_MCR, UART_MCR_OUT2);
	f->room = false;
	wr(f, UART_THR, 'a');
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
	assert_int_equal(f->nr_levels, 0);
	/* Enabling ETBEI now that THR is empty raises THRI, as usual. */
	wr(f, UART_IER, UART_IER_ETBEI);
	assert_int_equal(level(f), 1);
}

/* Interrupt identification with a held transmitter: receive interrupts
 * keep their priority; THRI comes only after tx_space. */
static void test_iir_with_held_tx(void **state)
{
	struct fixture *f = *state;

	wr(f, UART_MCR, UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_ETBEI | UART_IER_ERBFI);
	f->room = false;
	wr(f, UART_THR, 'a');
	assert_int_equal(serial8250_receive(&f->s, (const uint8_t *)"q", 1), 1);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_RDI);
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_RDI); /* still first */
	assert_int_equal(rd(f, UART_RBR), 'q');
	assert_int_equal(level(f), 1);
	assert_int_equal(rd(f, UART_IIR) & 0x0f, UART_IIR_THRI);
	assert_int_equal(level(f), 0);
	assert_int_equal(rd(f, UART_LSR), THRE_TEMT);
}

/* Loopback bytes never reach the sink, so they cannot hold THRE; a held
 * transmitter stays held across loopback. */
static void test_loopback_and_fifo_clear(void **state)
{
	struct fixture *f = *state;

	f->room = false;
	wr(f, UART_THR, 'a');
	wr(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_XMIT);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, 0);
	wr(f, UART_MCR, UART_MCR_LOOP);
	wr(f, UART_THR, 'b');
	assert_int_equal(f->out_len, 1);
	assert_int_equal(rd(f, UART_LSR) & (THRE_TEMT | UART_LSR_DR), UART_LSR_DR);
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
}

/* The held state is part of the snapshot. */
static void test_save_restore_held(void **state)
{
	struct fixture *f = *state;
	struct serial8250_state st;

	f->room = false;
	wr(f, UART_THR, 'a');
	serial8250_save(&f->s, &st);
	assert_int_equal(st.tx_held, 1);
	assert_int_equal(st.lsr & THRE_TEMT, 0);
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
	assert_int_equal(serial8250_restore(&f->s, &st), 0);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, 0);
}

static int spacer_done;

static void *spacer(void *arg)
{
	struct fixture *f = arg;

	while (!__atomic_load_n(&spacer_done, __ATOMIC_ACQUIRE)) {
		serial8250_tx_space(&f->s);
		sched_yield();
	}
	return NULL;
}

/* tx_space from another thread while the "vCPU" polls THRE and writes:
 * every byte arrives, in order, and each one holds THRE again. */
static void test_tx_space_thread(void **state)
{
	struct fixture *f = *state;
	pthread_t t;
	int sent = 0;

	f->room = false;
	spacer_done = 0;
	assert_int_equal(pthread_create(&t, NULL, spacer, f), 0);
	while (sent < 200) {
		if (rd(f, UART_LSR) & UART_LSR_THRE) {
			f->out_len = 0;
			wr(f, UART_THR, (uint8_t)sent);
			assert_int_equal(f->out_len, 1);
			assert_int_equal(f->out[0], (uint8_t)sent);
			sent++;
		}
		sched_yield();
	}
	__atomic_store_n(&spacer_done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	serial8250_tx_space(&f->s);
	assert_int_equal(rd(f, UART_LSR) & THRE_TEMT, THRE_TEMT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_held_thre),
		T(test_thri_on_tx_space),
		T(test_tx_space_without_etbei),
		T(test_iir_with_held_tx),
		T(test_loopback_and_fifo_clear),
		T(test_save_restore_held),
		T(test_tx_space_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
