/* The host console's output path: one buffer, drained by the event loop
 * only, that holds producers above its high-water mark, releases them below
 * the low-water mark, drops past its hard limit, and never blocks on a stuck
 * or vanished reader. The reader is a FIFO given as --serial-out. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hostio.h"

struct fx {
	char dir[64], fifo[96];
	int rd;
	struct hostio *io;
	struct evloop ev;
	pthread_t loop;
	int spaces;
};

static void on_space(void *ctx)
{
	__atomic_fetch_add(&((struct fx *)ctx)->spaces, 1, __ATOMIC_SEQ_CST);
}

static void *run_loop(void *arg)
{
	struct fx *f = arg;

	assert_int_equal(ev_run(&f->ev), 0);
	return NULL;
}

static void noop_stop(void *ctx, enum vm_stop_reason r, int status)
{
	(void)ctx;
	(void)r;
	(void)status;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	struct vm_stopper stop = {noop_stop, NULL};

	strcpy(f->dir, "/tmp/kite-hostio-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->fifo, sizeof(f->fifo), "%s/out", f->dir);
	assert_int_equal(mkfifo(f->fifo, 0600), 0);
	f->rd = open(f->fifo, O_RDONLY | O_NONBLOCK);
	assert_true(f->rd >= 0);
	assert_int_equal(hostio_open(&f->io, &(struct hostio_opts){f->fifo, NULL}, err,
				     sizeof(err)), 0);
	assert_int_equal(hostio_on_space(f->io, on_space, f), 0);
	assert_int_equal(ev_init(&f->ev), 0);
	assert_int_equal(hostio_attach(f->io, &f->ev, &stop, err, sizeof(err)), 0);
	assert_int_equal(pthread_create(&f->loop, NULL, run_loop, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ev_stop(&f->ev);
	pthread_join(f->loop, NULL);
	hostio_detach(f->io);
	ev_free(&f->ev);
	hostio_close(f->io);
	if (f->rd >= 0)
		close(f->rd);
	unlink(f->fifo);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void ms(int n)
{
	struct timespec t = {0, (long)n * 1000000L};

	nanosleep(&t, NULL);
}

/* Reads what is in the FIFO now; returns the byte count. */
static size_t drain_reader(struct fx *f)
{
	static uint8_t buf[65536];
	size_t total = 0;
	ssize_t n;

	while ((n = read(f->rd, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	return total;
}

static void test_passes_through(void **state)
{
	struct fx *f = *state;
	size_t got = 0;

	assert_true(hostio_write(f->io, (const uint8_t *)"hello", 5));
	for (int i = 0; i < 200 && got < 5; i++) {
		ms(5);
		got += drain_reader(f);
	}
	assert_int_equal(got, 5);
}

static void test_holds_and_releases(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[16384];
	struct hostio_stats st;
	size_t written = 0, got = 0;
	bool room = true;

	/* Nobody reads: the FIFO fills (64 KiB), then kite's buffer. */
	while (room && written < HOSTIO_OUT_MAX) {
		room = hostio_write(f->io, chunk, sizeof(chunk));
		written += sizeof(chunk);
	}
	assert_false(room);
	assert_true(written >= HOSTIO_OUT_HIGH);
	assert_int_equal(f->spaces, 0);
	hostio_get_stats(f->io, &st);
	assert_int_equal(st.out_held, 1);
	assert_int_equal(st.out_dropped, 0);
	/* The reader catches up: the producer is released, nothing lost. */
	for (int i = 0; i < 1000 && got < written; i++) {
		got += drain_reader(f);
		ms(1);
	}
	assert_int_equal(got, written);
	assert_int_equal(__atomic_load_n(&f->spaces, __ATOMIC_SEQ_CST), 1);
}

static void test_drops_past_the_limit(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[65536];
	struct hostio_stats st;

	for (int i = 0; i < 40; i++) /* 2.5 MiB with nobody reading */
		hostio_write(f->io, chunk, sizeof(chunk));
	hostio_get_stats(f->io, &st);
	assert_true(st.out_dropped > 0);
	assert_true(st.out_dropped <= 40 * sizeof(chunk) - HOSTIO_OUT_MAX);
}

static void test_reader_gone(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[65536];
	struct hostio_stats st;
	int i;

	close(f->rd);
	f->rd = -1;
	/* The loop notices on its next write (EPIPE): from then on output is
	 * dropped and producers are never held. */
	hostio_write(f->io, chunk, 100);
	for (i = 0; i < 400; i++) {
		ms(5);
		hostio_get_stats(f->io, &st);
		if (st.out_dropped >= 100)
			break;
	}
	assert_true(i < 400);
	for (i = 0; i < 40; i++)
		assert_true(hostio_write(f->io, chunk, sizeof(chunk)));
}

static void test_flush_is_bounded(void **state)
{
	struct fx *f = *state;
	static uint8_t chunk[65536];
	struct timespec a, b;

	for (int i = 0; i < 4; i++) /* more than the FIFO holds */
		hostio_write(f->io, chunk, sizeof(chunk));
	ev_stop(&f->ev);
	pthread_join(f->loop, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	hostio_flush(f->io, 200);
	clock_gettime(CLOCK_MONOTONIC, &b);
	/* A stuck reader costs the timeout, not forever (bound, not a benchmark). */
	assert_true((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < 5000);
	/* teardown joins again: restart a loop that ends at once. */
	assert_int_equal(pthread_create(&f->loop, NULL, run_loop, f), 0);
}

int main(void)
{
	/* As kite's main: a vanished reader is EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passes_through, setup, teardown),
		cmocka_unit_test_setup_teardown(test_holds_and_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drops_past_the_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_is_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
