/* metrics: the snapshot from fake devices and vCPUs, deltas between
 * flushes (counters, gauges, histograms, a machine built afresh), the JSON
 * line (valid, utc_timestamp_ms first), the Prometheus text, and the writer
 * to a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "device.h"
#include "evloop.h"
#include "metrics.h"
#include "vcpu.h"

struct fake {
	struct device dev;
	uint64_t reads, inflight;
};

static void fake_stats(struct device *d, struct device_stats *out)
{
	struct fake *f = container_of(d, struct fake, dev);

	device_stat(out, "reads", f->reads);
	device_stat(out, "inflight", f->inflight);
}

static const struct device_ops blk_ops = {
    .kind = "virtio-blk",
    .destroy = device_free_destroy,
    .pause = device_nop_pause,
    .resume = device_nop_resume,
    .save = device_empty_save,
    .restore = device_empty_restore,
    .stats = fake_stats,
};
static const struct device_ops uart_ops = {
    .kind = "serial8250",
    .destroy = device_free_destroy,
    .pause = device_nop_pause,
    .resume = device_nop_resume,
    .save = device_empty_save,
    .restore = device_empty_restore,
    .stats = fake_stats,
};

struct rig {
	struct device_list l;
	struct fake *blk, *uart;
	struct vcpu vcpus[2];
	struct metrics_source src;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	device_list_init(&r->l);
	r->blk = calloc(1, sizeof(*r->blk));
	r->uart = calloc(1, sizeof(*r->uart));
	device_init(&r->blk->dev, &blk_ops, "blk0");
	device_init(&r->uart->dev, &uart_ops, "serial0");
	assert_int_equal(device_list_add(&r->l, &r->blk->dev), 0);
	assert_int_equal(device_list_add(&r->l, &r->uart->dev), 0);
	r->vcpus[0].id = 0;
	r->vcpus[1].id = 1;
	r->src = (struct metrics_source){&r->l, r->vcpus, 2, 0, 0};
	return r;
}

static void rig_free(struct rig *r)
{
	device_list_destroy(&r->l);
	free(r);
}

static json_int_t get(const json_t *root, const char *comp, const char *key)
{
	const json_t *o = json_object_get(root, comp);
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("%s.%s missing", comp, key);
	return json_integer_value(v);
}

static void test_snapshot_shape(void **state)
{
	struct rig *r = rig_new();
	json_t *s;

	(void)state;
	r->blk->reads = 7;
	r->uart->reads = 2;
	vcpu_account_exit(&r->vcpus[0], VCPU_EXIT_IO_OUT, 100);
	vcpu_account_exit(&r->vcpus[0], VCPU_EXIT_IO_OUT, 300);
	vcpu_account_exit(&r->vcpus[1], VCPU_EXIT_MMIO_READ, 5000);
	s = metrics_snapshot(&r->src);
	assert_non_null(s);
	/* Firecracker's names for block, the device's own name elsewhere. */
	assert_int_equal(get(s, "block_blk0", "read_count"), 7);
	assert_int_equal(get(s, "block", "read_count"), 7);
	assert_int_equal(get(s, "serial0", "reads"), 2);
	assert_int_equal(get(s, "vcpu", "exit_io_out"), 2);
	assert_int_equal(get(s, "vcpu", "exit_mmio_read"), 1);
	assert_int_equal(get(s, "kite_vcpu0", "exit_io_out"), 2);
	assert_int_equal(get(s, "kite_vcpu0", "exit_handling_ns_sum"), 400);
	assert_int_equal(get(s, "kite_vcpu1", "exit_mmio_read"), 1);
	{
		const json_t *h =
		    json_object_get(json_object_get(s, "kite_vcpu0"), "exit_handling_ns_log2");

		assert_int_equal(json_array_size(h), VCPU_EXIT_HIST);
		assert_int_equal(json_integer_value(json_array_get(h, 6)), 1); /* 100 */
		assert_int_equal(json_integer_value(json_array_get(h, 8)), 1); /* 300 */
	}
	json_decref(s);
	rig_free(r);
}

static void test_hist_bucket(void **state)
{
	(void)state;
	assert_int_equal(vcpu_exit_hist_bucket(0), 0);
	assert_int_equal(vcpu_exit_hist_bucket(1), 0);
	assert_int_equal(vcpu_exit_hist_bucket(2), 1);
	assert_int_equal(vcpu_exit_hist_bucket(1023), 9);
	assert_int_equal(vcpu_exit_hist_bucket(1024), 10);
	assert_int_equal(vcpu_exit_hist_bucket(UINT64_MAX), VCPU_EXIT_HIST - 1);
}

static void test_delta(void **state)
{
	struct rig *r = rig_new();
	json_t *a, *b, *d;

	(void)state;
	r->blk->reads = 10;
	r->blk->inflight = 3;
	vcpu_account_exit(&r->vcpus[0], VCPU_EXIT_IO_IN, 10);
	a = metrics_snapshot(&r->src);
	d = metrics_delta(NULL, a);
	assert_int_equal(get(d, "block_blk0", "read_count"), 10);
	json_decref(d);

	r->blk->reads = 15;
	r->blk->inflight = 1;
	vcpu_account_exit(&r->vcpus[0], VCPU_EXIT_IO_IN, 10);
	vcpu_account_exit(&r->vcpus[0], VCPU_EXIT_IO_IN, 10);
	b = metrics_snapshot(&r->src);
	d = metrics_delta(a, b);
	assert_int_equal(get(d, "block_blk0", "read_count"), 5);
	assert_int_equal(get(d, "block_blk0", "inflight"), 1); /* a gauge: as it is */
	assert_int_equal(get(d, "kite_vcpu0", "exit_io_in"), 2);
	assert_int_equal(get(d, "vcpu", "exit_io_in"), 2);
	assert_int_equal(
	    json_integer_value(json_array_get(
		json_object_get(json_object_get(d, "kite_vcpu0"), "exit_handling_ns_log2"), 3)),
	    2);
	json_decref(d);
	/* A machine built afresh counts from zero: no negative deltas. */
	d = metrics_delta(b, a);
	assert_int_equal(get(d, "block_blk0", "read_count"), 10);
	json_decref(d);
	json_decref(a);
	json_decref(b);
	rig_free(r);
}

static void test_line(void **state)
{
	struct rig *r = rig_new();
	json_t *s = metrics_snapshot(&r->src), *back;
	char *line = metrics_line(s, 1541591155180ull);
	json_error_t je;

	(void)state;
	assert_non_null(line);
	/* One line: its only newline ends it. */
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	assert_int_equal(strncmp(line, "{\"utc_timestamp_ms\":1541591155180,", 34), 0);
	back = json_loads(line, 0, &je);
	assert_non_null(back);
	assert_true(json_is_object(json_object_get(back, "block_blk0")));
	json_decref(back);
	free(line);
	json_decref(s);
	rig_free(r);
}

/* Every line a comment or `name{labels} value`; one # TYPE per family,
 * before its samples. */
static void check_prometheus(const char *text)
{
	char *copy = strdup(text), *save = NULL;
	char families[64][80];
	int nf = 0;

	for (char *ln = strtok_r(copy, "\n", &save); ln; ln = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long v;

		if (!strncmp(ln, "# TYPE ", 7)) {
			assert_int_equal(sscanf(ln + 7, "%79s", families[nf]), 1);
			for (int i = 0; i < nf; i++)
				assert_string_not_equal(families[i], families[nf]);
			nf++;
			continue;
		}
		assert_int_equal(sscanf(ln, "%127[a-zA-Z0-9_:]", name), 1);
		assert_true(nf > 0);
		assert_int_equal(strncmp(name, families[nf - 1], strlen(families[nf - 1])), 0);
		assert_int_equal(sscanf(strrchr(ln, ' '), " %llu", &v), 1);
	}
	free(copy);
}

static void test_prometheus(void **state)
{
	struct rig *r = rig_new();
	char *text;

	(void)state;
	r->blk->reads = 4;
	vcpu_account_exit(&r->vcpus[1], VCPU_EXIT_HLT, 2000);
	text = metrics_prometheus(&r->src);
	assert_non_null(text);
	check_prometheus(text);
	assert_non_null(strstr(text, "# TYPE kite_device_reads counter\n"));
	assert_non_null(strstr(text, "kite_device_reads{device=\"blk0\",kind=\"virtio-blk\"} 4\n"));
	assert_non_null(strstr(text, "# TYPE kite_device_inflight gauge\n"));
	assert_non_null(strstr(text, "kite_vcpu_exits_total{vcpu=\"1\",reason=\"hlt\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE kite_vcpu_exit_handling_nanoseconds histogram\n"));
	/* 2000 ns is in bucket 10: below 2048, not below 1024. */
	assert_non_null(
	    strstr(text, "kite_vcpu_exit_handling_nanoseconds_bucket{vcpu=\"1\",le=\"1024\"} 0\n"));
	assert_non_null(
	    strstr(text, "kite_vcpu_exit_handling_nanoseconds_bucket{vcpu=\"1\",le=\"2048\"} 1\n"));
	assert_non_null(
	    strstr(text, "kite_vcpu_exit_handling_nanoseconds_bucket{vcpu=\"1\",le=\"+Inf\"} 1\n"));
	assert_non_null(strstr(text, "kite_vcpu_exit_handling_nanoseconds_sum{vcpu=\"1\"} 2000\n"));
	assert_non_null(strstr(text, "kite_vcpu_exit_handling_nanoseconds_count{vcpu=\"1\"} 1\n"));
	free(text);
	rig_free(r);
}

static struct rig *cur_rig;

static void rig_source(void *ctx, struct metrics_source *out)
{
	(void)ctx;
	*out = cur_rig->src;
}

static void test_writer(void **state)
{
	char path[] = "/tmp/kite-metrics-XXXXXX", buf[8192];
	struct evloop ev;
	struct metrics m;
	json_t *l1, *l2;
	char *nl;
	int fd = mkstemp(path);
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	cur_rig = rig_new();
	assert_int_equal(ev_init(&ev), 0);
	assert_int_equal(metrics_init(&m, &ev, rig_source, NULL), 0);
	assert_int_equal(metrics_flush(&m), -ENODEV);
	assert_int_equal(metrics_open(&m, "/nonexistent/kite-metrics"), -ENOENT);
	assert_int_equal(metrics_open(&m, path), 0);
	cur_rig->blk->reads = 3;
	assert_int_equal(metrics_flush(&m), 0);
	cur_rig->blk->reads = 8;
	assert_int_equal(metrics_flush(&m), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	nl = strchr(buf, '\n');
	assert_non_null(nl);
	*nl = 0;
	l1 = json_loads(buf, 0, NULL);
	l2 = json_loads(nl + 1, 0, NULL);
	assert_non_null(l1);
	assert_non_null(l2);
	assert_int_equal(get(l1, "block_blk0", "read_count"), 3);
	assert_int_equal(get(l2, "block_blk0", "read_count"), 5);
	json_decref(l1);
	json_decref(l2);
	metrics_close(&m);
	ev_free(&ev);
	rig_free(cur_rig);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_shape), cmocka_unit_test(test_hist_bucket),
	    cmocka_unit_test(test_delta),	   cmocka_unit_test(test_line),
	    cmocka_unit_test(test_prometheus),	   cmocka_unit_test(test_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
