/* term: the Ctrl-A escape filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "term.h"

static void passthrough(void **state)
{
	struct term_filter f = {0};
	uint8_t out[16];
	int quit;

	(void)state;
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"abc\n", 4, out, &quit), 4);
	assert_memory_equal(out, "abc\n", 4);
	assert_int_equal(quit, 0);
}

static void quit_sequence(void **state)
{
	struct term_filter f = {0};
	uint8_t out[16];
	int quit;

	(void)state;
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"ab\x01xcd", 6, out, &quit), 2);
	assert_int_equal(quit, 1);
	assert_memory_equal(out, "ab", 2);
}

static void split_across_reads(void **state)
{
	struct term_filter f = {0};
	uint8_t out[16];
	int quit;

	(void)state;
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"a\x01", 2, out, &quit), 1);
	assert_int_equal(quit, 0);
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"x", 1, out, &quit), 0);
	assert_int_equal(quit, 1);
}

static void literal_escape_and_other(void **state)
{
	struct term_filter f = {0};
	uint8_t out[16];
	int quit;

	(void)state;
	/* Ctrl-A Ctrl-A -> one Ctrl-A; Ctrl-A b -> both bytes. */
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"\x01\x01\x01" "b", 4, out, &quit),
			 3);
	assert_memory_equal(out, "\x01\x01" "b", 3);
	assert_int_equal(quit, 0);
	/* A pending escape from the last read expands to two bytes. */
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"\x01", 1, out, &quit), 0);
	assert_int_equal(term_filter_feed(&f, (const uint8_t *)"z", 1, out, &quit), 2);
	assert_memory_equal(out, "\x01z", 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(passthrough),
		cmocka_unit_test(quit_sequence),
		cmocka_unit_test(split_across_reads),
		cmocka_unit_test(literal_escape_and_other),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
