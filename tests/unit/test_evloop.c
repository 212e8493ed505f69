/* The event loop: O(1) removal, handlers freed after the batch that removed
 * them, no growth under connection churn. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "evloop.h"

struct pair {
	struct evloop *l;
	int self, other; /* fds */
	int calls;
	int *other_calls;
	int stop_after;
};

static void on_ready(void *ctx, uint32_t events)
{
	struct pair *p = ctx;
	uint64_t v;

	(void)events;
	p->calls++;
	if (read(p->self, &v, sizeof(v)) < 0) {
	}
	/* Remove the other fd, whose event is in this very batch. */
	if (p->other >= 0) {
		assert_int_equal(ev_del(p->l, p->other), 0);
		close(p->other);
		p->other = -1;
	}
	ev_stop(p->l);
}

static void test_del_in_batch(void **state)
{
	struct evloop l;
	uint64_t one = 1;
	int a, b;
	struct pair pa, pb;

	(void)state;
	assert_int_equal(ev_init(&l), 0);
	a = eventfd(0, EFD_NONBLOCK);
	b = eventfd(0, EFD_NONBLOCK);
	pa = (struct pair){&l, a, b, 0, NULL, 0};
	pb = (struct pair){&l, b, a, 0, NULL, 0};
	assert_int_equal(ev_add(&l, a, EPOLLIN, on_ready, &pa), 0);
	assert_int_equal(ev_add(&l, b, EPOLLIN, on_ready, &pb), 0);
	assert_int_equal(ev_add(&l, a, EPOLLIN, on_ready, &pa), -EEXIST);
	assert_int_equal(write(a, &one, 8), 8);
	assert_int_equal(write(b, &one, 8), 8);
	assert_int_equal(ev_run(&l), 0);
	/* Exactly one ran: it removed the other before its turn came. */
	assert_int_equal(pa.calls + pb.calls, 1);
	assert_int_equal(ev_count(&l), 1);
	ev_free(&l);
	close(pa.calls ? a : b);
}

static void noop(void *ctx, uint32_t events)
{
	(void)ctx;
	(void)events;
}

static void test_churn(void **state)
{
	struct evloop l;

	(void)state;
	assert_int_equal(ev_init(&l), 0);
	for (int i = 0; i < 20000; i++) {
		int fd = eventfd(0, EFD_NONBLOCK);

		assert_true(fd >= 0);
		assert_int_equal(ev_add(&l, fd, EPOLLIN, noop, NULL), 0);
		assert_int_equal(ev_mod(&l, fd, 0), 0);
		assert_int_equal(ev_mod(&l, fd, EPOLLIN), 0);
		assert_int_equal(ev_del(&l, fd), 0);
		assert_int_equal(ev_del(&l, fd), -ENOENT);
		close(fd);
	}
	assert_int_equal(ev_count(&l), 0);
	assert_int_equal(ev_mod(&l, 12345, EPOLLIN), -ENOENT);
	assert_int_equal(ev_add(&l, -1, EPOLLIN, noop, NULL), -EBADF);
	ev_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_del_in_batch),
		cmocka_unit_test(test_churn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
