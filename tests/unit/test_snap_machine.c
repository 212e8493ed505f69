/* The snapshot's machine section (src/snapshot/machine.c) and the API's
 * snapshot bodies (src/api/fc_snapshot.c): round trips, and every field
 * and framing a hostile file or client could get wrong refused with a
 * message naming it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/fc_snapshot.h"
#include "config.h"
#include "snapshot/machine.h"

static char err[512];

static void sample(struct vm_config *c)
{
	config_init(c);
	c->kernel = "/k";
	c->memory = 256ull << 20;
	c->cpus = 2;
	c->irqchip = IRQCHIP_ON;
	c->rng = 1;
	c->rng_rate = 4096;
	c->rng_rl.ops = (struct token_bucket_config){10, 5, 1000};
	c->console = CONSOLE_VIRTIO;
	c->nr_disks = 2;
	c->disks[0] = (struct disk_config){.path = "/disk0.img",
					   .serial = "S0",
					   .poll_us = 50,
					   .id = "rootfs",
					   .root = 1,
					   .partuuid = "abcd-01",
					   .cache = DISK_CACHE_WRITEBACK,
					   .bps = 1000,
					   .iops = 7};
	c->disks[1] = (struct disk_config){.path = "/disk1.img", .read_only = 1};
	c->disks[1].rl.bandwidth = (struct token_bucket_config){1 << 20, 0, 100};
	c->vsock_cid = 9;
	c->vsock_uds = "/run/v.sock";
	c->nr_nets = 1;
	c->nets[0] = (struct net_config){.id = "eth0",
					 .tap = "tap7",
					 .fd = 9,
					 .mac = {2, 0, 0, 0, 0, 9},
					 .has_mac = 1,
					 .mtu = 9000};
	c->nets[0].rx_rl.bandwidth = (struct token_bucket_config){1000, 500, 1000};
	c->nets[0].rx_rl.ops = (struct token_bucket_config){100, 0, 250};
	c->nets[0].tx_rl.bandwidth = (struct token_bucket_config){2000, 0, 1000};
	c->nets[0].tx_rl.ops = (struct token_bucket_config){7, 3, 2000};
}

static void save(const struct vm_config *c, struct state_buf *b)
{
	state_buf_init(b);
	snap_machine_save(c, b);
	assert_int_equal(b->err, 0);
}

static void round_trip(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;

	(void)state;
	sample(&a);
	save(&a, &buf);
	config_init(&b);
	assert_int_equal(
	    snap_machine_parse(buf.data, buf.len, SNAP_MACHINE_VERSION, &b, err, sizeof(err)), 0);
	assert_int_equal(b.memory, a.memory);
	assert_int_equal(b.cpus, 2);
	assert_int_equal(b.irqchip, IRQCHIP_ON);
	assert_int_equal(b.rng, 1);
	assert_int_equal(b.rng_rate, 4096);
	assert_int_equal(b.rng_rl.ops.size, 10);
	assert_int_equal(b.rng_rl.ops.refill_time_ms, 1000);
	assert_int_equal(b.console, CONSOLE_VIRTIO);
	assert_int_equal(b.restored_linux, 1);
	assert_null(b.kernel); /* nothing is loaded on restore */
	assert_int_equal(b.nr_disks, 2);
	assert_string_equal(b.disks[0].path, "/disk0.img");
	assert_string_equal(b.disks[0].serial, "S0");
	assert_string_equal(b.disks[0].id, "rootfs");
	assert_string_equal(b.disks[0].partuuid, "abcd-01");
	assert_int_equal(b.disks[0].root, 1);
	assert_int_equal(b.disks[0].poll_us, 50);
	assert_int_equal(b.disks[0].bps, 1000);
	assert_int_equal(b.disks[0].iops, 7);
	assert_null(b.disks[1].serial);
	assert_int_equal(b.disks[1].read_only, 1);
	assert_int_equal(b.disks[1].rl.bandwidth.size, 1 << 20);
	assert_int_equal(b.nr_nets, 1);
	assert_string_equal(b.nets[0].tap, "tap7");
	assert_int_equal(b.nets[0].fd, -1); /* opened by name on restore */
	assert_int_equal(b.nets[0].has_mac, 1);
	assert_memory_equal(b.nets[0].mac, a.nets[0].mac, 6);
	assert_int_equal(b.nets[0].mtu, 9000);
	/* Version 4: both limiters whole, and the iface_id. */
	assert_memory_equal(&b.nets[0].rx_rl, &a.nets[0].rx_rl, sizeof(a.nets[0].rx_rl));
	assert_memory_equal(&b.nets[0].tx_rl, &a.nets[0].tx_rl, sizeof(a.nets[0].tx_rl));
	assert_string_equal(b.nets[0].id, "eth0");
	assert_int_equal(b.vsock_cid, 9);
	assert_string_equal(b.vsock_uds, "/run/v.sock");
	config_free(&b);
	state_buf_free(&buf);
}

/* Version 1 had no vsock: such a section is still read, without one; a
 * version 2 payload is not a version 1 one. */
static void version1(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;

	(void)state;
	sample(&a);
	save(&a, &buf);
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len, 1, &b, err, sizeof(err)), -EINVAL);
	config_free(&b);
	state_buf_free(&buf);
	a.vsock_uds = NULL;
	a.nr_nets = 0;
	save(&a, &buf);
	/* v2 ends with u8 vsock 0, v3 adds u32 nets 0 */
	assert_int_equal(buf.data[buf.len - 5], 0);
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len - 5, 1, &b, err, sizeof(err)), 0);
	assert_null(b.vsock_uds);
	assert_int_equal(b.nr_disks, 2);
	config_free(&b);
	state_buf_free(&buf);
}

static void expect_refused(const struct state_buf *good, size_t off, const void *v, size_t n,
			   const char *word);

/* A version-2 section (before virtio-net) is the same without the trailing
 * network list; bad network fields are refused. */
static void nets_versions(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;
	const uint32_t mtu = 20, nets = 9;
	uint8_t mcast = 3;
	size_t end;

	(void)state;
	sample(&a);
	a.nr_nets = 0;
	save(&a, &buf);
	config_init(&b);
	/* v2 = this minus the u32 count of networks. */
	assert_int_equal(snap_machine_parse(buf.data, buf.len - 4, 2, &b, err, sizeof(err)), 0);
	assert_int_equal(b.nr_nets, 0);
	assert_int_equal(b.nr_disks, 2);
	assert_string_equal(b.vsock_uds, "/run/v.sock");
	config_free(&b);
	state_buf_free(&buf);
	sample(&a);
	save(&a, &buf);
	/* Network at the end: u32 count, u16 len "tap7", u8 has_mac, mac[6],
	 * u32 mtu, rx and tx limiters (6 x u64 each), u16 len "eth0". */
	end = buf.len - (4 + 2 + 4 + 1 + 6 + 4 + 48 + 48 + 2 + 4);
	expect_refused(&buf, end, &nets, 4, "number of network devices");
	expect_refused(&buf, end + 4 + 2 + 4 + 1, &mcast, 1, "mac");
	expect_refused(&buf, end + 4 + 2 + 4 + 1 + 6, &mtu, 4, "mtu");
	state_buf_free(&buf);
}

/* A version-3 net entry (bytes rates, no id) reads as limiters with a
 * bytes bucket of one second; two nets on one tap are refused, two with one
 * MAC are not (the command line of version 3 allowed it: such snapshots
 * exist and still restore). */
static void nets_version3(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;

	(void)state;
	sample(&a);
	a.nr_nets = 0;
	save(&a, &buf);
	buf.len -= 4; /* the v2 part; then v3's list by hand */
	state_put_u32(&buf, 2);
	for (int i = 0; i < 2; i++) {
		state_put_u16(&buf, 4);
		state_put_bytes(&buf, i ? "tap2" : "tap1", 4);
		state_put_u8(&buf, 1);
		state_put_bytes(&buf, (const uint8_t[6]){2, 0, 0, 0, 0, (uint8_t)i}, 6);
		state_put_u32(&buf, 1500);
		state_put_u64(&buf, i ? 0 : 12345);
		state_put_u64(&buf, 777);
	}
	assert_int_equal(buf.err, 0);
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len, 3, &b, err, sizeof(err)), 0);
	assert_int_equal(b.nr_nets, 2);
	assert_int_equal(b.nets[0].rx_rl.bandwidth.size, 12345);
	assert_int_equal(b.nets[0].rx_rl.bandwidth.refill_time_ms, 1000);
	assert_int_equal(b.nets[0].rx_rl.ops.size, 0);
	assert_int_equal(b.nets[1].rx_rl.bandwidth.size, 0);
	assert_int_equal(b.nets[1].rx_rl.bandwidth.refill_time_ms, 0);
	assert_int_equal(b.nets[1].tx_rl.bandwidth.size, 777);
	assert_string_equal(b.nets[1].id, "");
	config_free(&b);
	/* The same MAC twice: read as it was. */
	buf.data[buf.len - (6 + 4 + 8 + 8) + 5] = 0;
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len, 3, &b, err, sizeof(err)), 0);
	assert_memory_equal(b.nets[0].mac, b.nets[1].mac, 6);
	config_free(&b);
	/* The same tap twice: refused, named. */
	buf.data[buf.len - (1 + 6 + 4 + 8 + 8) - 1] = '1';
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len, 3, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "tap1"));
	config_free(&b);
	/* A version-4 reader does not take it as version 4. */
	config_init(&b);
	assert_int_equal(snap_machine_parse(buf.data, buf.len, 4, &b, err, sizeof(err)), -EINVAL);
	config_free(&b);
	state_buf_free(&buf);
}

/* Every truncation and one byte too many are refused. */
static void truncations(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;

	(void)state;
	sample(&a);
	save(&a, &buf);
	for (size_t n = 0; n < buf.len; n++) {
		config_init(&b);
		assert_int_equal(
		    snap_machine_parse(buf.data, n, SNAP_MACHINE_VERSION, &b, err, sizeof(err)),
		    -EINVAL);
		assert_true(err[0] != '\0');
		config_free(&b);
	}
	buf.data = realloc(buf.data, buf.len + 1);
	buf.data[buf.len] = 0;
	config_init(&b);
	assert_int_equal(
	    snap_machine_parse(buf.data, buf.len + 1, SNAP_MACHINE_VERSION, &b, err, sizeof(err)),
	    -EINVAL);
	config_free(&b);
	state_buf_free(&buf);
}

/* A field patched to a bad value: refused, and the message names it. */
static void expect_refused(const struct state_buf *good, size_t off, const void *v, size_t n,
			   const char *word)
{
	uint8_t *p = malloc(good->len);
	struct vm_config b;

	memcpy(p, good->data, good->len);
	memcpy(p + off, v, n);
	config_init(&b);
	assert_int_equal(
	    snap_machine_parse(p, good->len, SNAP_MACHINE_VERSION, &b, err, sizeof(err)), -EINVAL);
	if (!strstr(err, word))
		fail_msg("offset %zu: '%s' does not name %s", off, err, word);
	config_free(&b);
	free(p);
}

static void bad_fields(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;
	uint64_t zero = 0, odd = 4097, huge = UINT64_MAX;
	uint32_t cpus0 = 0, cpus_big = CONFIG_MAX_CPUS + 1, disks = CONFIG_MAX_DISKS + 1;
	uint8_t two = 2, nine = 9;

	(void)state;
	sample(&a);
	save(&a, &buf);
	expect_refused(&buf, 0, &zero, 8, "memory");
	expect_refused(&buf, 0, &odd, 8, "memory");
	expect_refused(&buf, 0, &huge, 8, "memory");
	expect_refused(&buf, 8, &cpus0, 4, "cpus");
	expect_refused(&buf, 8, &cpus_big, 4, "cpus");
	expect_refused(&buf, 12, &two, 1, "irqchip");
	expect_refused(&buf, 13, &nine, 1, "huge_pages");
	expect_refused(&buf, 14, &nine, 1, "console");
	expect_refused(&buf, 15, &two, 1, "rng");
	/* after rng: u64 rate, 6 x u64 limiter, then debug_exit at 72 */
	expect_refused(&buf, 72, &two, 1, "debug_exit");
	expect_refused(&buf, 73, &two, 1, "linux");
	expect_refused(&buf, 76, &disks, 4, "disks");
	/* The vsock part: u8 present, u64 cid, u16 length, the path; then
	 * the network list (u32 count, tap name, has_mac, mac, mtu, rx, tx). */
	{
		size_t nets = 4 + 2 + strlen("tap7") + 1 + 6 + 4 + 48 + 48 + 2 + strlen("eth0");
		size_t vs = buf.len - nets - (1 + 8 + 2 + strlen("/run/v.sock"));
		uint64_t cid2 = 2, cid_any = UINT32_MAX;
		uint16_t none = 0xffff;

		expect_refused(&buf, vs, &two, 1, "vsock");
		expect_refused(&buf, vs + 1, &cid2, 8, "vsock cid");
		expect_refused(&buf, vs + 1, &cid_any, 8, "vsock cid");
		expect_refused(&buf, vs + 9, &none, 2, "vsock uds");
	}
	state_buf_free(&buf);
	/* Other versions. */
	save(&a, &buf);
	for (uint32_t v = 0; v < 6; v += 5) {
		config_init(&b);
		assert_int_equal(snap_machine_parse(buf.data, buf.len, v, &b, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "version"));
		config_free(&b);
	}
	state_buf_free(&buf);
}

/* A disk path with a NUL inside, or no path at all. */
static void bad_strings(void **state)
{
	struct vm_config a, b;
	struct state_buf buf;
	size_t off = 80; /* the first disk's path: u16 length, bytes */
	uint16_t none = 0xffff;

	(void)state;
	sample(&a);
	save(&a, &buf);
	buf.data[off + 2 + 3] = '\0';
	config_init(&b);
	assert_int_equal(
	    snap_machine_parse(buf.data, buf.len, SNAP_MACHINE_VERSION, &b, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "disk path"));
	config_free(&b);
	state_buf_free(&buf);
	save(&a, &buf);
	expect_refused(&buf, off, &none, 2, "disk path");
	state_buf_free(&buf);
}

static json_t *js(const char *s)
{
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);

	assert_non_null(j);
	return j;
}

static int create(const char *body, struct fc_snapshot_create *c)
{
	json_t *j = js(body);
	int rc = fc_parse_snapshot_create(j, c, err, sizeof(err));

	json_decref(j);
	return rc;
}

/* The strings point into the body: checked before it is freed. */
static int load(const char *body, struct fc_snapshot_load *l)
{
	json_t *j = js(body);
	int rc = fc_parse_snapshot_load(j, l, err, sizeof(err));

	if (rc == 0)
		assert_string_equal(l->mem_path, "m");
	json_decref(j);
	l->mem_path = l->snapshot_path = NULL;
	return rc;
}

static void bodies_create(void **state)
{
	struct fc_snapshot_create c;

	(void)state;
	assert_int_equal(create("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\"}", &c), 0);
	assert_false(c.diff);
	assert_int_equal(create("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
				"\"snapshot_type\": \"Diff\"}",
				&c),
			 0);
	assert_true(c.diff);
	assert_int_equal(create("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
				"\"version\": \"1.0.0\"}",
				&c),
			 0);
	assert_true(create("{\"mem_file_path\": \"m\"}", &c) < 0);
	assert_non_null(strstr(err, "missing field `snapshot_path`"));
	assert_true(create("{\"snapshot_path\": \"s\"}", &c) < 0);
	assert_non_null(strstr(err, "mem_file_path"));
	assert_true(create("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			   "\"snapshot_type\": \"Half\"}",
			   &c) < 0);
	assert_non_null(strstr(err, "unknown variant"));
	assert_true(create("{\"snapshot_path\": 1, \"mem_file_path\": \"m\"}", &c) < 0);
	assert_true(create("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"x\": 1}", &c) <
		    0);
}

static void bodies_load(void **state)
{
	struct fc_snapshot_load l;

	(void)state;
	assert_int_equal(load("{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_type\": "
			      "\"File\", \"backend_path\": \"m\"}, \"resume_vm\": true, "
			      "\"track_dirty_pages\": true, \"clock_realtime\": true}",
			      &l),
			 0);
	assert_true(l.resume_vm && l.track_dirty_pages && l.clock_realtime);
	assert_int_equal(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			      "\"enable_diff_snapshots\": true}",
			      &l),
			 0);
	assert_true(l.track_dirty_pages);
	assert_false(l.resume_vm);
	assert_true(load("{\"snapshot_path\": \"s\"}", &l) < 0);
	assert_non_null(strstr(err, "mem_backend"));
	assert_true(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"mem_backend\": "
			 "{\"backend_type\": \"File\", \"backend_path\": \"m\"}}",
			 &l) < 0);
	assert_true(load("{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_type\": \"Uffd\", "
			 "\"backend_path\": \"u\"}}",
			 &l) == -ENOTSUP);
	assert_true(
	    load("{\"snapshot_path\": \"s\", \"mem_backend\": {\"backend_path\": \"m\"}}", &l) < 0);
	assert_true(
	    load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
		 "\"network_overrides\": [{\"iface_id\": \"a\", \"host_dev_name\": \"t\"}]}",
		 &l) == -ENOTSUP);
	assert_int_equal(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			      "\"network_overrides\": []}",
			      &l),
			 0);
	assert_int_equal(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			      "\"vsock_override\": {\"uds_path\": \"/v.sock\"}}",
			      &l),
			 0);
	assert_true(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			 "\"vsock_override\": {}}",
			 &l) < 0);
	assert_non_null(strstr(err, "uds_path"));
	assert_true(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", "
			 "\"vsock_override\": {\"uds_path\": \"/v\", \"x\": 1}}",
			 &l) < 0);
	assert_true(load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"huge_pages\": "
			 "\"Transparent\"}",
			 &l) == -ENOTSUP);
	assert_true(
	    load("{\"snapshot_path\": \"s\", \"mem_file_path\": \"m\", \"resume_vm\": 1}", &l) < 0);
	assert_true(load("{\"mem_file_path\": \"m\"}", &l) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip),    cmocka_unit_test(truncations),
	    cmocka_unit_test(version1),	     cmocka_unit_test(nets_versions),
	    cmocka_unit_test(nets_version3), cmocka_unit_test(bad_fields),
	    cmocka_unit_test(bad_strings),   cmocka_unit_test(bodies_create),
	    cmocka_unit_test(bodies_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
