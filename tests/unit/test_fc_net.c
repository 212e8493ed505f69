/* fc_net: PUT /network-interfaces/{id} and PUT /vsock bodies, valid and
 * invalid, from a table with the error text each must give (a refused
 * body changes nothing); PATCH bodies and the limits an update leaves
 * (absent limiter or bucket kept, size 0 disabling); the config file's
 * network-interfaces and vsock sections; GET /vm/config fed back as a
 * config file; the names --net interfaces answer to. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/fc_config.h"
#include "api/fc_net.h"

#define DESER "An error occurred when deserializing the json body of a request: "
#define BOOT_OK "\"boot-source\": {\"kernel_image_path\": \"vmlinux\"}"

static char err[512];

enum res { NET, VSOCK, NET_PATCH, ENTROPY_PATCH };

struct body_case {
	enum res res;
	const char *path_id;
	const char *body;
	int rc;
	const char *want;
};

static const struct body_case cases[] = {
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}", 0, NULL},
    {NET, "eth0",
     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:AC:10:00:02\","
     " \"mtu\": 1500, \"rx_rate_limiter\": null, \"tx_rate_limiter\": {\"bandwidth\": {\"size\":"
     " 1000, \"one_time_burst\": 10, \"refill_time\": 100}, \"ops\": null}}",
     0, NULL},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": null}", 0,
     NULL},
    {NET, "eth0", "{\"host_dev_name\": \"tap0\"}", -EINVAL, DESER "missing field `iface_id`."},
    {NET, "eth0", "{\"iface_id\": \"eth0\"}", -EINVAL, DESER "missing field `host_dev_name`."},
    {NET, "eth0", "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap0\"}", -EINVAL,
     "The id from the path does not match the id from the body!"},
    {NET, "eth-0", "{\"iface_id\": \"eth-0\", \"host_dev_name\": \"tap0\"}", -EINVAL,
     "API Resource IDs can only contain alphanumeric characters and underscores."},
    {NET, "", "{\"iface_id\": \"\", \"host_dev_name\": \"tap0\"}", -EINVAL,
     "The ID cannot be empty."},
    {NET, "eth0", "{\"iface_id\": 0, \"host_dev_name\": \"tap0\"}", -EINVAL, "expected a string"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"\"}", -EINVAL,
     "Invalid host_dev_name"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"a/b\"}", -EINVAL,
     "Invalid host_dev_name a/b"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": [\"tap0\"]}", -EINVAL,
     "expected a string"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"guest_mac\": \"x\"}",
     -EINVAL, DESER "invalid value: `guest_mac` x"},
    {NET, "eth0",
     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"guest_mac\": \"06:00:ac:10:00:02:\"}",
     -EINVAL, "expected six hex octets"},
    {NET, "eth0",
     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"guest_mac\": \"ff:ff:ff:ff:ff:ff\"}",
     -EINVAL, "is a multicast address"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"mtu\": 0}", -EINVAL,
     "Invalid mtu 0: expected 68 to 65535."},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"mtu\": -1}", -EINVAL,
     "expected u16"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"mtu\": \"9000\"}", -EINVAL,
     "expected u16"},
    {NET, "eth0",
     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"rx_rate_limiter\": {\"ops\": {\"size\":"
     " 1, \"refill_time\": 86400001}}}",
     -EINVAL, "Cannot create RateLimiter"},
    {NET, "eth0",
     "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"tx_rate_limiter\": {\"iops\": {}}}",
     -EINVAL, "unknown field `iops`, expected `bandwidth` or `ops`"},
    {NET, "eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"allow_mmds_requests\": 1}",
     -EINVAL, "unknown field `allow_mmds_requests`"},
    /* vsock */
    {VSOCK, NULL, "{\"guest_cid\": 3, \"uds_path\": \"/v.sock\"}", 0, NULL},
    {VSOCK, NULL, "{\"guest_cid\": 4294967294, \"uds_path\": \"v\", \"vsock_id\": \"vsock\"}", 0,
     NULL},
    {VSOCK, NULL, "{\"guest_cid\": 3, \"uds_path\": \"/v\", \"vsock_id\": null}", 0, NULL},
    {VSOCK, NULL, "{\"uds_path\": \"/v\"}", -EINVAL, DESER "missing field `guest_cid`."},
    {VSOCK, NULL, "{\"guest_cid\": 3}", -EINVAL, DESER "missing field `uds_path`."},
    {VSOCK, NULL, "{\"guest_cid\": 2, \"uds_path\": \"/v\"}", -EINVAL,
     "Invalid guest_cid 2: expected 3 to 4294967294."},
    {VSOCK, NULL, "{\"guest_cid\": -3, \"uds_path\": \"/v\"}", -EINVAL, "expected u32"},
    {VSOCK, NULL, "{\"guest_cid\": 3.5, \"uds_path\": \"/v\"}", -EINVAL, "floating point"},
    {VSOCK, NULL, "{\"guest_cid\": 3, \"uds_path\": 7}", -EINVAL, "expected a string"},
    {VSOCK, NULL, "{\"guest_cid\": 3, \"uds_path\": \"/v\", \"vsock_id\": 1}", -EINVAL,
     "expected a string"},
    {VSOCK, NULL, "{\"guest_cid\": 3, \"uds_path\": \"/v\", \"port\": 1}", -EINVAL,
     "unknown field `port`"},
    {VSOCK, NULL,
     "{\"guest_cid\": 3, \"uds_path\": \"/0123456789012345678901234567890123456789012345678901234"
     "5678901234567890123456789012345678901234567890\"}",
     -EINVAL, "Invalid uds_path: expected 1 to 96 bytes"},
    /* PATCH /network-interfaces/{id} */
    {NET_PATCH, "eth0", "{\"iface_id\": \"eth0\"}", 0, NULL},
    {NET_PATCH, "eth0",
     "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {}, \"tx_rate_limiter\": "
     "{\"ops\": {\"size\": 1, \"refill_time\": 1}}}",
     0, NULL},
    {NET_PATCH, "eth0", "{}", -EINVAL, "missing field `iface_id`"},
    {NET_PATCH, "eth0", "{\"iface_id\": \"eth9\"}", -EINVAL, "does not match"},
    {NET_PATCH, "eth0", "{\"iface_id\": \"eth0\", \"guest_mac\": \"06:00:00:00:00:01\"}", -EINVAL,
     "unknown field `guest_mac`, expected one of `iface_id`"},
    {NET_PATCH, "eth0", "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": []}", -EINVAL,
     "expected struct RateLimiterConfig"},
    /* PATCH /entropy */
    {ENTROPY_PATCH, NULL, "{\"rate_limiter\": {\"ops\": {\"size\": 1, \"refill_time\": 1}}}", 0,
     NULL},
    {ENTROPY_PATCH, NULL, "{\"rate_limiter\": null}", -EINVAL, "missing field `rate_limiter`"},
    {ENTROPY_PATCH, NULL, "{\"rate\": 1}", -EINVAL, "unknown field `rate`"},
};

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fail_msg("bad JSON in test: %s (%s)", je.text, s);
	return j;
}

static void body_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct body_case *c = &cases[i];
		struct fc_net_update nu;
		struct fc_rl_update eu;
		struct vm_config cfg;
		json_t *b = J(c->body);
		int rc;

		fc_config_init(&cfg);
		err[0] = 0;
		switch (c->res) {
		case NET:
			rc = fc_put_net(&cfg, c->path_id, b, err, sizeof(err));
			break;
		case VSOCK:
			rc = fc_put_vsock(&cfg, b, err, sizeof(err));
			break;
		case NET_PATCH:
			rc = fc_parse_net_update(c->path_id, b, &nu, err, sizeof(err));
			break;
		default:
			rc = fc_parse_entropy_update(b, &eu, err, sizeof(err));
			break;
		}
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d, want %d; err '%s'", i, c->body, rc, c->rc,
				 err);
		if (c->want && !strstr(err, c->want))
			fail_msg("case %zu (%s): err '%s' lacks '%s'", i, c->body, err, c->want);
		if (rc) { /* a refused body changes nothing */
			assert_int_equal(cfg.nr_nets, 0);
			assert_null(cfg.vsock_uds);
			assert_int_equal(cfg.nr_owned, 0);
		} else if (c->res == NET) {
			assert_int_equal(cfg.nr_nets, 1);
			assert_string_equal(cfg.nets[0].id, c->path_id);
			assert_int_equal(cfg.nets[0].fd, -1);
		}
		json_decref(b);
		config_free(&cfg);
	}
}

/* Firecracker's update rule: an absent limiter or bucket keeps the
 * current one; a given one replaces it (size 0: no limit). */
static void update_limits(void **state)
{
	struct rate_limiter_config cur = {{1000, 10, 100}, {5, 0, 50}}, out;
	struct fc_net_update u;
	struct vm_config cfg;
	json_t *b;

	(void)state;
	b = J("{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"ops\": {\"size\": 0, "
	      "\"refill_time\": 0}}, \"tx_rate_limiter\": {\"bandwidth\": {\"size\": 7, "
	      "\"refill_time\": 70}}}");
	assert_int_equal(fc_parse_net_update("eth0", b, &u, err, sizeof(err)), 0);
	json_decref(b);
	fc_rl_update_limits(&u.rx, &cur, &out);
	assert_memory_equal(&out.bandwidth, &cur.bandwidth, sizeof(cur.bandwidth));
	assert_int_equal(out.ops.size, 0);
	assert_int_equal(out.ops.refill_time_ms, 0);
	fc_rl_update_limits(&u.tx, &cur, &out);
	assert_int_equal(out.bandwidth.size, 7);
	assert_int_equal(out.bandwidth.one_time_burst, 0);
	assert_int_equal(out.bandwidth.refill_time_ms, 70);
	assert_memory_equal(&out.ops, &cur.ops, sizeof(cur.ops));
	/* Recorded in the config: the interface with that id only. */
	fc_config_init(&cfg);
	b = J("{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}");
	assert_int_equal(fc_put_net(&cfg, "eth0", b, err, sizeof(err)), 0);
	json_decref(b);
	cfg.nets[0].rx_rl = cur;
	assert_int_equal(fc_apply_net_update(&cfg, &u, err, sizeof(err)), 0);
	assert_int_equal(cfg.nets[0].rx_rl.ops.size, 0);
	assert_int_equal(cfg.nets[0].rx_rl.bandwidth.size, 1000);
	assert_int_equal(cfg.nets[0].tx_rl.bandwidth.size, 7);
	strcpy(u.id, "eth1");
	assert_int_equal(fc_apply_net_update(&cfg, &u, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "Invalid network interface ID: eth1");
	config_free(&cfg);
}

/* Interfaces from --net have no iface_id: they answer to net<N>. */
static void cli_names(void **state)
{
	struct vm_config cfg;
	enum config_cmd cmd;
	char *argv[] = {"kite",	   "run",
			"--image", "x",
			"--net",   "tap=t0,rx-ops=10",
			"--net",   "tap=t1,mac=02:00:00:00:00:01",
			"--vsock", "cid=5,uds=/v",
			NULL};
	json_t *j, *n;

	(void)state;
	assert_int_equal(config_parse(10, argv, &cfg, &cmd, err, sizeof(err)), 0);
	assert_int_equal(fc_find_net(&cfg, "net0"), 0);
	assert_int_equal(fc_find_net(&cfg, "net1"), 1);
	assert_int_equal(fc_find_net(&cfg, "net2"), -1);
	assert_int_equal(fc_find_net(&cfg, "eth0"), -1);
	j = fc_get_nets(&cfg);
	assert_int_equal(json_array_size(j), 2);
	n = json_array_get(j, 1);
	assert_string_equal(json_string_value(json_object_get(n, "iface_id")), "net1");
	assert_string_equal(json_string_value(json_object_get(n, "guest_mac")),
			    "02:00:00:00:00:01");
	n = json_array_get(j, 0);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(n, "rx_rate_limiter"), "ops"), "size")),
	    10);
	assert_true(json_is_null(json_object_get(n, "guest_mac")));
	assert_null(json_object_get(n, "mtu"));
	json_decref(j);
	j = fc_get_vsock(&cfg);
	assert_int_equal(json_integer_value(json_object_get(j, "guest_cid")), 5);
	json_decref(j);
	config_free(&cfg);
}

static const char file_json[] =
    "{" BOOT_OK ", \"network-interfaces\": ["
    " {\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\", \"guest_mac\": \"06:00:ac:10:00:02\","
    "  \"mtu\": 9000, \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1048576, \"one_time_burst\":"
    "  4096, \"refill_time\": 1000}, \"ops\": {\"size\": 100, \"refill_time\": 10}}},"
    " {\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"tx_rate_limiter\": {\"ops\":"
    "  {\"size\": 5, \"refill_time\": 1000}}}],"
    " \"vsock\": {\"guest_cid\": 42, \"uds_path\": \"/run/v.sock\", \"vsock_id\": \"vsock0\"}}";

static void same_nets(const struct vm_config *a, const struct vm_config *b)
{
	assert_int_equal(a->nr_nets, b->nr_nets);
	for (int i = 0; i < a->nr_nets; i++) {
		const struct net_config *x = &a->nets[i], *y = &b->nets[i];

		assert_string_equal(x->id, y->id);
		assert_string_equal(x->tap, y->tap);
		assert_int_equal(x->has_mac, y->has_mac);
		assert_memory_equal(x->mac, y->mac, 6);
		assert_int_equal(x->mtu, y->mtu);
		assert_memory_equal(&x->rx_rl, &y->rx_rl, sizeof(x->rx_rl));
		assert_memory_equal(&x->tx_rl, &y->tx_rl, sizeof(x->tx_rl));
	}
	assert_int_equal(a->vsock_cid, b->vsock_cid);
	assert_string_equal(a->vsock_uds, b->vsock_uds);
}

/* The config file's sections, and GET /vm/config fed back as a file. */
static void file_round_trip(void **state)
{
	struct vm_config a, b;
	struct fc_logger lg = {0};
	struct fc_metrics m = {0};
	json_t *j;
	char *s;

	(void)state;
	fc_config_init(&a);
	if (fc_config_json(&a, &lg, &m, file_json, strlen(file_json), err, sizeof(err)))
		fail_msg("parse: %s", err);
	assert_int_equal(a.nr_nets, 2);
	assert_int_equal(a.nets[0].mtu, 9000);
	assert_int_equal(a.nets[0].rx_rl.bandwidth.one_time_burst, 4096);
	assert_int_equal(a.nets[0].rx_rl.ops.size, 100);
	assert_int_equal(a.nets[1].tx_rl.ops.size, 5);
	assert_false(a.nets[1].has_mac);
	assert_int_equal(a.vsock_cid, 42);
	assert_string_equal(a.vsock_uds, "/run/v.sock");
	j = fc_get_vm_config(&a, NULL, NULL);
	assert_non_null(j);
	s = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	fc_config_init(&b);
	if (fc_config_json(&b, &lg, &m, s, strlen(s), err, sizeof(err)))
		fail_msg("GET output does not parse back: %s\n%s", err, s);
	same_nets(&a, &b);
	free(s);
	config_free(&a);
	config_free(&b);
}

static void file_refusals(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
	    {"{" BOOT_OK ", \"network-interfaces\": {}}",
	     "network-interfaces: invalid type, expected a sequence"},
	    {"{" BOOT_OK ", \"network-interfaces\": [3]}", "network-interfaces: "},
	    {"{" BOOT_OK ", \"network-interfaces\": [{\"host_dev_name\": \"t\"}]}",
	     "network-interfaces: " DESER "missing field `iface_id`."},
	    {"{" BOOT_OK
	     ", \"network-interfaces\": [{\"iface_id\": \"a\", \"host_dev_name\": \"t\"},"
	     " {\"iface_id\": \"b\", \"host_dev_name\": \"t\"}]}",
	     "network-interfaces: Could not add network interface b: tap t: given twice"},
	    {"{" BOOT_OK ", \"vsock\": []}", "vsock: "},
	    {"{" BOOT_OK ", \"vsock\": {\"guest_cid\": 1, \"uds_path\": \"/v\"}}",
	     "vsock: Invalid guest_cid 1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vm_config cfg;
		struct fc_logger lg = {0};
		struct fc_metrics m = {0};

		fc_config_init(&cfg);
		assert_int_equal(fc_config_json(&cfg, &lg, &m, bad[i].text, strlen(bad[i].text),
						err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: err '%s' lacks '%s'", bad[i].text, err, bad[i].want);
		config_free(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(body_table),    cmocka_unit_test(update_limits),
	    cmocka_unit_test(cli_names),     cmocka_unit_test(file_round_trip),
	    cmocka_unit_test(file_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
