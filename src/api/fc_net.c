/* Network interfaces, the vsock device and the limiter updates after boot,
 * between Firecracker's bodies and struct vm_config. See fc_net.h. */
#include "api/fc_net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/fc_json.h"

int fc_find_net(const struct vm_config *cfg, const char *id)
{
	char name[16];

	for (int i = 0; i < cfg->nr_nets && i < CONFIG_MAX_NETS; i++) {
		snprintf(name, sizeof(name), "net%d", i);
		if (!strcmp(cfg->nets[i].id[0] ? cfg->nets[i].id : name, id))
			return i;
	}
	return -1;
}

/* ---- PUT /network-interfaces/{id} ---- */

static int put_mac(const json_t *body, struct net_config *n, char *err, size_t errlen)
{
	const char *mac;
	int rc;

	if ((rc = fcj_str(body, "guest_mac", 32, &mac, err, errlen)) <= 0)
		return rc;
	if (config_parse_mac(mac, n->mac))
		return fcj_deser(err, errlen,
				 "invalid value: `guest_mac` %.32s, expected six hex octets, as in "
				 "06:00:AC:10:00:02",
				 mac);
	if (n->mac[0] & 1)
		return fcj_fail(err, errlen, -EINVAL,
				"The guest MAC address %s is a multicast address.", mac);
	n->has_mac = 1;
	return 0;
}

int fc_put_net(struct vm_config *cfg, const char *path_id, const json_t *body, char *err,
	       size_t errlen)
{
	static const char *const fields[] = {
	    "iface_id",	       "host_dev_name", "guest_mac", "rx_rate_limiter",
	    "tx_rate_limiter", "mtu",		NULL};
	const char *tap;
	uint64_t mtu = 0;
	struct net_config n;
	char why[96];
	int rc, pos;

	memset(&n, 0, sizeof(n));
	n.fd = -1;
	if ((rc = fcj_checked_id(path_id, CONFIG_NET_ID_MAX, "Network interface IDs", err,
				 errlen)) ||
	    (rc = fcj_object(body, "NetworkInterfaceConfig", fields, err, errlen)) ||
	    (rc = fcj_body_id(path_id, body, "iface_id", err, errlen)))
		return rc;
	if ((rc = fcj_str(body, "host_dev_name", 64, &tap, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("host_dev_name", err, errlen);
	/* IFNAMSIZ is 16 with the terminating zero. */
	if (!*tap || strlen(tap) > 15 || strchr(tap, '/'))
		return fcj_fail(err, errlen, -EINVAL,
				"Invalid host_dev_name %.64s: expected an interface name of 1 to "
				"15 characters.",
				tap);
	if ((rc = put_mac(body, &n, err, errlen)) < 0 ||
	    (rc = fcj_u64(body, "mtu", UINT16_MAX, "u16", &mtu, err, errlen)) < 0)
		return rc;
	if (rc && mtu < CONFIG_NET_MTU_MIN)
		return fcj_fail(err, errlen, -EINVAL, "Invalid mtu %llu: expected %d to %d.",
				(unsigned long long)mtu, CONFIG_NET_MTU_MIN, CONFIG_NET_MTU_MAX);
	n.mtu = (uint32_t)mtu;
	if ((rc = fcj_rate_limiter(json_object_get(body, "rx_rate_limiter"), &n.rx_rl, err,
				   errlen)) ||
	    (rc =
		 fcj_rate_limiter(json_object_get(body, "tx_rate_limiter"), &n.tx_rl, err, errlen)))
		return rc;
	strcpy(n.id, path_id); /* checked_id bounded it */
	n.tap = tap;	       /* for the check; copied below */
	pos = fc_find_net(cfg, path_id);
	if (pos < 0 && cfg->nr_nets >= CONFIG_MAX_NETS)
		return fcj_fail(err, errlen, -EINVAL,
				"Too many network interfaces: this kite takes at most %d.",
				CONFIG_MAX_NETS);
	if (config_net_conflict(cfg->nets, cfg->nr_nets, pos, &n, why, sizeof(why)))
		return fcj_fail(err, errlen, -EINVAL, "Could not add network interface %s: %s.",
				path_id, why);
	if ((rc = config_strdup(cfg, tap, &n.tap)))
		return fcj_fail(err, errlen, rc, "Out of memory.");
	if (pos >= 0) {
		config_release(cfg, cfg->nets[pos].tap);
		cfg->nets[pos] = n;
	} else {
		cfg->nets[cfg->nr_nets++] = n;
	}
	return 0;
}

/* ---- limiter updates ---- */

int fc_parse_net_update(const char *path_id, const json_t *body, struct fc_net_update *u, char *err,
			size_t errlen)
{
	static const char *const fields[] = {"iface_id", "rx_rate_limiter", "tx_rate_limiter",
					     NULL};
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = fcj_checked_id(path_id, CONFIG_NET_ID_MAX, "Network interface IDs", err,
				 errlen)) ||
	    (rc = fcj_object(body, "NetworkInterfaceUpdateConfig", fields, err, errlen)) ||
	    (rc = fcj_body_id(path_id, body, "iface_id", err, errlen)) ||
	    (rc = fcj_rl_update(body, "rx_rate_limiter", &u->rx, err, errlen)) ||
	    (rc = fcj_rl_update(body, "tx_rate_limiter", &u->tx, err, errlen)))
		return rc;
	strcpy(u->id, path_id);
	return 0;
}

int fc_apply_net_update(struct vm_config *cfg, const struct fc_net_update *u, char *err,
			size_t errlen)
{
	int pos = fc_find_net(cfg, u->id);

	if (pos < 0)
		return fcj_fail(err, errlen, -ENOENT, "Invalid network interface ID: %s", u->id);
	fc_rl_update_limits(&u->rx, &cfg->nets[pos].rx_rl, &cfg->nets[pos].rx_rl);
	fc_rl_update_limits(&u->tx, &cfg->nets[pos].tx_rl, &cfg->nets[pos].tx_rl);
	return 0;
}

int fc_parse_entropy_update(const json_t *body, struct fc_rl_update *u, char *err, size_t errlen)
{
	static const char *const fields[] = {"rate_limiter", NULL};
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = fcj_object(body, "EntropyDeviceUpdateConfig", fields, err, errlen)) ||
	    (rc = fcj_rl_update(body, "rate_limiter", u, err, errlen)))
		return rc;
	if (!u->given)
		return fcj_missing("rate_limiter", err, errlen);
	return 0;
}

/* ---- PUT /vsock ---- */

int fc_put_vsock(struct vm_config *cfg, const json_t *body, char *err, size_t errlen)
{
	static const char *const fields[] = {"guest_cid", "uds_path", "vsock_id", NULL};
	const char *uds, *id, *copy;
	uint64_t cid;
	int rc;

	if ((rc = fcj_object(body, "VsockDeviceConfig", fields, err, errlen)))
		return rc;
	/* Deprecated by Firecracker; clients still send it. */
	if ((rc = fcj_str(body, "vsock_id", 64, &id, err, errlen)) < 0)
		return rc;
	if ((rc = fcj_u64(body, "guest_cid", UINT32_MAX, "u32", &cid, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("guest_cid", err, errlen);
	if ((rc = fcj_str(body, "uds_path", FCJ_PATH_MAX, &uds, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("uds_path", err, errlen);
	/* 0-2 are the hypervisor's, the reserved and the host's; 2^32 - 1
	 * is VMADDR_CID_ANY. */
	if (cid < 3 || cid >= UINT32_MAX)
		return fcj_fail(err, errlen, -EINVAL,
				"Invalid guest_cid %llu: expected 3 to 4294967294.",
				(unsigned long long)cid);
	if (!*uds || strlen(uds) > CONFIG_VSOCK_PATH_MAX)
		return fcj_fail(err, errlen, -EINVAL,
				"Invalid uds_path: expected 1 to %d bytes (room for \"_<port>\" "
				"in a Unix socket address).",
				CONFIG_VSOCK_PATH_MAX);
	if ((rc = config_strdup(cfg, uds, &copy)))
		return fcj_fail(err, errlen, rc, "Out of memory.");
	config_release(cfg, cfg->vsock_uds);
	cfg->vsock_uds = copy;
	cfg->vsock_cid = cid;
	return 0;
}

/* ---- the config file ---- */

int fc_config_nets(struct vm_config *cfg, const json_t *v, char *err, size_t errlen)
{
	static const char *const none[] = {NULL};
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return fcj_fail(err, errlen, -EINVAL, "invalid type, expected a sequence");
	for (size_t i = 0; i < json_array_size(v); i++) {
		const json_t *d = json_array_get(v, i);
		const char *id = NULL;

		/* The API takes the id from the path; here it is the body's own. */
		if (!json_is_object(d))
			rc = fcj_object(d, "NetworkInterfaceConfig", none, err, errlen);
		else if ((rc = fcj_str(d, "iface_id", 64, &id, err, errlen)) == 0)
			rc = fcj_missing("iface_id", err, errlen);
		else if (rc > 0)
			rc = fc_put_net(cfg, id, d, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- GET /vm/config ---- */

static json_t *net_json(const struct net_config *n, int i)
{
	char id[16], mac[18];
	json_t *o;

	snprintf(id, sizeof(id), "%s", n->id);
	if (!id[0])
		snprintf(id, sizeof(id), "net%d", i);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1], n->mac[2],
		 n->mac[3], n->mac[4], n->mac[5]);
	o = json_pack("{ss ss so so so}", "iface_id", id, "host_dev_name", n->tap ? n->tap : "",
		      "guest_mac", n->has_mac ? json_string(mac) : json_null(), "rx_rate_limiter",
		      fcj_rate_limiter_json(&n->rx_rl), "tx_rate_limiter",
		      fcj_rate_limiter_json(&n->tx_rl));
	/* Absent mtu: VIRTIO_NET_F_MTU not offered. */
	if (o && n->mtu && json_object_set_new(o, "mtu", json_integer(n->mtu))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *fc_get_nets(const struct vm_config *cfg)
{
	json_t *a = json_array();

	for (int i = 0; a && i < cfg->nr_nets && i < CONFIG_MAX_NETS; i++) {
		if (json_array_append_new(a, net_json(&cfg->nets[i], i))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *fc_get_vsock(const struct vm_config *cfg)
{
	if (!cfg->vsock_uds)
		return json_null();
	return json_pack("{sI ss}", "guest_cid", (json_int_t)cfg->vsock_cid, "uds_path",
			 cfg->vsock_uds);
}
