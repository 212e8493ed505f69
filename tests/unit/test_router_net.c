/* Unit tests for src/api/router.c's network, vsock and entropy routes
 * (the route table in test_router.c has their pre/post-boot answers): what
 * the PUTs leave in the config and their refusals, GET /vm/config showing
 * them, and the PATCHes reaching struct api_dev_ops with what the body
 * gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router_fixture.h"

static void put_net(const char *id, const char *tap, const char *mac, int status, const char *want)
{
	char path[64], body[256];

	snprintf(path, sizeof(path), "/network-interfaces/%s", id);
	snprintf(body, sizeof(body), "{\"iface_id\": \"%s\", \"host_dev_name\": \"%s\"%s%s%s}", id,
		 tap, mac ? ", \"guest_mac\": \"" : "", mac ? mac : "", mac ? "\"" : "");
	expect("PUT", path, body, status, want, id);
}

/* Network interfaces and vsock before boot: what the PUTs leave in the
 * config, the refusals (one tap or one MAC twice, too many), a re-PUT
 * replacing, GET /vm/config showing them; no snapshot load after. */
static void net_and_vsock_effects(void **state)
{
	char *out, id[8], tap[8];

	(void)state;
	reset();
	put_net("eth0", "tap0", "06:00:ac:10:00:02", 204, NULL);
	put_net("eth1", "tap1", NULL, 204, NULL);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].id, "eth0");
	assert_string_equal(cfg.nets[0].tap, "tap0");
	assert_true(cfg.nets[0].has_mac);
	assert_false(cfg.nets[1].has_mac);
	put_net("eth2", "tap0", NULL, 400, "tap tap0: given twice");
	put_net("eth2", "tap2", "06:00:AC:10:00:02", 400, "cannot share a MAC");
	put_net("eth2", "tap2", "07:00:ac:10:00:02", 400, "multicast");
	put_net("eth2", "tap2", "06:00:ac:10:00", 400, "six hex octets");
	put_net("eth2", "a_name_too_long_", NULL, 400, "1 to 15 characters");
	put_net("iface_id_too_long", "tap2", NULL, 400, "at most 15 characters");
	assert_int_equal(cfg.nr_nets, 2);
	/* A re-PUT replaces in place; its own tap and MAC are no conflict. */
	put_net("eth0", "tap0", "06:00:ac:10:00:03", 204, NULL);
	put_net("eth0", "tap9", NULL, 204, NULL);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].tap, "tap9");
	assert_false(cfg.nets[0].has_mac);
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 9000, "
	       "\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100}}, "
	       "\"tx_rate_limiter\": {\"ops\": {\"size\": 5, \"one_time_burst\": 2, "
	       "\"refill_time\": 50}}}",
	       204, NULL, "limits");
	assert_int_equal(cfg.nets[1].mtu, 9000);
	assert_int_equal(cfg.nets[1].rx_rl.bandwidth.size, 1000);
	assert_int_equal(cfg.nets[1].tx_rl.ops.one_time_burst, 2);
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 67}", 400,
	       "Invalid mtu 67", "mtu");
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 65536}", 400,
	       "expected u16", "mtu");
	assert_int_equal(cfg.nets[1].mtu, 9000); /* refused: unchanged */
	for (int i = 2; i < CONFIG_MAX_NETS; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		snprintf(tap, sizeof(tap), "t%d", i);
		put_net(id, tap, NULL, 204, NULL);
	}
	put_net("one_more", "tap_more", NULL, 400, "at most 8");
	assert_int_equal(cfg.nr_nets, CONFIG_MAX_NETS);
	expect("PUT", "/vsock", VSOCK, 204, NULL, "vsock");
	expect("PUT", "/vsock", "{\"guest_cid\": 4294967295, \"uds_path\": \"/v\"}", 400,
	       "Invalid guest_cid", "cid any");
	expect("PUT", "/vsock", "{\"guest_cid\": 4294967296, \"uds_path\": \"/v\"}", 400,
	       "expected u32", "cid big");
	expect("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"\"}", 400, "Invalid uds_path",
	       "empty uds");
	assert_string_equal(cfg.vsock_uds, "/tmp/v.sock");
	expect("PUT", "/vsock", "{\"guest_cid\": 77, \"uds_path\": \"/run/w.sock\"}", 204, NULL,
	       "vsock again");
	assert_int_equal(cfg.vsock_cid, 77);
	assert_string_equal(cfg.vsock_uds, "/run/w.sock");
	assert_int_equal(call("GET", "/vm/config", NULL, &out), 200);
	assert_non_null(strstr(out, "\"vsock\":{\"guest_cid\":77,\"uds_path\":\"/run/w.sock\"}"));
	assert_non_null(strstr(out, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap9\","
				    "\"guest_mac\":null,\"rx_rate_limiter\":null,"
				    "\"tx_rate_limiter\":null}"));
	assert_non_null(strstr(out, "\"rx_rate_limiter\":{\"bandwidth\":{\"size\":1000,"
				    "\"one_time_burst\":0,\"refill_time\":100}}"));
	assert_non_null(strstr(out, "\"mtu\":9000"));
	free(out);
	/* Boot-specific resources: a snapshot can no longer be loaded. */
	expect("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
	       400, "not allowed after configuring boot-specific resources", "load");
	reset();
	expect("PUT", "/vsock", VSOCK, 204, NULL, "vsock only");
	expect("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
	       400, "not allowed after configuring boot-specific resources", "load");
}

/* PATCH /network-interfaces/{id} and /entropy reach the ops with what
 * the body gave (which limiter, which buckets); the op's text comes
 * back; a router without the ops says so. */
static void patches_reach_ops(void **state)
{
	(void)state;
	reset();
	fk.state = API_RUNNING;
	expect("PATCH", "/network-interfaces/eth0", NET_PATCH, 204, NULL, "patch");
	assert_int_equal(fk.net_updates, 1);
	assert_string_equal(fk.net.id, "eth0");
	assert_false(fk.net.rx.given); /* null: keep */
	assert_true(fk.net.tx.given);
	assert_true(fk.net.tx.ops);
	assert_false(fk.net.tx.bandwidth);
	assert_int_equal(fk.net.tx.rl.ops.size, 10);
	assert_int_equal(fk.net.tx.rl.ops.refill_time_ms, 100);
	/* A bucket given with size 0 disables it (given, all zero). */
	expect("PATCH", "/network-interfaces/eth0",
	       "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 0, "
	       "\"refill_time\": 0}}}",
	       204, NULL, "disable");
	assert_true(fk.net.rx.given);
	assert_true(fk.net.rx.bandwidth);
	assert_int_equal(fk.net.rx.rl.bandwidth.size, 0);
	fk.net_rc = -ENOENT;
	expect("PATCH", "/network-interfaces/nope", "{\"iface_id\": \"nope\"}", 400,
	       "fake update-net failed", "op fails");
	/* A bad body never reaches the op. */
	expect("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"x\": 1}", 400,
	       "unknown field", "bad body");
	assert_int_equal(fk.net_updates, 3);
	expect("PATCH", "/entropy", ENTROPY_PATCH, 204, NULL, "entropy");
	assert_int_equal(fk.entropy_updates, 1);
	assert_true(fk.entropy.bandwidth);
	assert_false(fk.entropy.ops);
	assert_int_equal(fk.entropy.rl.bandwidth.size, 64);
	fk.entropy_rc = -ENODEV;
	expect("PATCH", "/entropy", ENTROPY_PATCH, 400, "fake update-entropy failed", "fails");
	rt.ops.dev = (struct api_dev_ops){0};
	expect("PATCH", "/network-interfaces/eth0", NET_PATCH, 400, "not available here", "no op");
	expect("PATCH", "/entropy", ENTROPY_PATCH, 400, "not available here", "no op");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(net_and_vsock_effects),
	    cmocka_unit_test(patches_reach_ops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
