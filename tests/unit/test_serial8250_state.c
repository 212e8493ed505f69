/* Unit tests for the UART as a struct device: save/restore round trip into a
 * fresh instance, refused sections, pause/resume and the counters. */
#include <pthread.h>
#include <stdbool.h>

#include "device_state_fixture.h"
#include "devices/serial8250.h"

struct side {
	struct serial8250 *s;
	uint8_t out[64];
	size_t out_len;
	bool room; /* what the sink answers */
	int level, irq_calls, rx_space_calls;
};

static bool sd_out(void *ctx, const uint8_t *buf, size_t n)
{
	struct side *sd = ctx;

	assert_true(sd->out_len + n <= sizeof(sd->out));
	memcpy(sd->out + sd->out_len, buf, n);
	sd->out_len += n;
	return sd->room;
}

static void sd_irq(void *ctx, unsigned int gsi, int level)
{
	struct side *sd = ctx;

	assert_int_equal(gsi, 4);
	sd->level = level;
	sd->irq_calls++;
}

static void sd_rx_space(void *ctx)
{
	struct side *sd = ctx;

	sd->rx_space_calls++;
}

static void side_new(struct side *sd, const char *name)
{
	struct serial8250_config cfg = {
		.irq = {.set = sd_irq, .ctx = sd, .gsi = 4},
		.out = sd_out,
		.rx_space = sd_rx_space,
		.ctx = sd,
	};

	memset(sd, 0, sizeof(*sd));
	sd->room = true;
	assert_int_equal(serial8250_new(&cfg, name, &sd->s), 0);
	assert_string_equal(sd->s->dev.name, name);
	assert_ptr_equal(sd->s->dev.ops, &serial8250_device_ops);
}

static void side_free(struct side *sd)
{
	sd->s->dev.ops->destroy(&sd->s->dev);
}

static uint8_t rd(struct side *sd, unsigned int reg)
{
	uint8_t v = 0xaa;

	serial8250_ops.read(sd->s, reg, &v, 1);
	return v;
}

static void wr(struct side *sd, unsigned int reg, uint8_t v)
{
	serial8250_ops.write(sd->s, reg, &v, 1);
}

/* A UART with a wrapped FIFO, a divisor, modem lines, a held transmitter
 * and data interrupts pending. */
static void drive(struct side *sd)
{
	const uint8_t in[] = "0123456789abcdefghij";
	int i;

	wr(sd, UART_FCR, UART_FCR_ENABLE | 0x40); /* trigger 4 */
	wr(sd, UART_LCR, 0x83);
	wr(sd, UART_DLL, 1);
	wr(sd, UART_DLM, 2);
	wr(sd, UART_LCR, 0x1b);
	wr(sd, UART_SCR, 0x5a);
	wr(sd, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	wr(sd, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI | UART_IER_EDSSI);
	assert_int_equal(serial8250_receive(sd->s, in, 12), 12);
	for (i = 0; i < 9; i++)
		rd(sd, UART_RBR);
	assert_int_equal(serial8250_receive(sd->s, in + 12, 8), 8);
	sd->room = false;
	wr(sd, UART_THR, 'x');
	sd->room = true;
}

/* The same accesses on both must give the same answers. */
static void same_behaviour(struct side *a, struct side *b)
{
	static const unsigned int regs[] = {UART_IIR, UART_LSR, UART_MSR, UART_LCR,
					    UART_MCR, UART_SCR, UART_IER};
	unsigned int i;
	int round;

	for (round = 0; round < 14; round++) {
		for (i = 0; i < ARRAY_SIZE(regs); i++)
			assert_int_equal(rd(a, regs[i]), rd(b, regs[i]));
		assert_int_equal(a->level, b->level);
		assert_int_equal(rd(a, UART_RBR), rd(b, UART_RBR));
		if (round == 4) {
			serial8250_tx_space(a->s);
			serial8250_tx_space(b->s);
		}
		if (round == 6) {
			wr(a, UART_THR, (uint8_t)round);
			wr(b, UART_THR, (uint8_t)round);
		}
		if (round == 8) {
			wr(a, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
			wr(b, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
		}
		if (round == 9) {
			wr(a, UART_THR, 'L');
			wr(b, UART_THR, 'L');
		}
	}
	wr(a, UART_LCR, 0x80);
	wr(b, UART_LCR, 0x80);
	assert_int_equal(rd(a, UART_DLL), rd(b, UART_DLL));
	assert_int_equal(rd(a, UART_DLM), rd(b, UART_DLM));
}

static void test_round_trip(void **state)
{
	struct side a, b;
	struct state_buf sec, again;
	(void)state;

	side_new(&a, "serial0");
	side_new(&b, "serial0");
	drive(&a);
	assert_int_equal(a.level, 1);
	assert_int_equal(rd(&a, UART_LSR) & (UART_LSR_THRE | UART_LSR_TEMT), 0);
	dev_pause(&a.s->dev);
	dev_save(&a.s->dev, &sec);
	dev_restore_ok(&b.s->dev, &sec);
	/* Restored but paused: the line is not touched until resume. */
	assert_int_equal(b.irq_calls, 0);
	/* The section round-trips exactly. */
	dev_save(&b.s->dev, &again);
	assert_int_equal(sec.len, again.len);
	assert_memory_equal(sec.data, again.data, sec.len);
	dev_resume(&b.s->dev);
	assert_int_equal(b.level, 1); /* re-asserted */
	assert_int_equal(b.irq_calls, 1);
	dev_resume(&a.s->dev);
	assert_int_equal(a.level, 1);
	same_behaviour(&a, &b);
	/* a also sent the 'x' before the save. */
	assert_int_equal(a.out_len, b.out_len + 1);
	assert_memory_equal(a.out + 1, b.out, b.out_len);
	state_buf_free(&sec);
	state_buf_free(&again);
	side_free(&a);
	side_free(&b);
}

/* Payload offsets (serial8250_state.c). */
enum { P_IER = 0, P_MCR = 2, P_LSR = 3, P_MSR = 4, P_FCR = 8, P_THRI = 10, P_RXC = 11,
       P_RX = 12, P_HELD = 28, P_LEVEL = 29 };

static void test_bad_sections(void **state)
{
	struct side a, b;
	struct state_buf sec;
	(void)state;

	side_new(&a, "serial0");
	side_new(&b, "serial0");
	wr(&a, UART_FCR, UART_FCR_ENABLE);
	wr(&a, UART_MCR, UART_MCR_OUT2);
	wr(&a, UART_IER, UART_IER_ERBFI);
	assert_int_equal(serial8250_receive(a.s, (const uint8_t *)"hello", 5), 5);
	wr(&a, UART_SCR, 0x11);
	dev_pause(&a.s->dev);
	dev_save(&a.s->dev, &sec);
	assert_int_equal(sec.len - payload_off(&sec), 30);
	/* b is not fresh either: the refused sections must leave it so. */
	wr(&b, UART_SCR, 0x42);
	expect_framing_refused(&b.s->dev, &sec);
	expect_field_refused(&b.s->dev, &sec, P_IER, 0x10, "ier");
	expect_field_refused(&b.s->dev, &sec, P_MCR, 0x20, "mcr");
	expect_field_refused(&b.s->dev, &sec, P_FCR, 0x02, "fcr");
	expect_field_refused(&b.s->dev, &sec, P_FCR, 0x31, "fcr");
	expect_field_refused(&b.s->dev, &sec, P_RXC, 17, "rx_count");
	expect_field_refused(&b.s->dev, &sec, P_RXC, 255, "rx_count");
	expect_field_refused(&b.s->dev, &sec, P_RX + 15, 'x', "unused rx byte");
	expect_field_refused(&b.s->dev, &sec, P_LSR, 0x80 | 0x61, "lsr");
	expect_field_refused(&b.s->dev, &sec, P_LSR, 0x60, "lsr"); /* DR but no data */
	expect_field_refused(&b.s->dev, &sec, P_MSR, 0, "msr");
	expect_field_refused(&b.s->dev, &sec, P_THRI, 1, "thri_pending"); /* no ETBEI */
	expect_field_refused(&b.s->dev, &sec, P_THRI, 2, "thri_pending");
	expect_field_refused(&b.s->dev, &sec, P_HELD, 2, "tx_held");
	expect_field_refused(&b.s->dev, &sec, P_HELD, 1, "lsr"); /* held, THRE still 1 */
	expect_field_refused(&b.s->dev, &sec, P_LEVEL, 0, "irq level");
	expect_field_refused(&b.s->dev, &sec, P_LEVEL, 2, "irq level");
	/* 8250 mode holds one byte. */
	expect_field_refused(&b.s->dev, &sec, P_FCR, 0, "rx_count");
	dev_restore_ok(&b.s->dev, &sec);
	state_buf_free(&sec);
	side_free(&a);
	side_free(&b);
}

static void test_save_needs_pause(void **state)
{
	struct side a;
	struct state_buf b;
	(void)state;

	side_new(&a, "serial1");
	state_buf_init(&b);
	assert_int_equal(device_save_one(&a.s->dev, &b), -EBUSY);
	state_buf_free(&b);
	side_free(&a);
}

/* Paused: input is refused and the line stays; resume catches up. */
static void test_pause_resume(void **state)
{
	struct side a;
	(void)state;

	side_new(&a, "serial0");
	wr(&a, UART_MCR, UART_MCR_OUT2);
	wr(&a, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
	assert_int_equal(rd(&a, UART_IIR) & 0x0f, UART_IIR_THRI);
	a.room = false;
	wr(&a, UART_THR, 'a');
	assert_int_equal(a.level, 0);
	dev_pause(&a.s->dev);
	assert_int_equal(serial8250_receive(a.s, (const uint8_t *)"z", 1), 0);
	serial8250_tx_space(a.s); /* from the host, while paused */
	assert_int_equal(a.level, 0);
	assert_int_equal(a.rx_space_calls, 0);
	dev_resume(&a.s->dev);
	assert_int_equal(a.level, 1); /* THRI, from the tx_space */
	assert_int_equal(a.rx_space_calls, 1);
	assert_int_equal(serial8250_receive(a.s, (const uint8_t *)"z", 1), 1);
	assert_int_equal(rd(&a, UART_IIR) & 0x0f, UART_IIR_RDI);
	/* A plain pause/resume with the line high asserts it again. */
	dev_pause(&a.s->dev);
	a.irq_calls = 0;
	dev_resume(&a.s->dev);
	assert_int_equal(a.irq_calls, 1);
	assert_int_equal(a.level, 1);
	side_free(&a);
}

static void test_stats(void **state)
{
	struct side a;
	(void)state;

	side_new(&a, "serial0");
	wr(&a, UART_THR, 'a');
	a.room = false;
	wr(&a, UART_THR, 'b');
	wr(&a, UART_THR, 'c');
	serial8250_tx_space(a.s);
	wr(&a, UART_THR, 'd');
	assert_int_equal(serial8250_receive(a.s, (const uint8_t *)"xy", 2), 1);
	wr(&a, UART_MCR, UART_MCR_LOOP);
	wr(&a, UART_THR, 'e'); /* the 8250 holding register is full */
	assert_int_equal(dev_stat(&a.s->dev, "tx_bytes"), 4);
	assert_int_equal(dev_stat(&a.s->dev, "rx_bytes"), 1);
	assert_int_equal(dev_stat(&a.s->dev, "overruns"), 1);
	assert_int_equal(dev_stat(&a.s->dev, "tx_held"), 2);
	assert_int_equal(dev_stat(&a.s->dev, "tx_while_held"), 1);
	side_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_save_needs_pause),
		cmocka_unit_test(test_pause_resume),
		cmocka_unit_test(test_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
