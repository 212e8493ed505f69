/* Firecracker's network and vsock resources and the limiter updates after
 * boot: PUT and PATCH /network-interfaces/{id}, PUT /vsock, kite's PATCH
 * /entropy, their config-file sections and their GET /vm/config shapes,
 * to and from struct vm_config. Parsing only (fc_net.c); the VMM applies a
 * checked update to the running device through struct api_ops. Same rules
 * as fc_config.h: unknown fields refused, null means absent, a failing
 * call leaves cfg as it was.
 *
 * kite's choices:
 *  - iface_id: [A-Za-z0-9_], 1 to CONFIG_NET_ID_MAX characters; at most
 *    CONFIG_MAX_NETS interfaces; host_dev_name 1 to 15 characters (an
 *    existing tap, as Firecracker); two interfaces on one tap or with one
 *    guest_mac are refused; mtu (68 to 65535) is offered with
 *    VIRTIO_NET_F_MTU, absent means not offered.
 *  - PUT /vsock: guest_cid 3 to 2^32 - 2; uds_path at most
 *    CONFIG_VSOCK_PATH_MAX bytes (room for "_<port>" in a sockaddr_un);
 *    vsock_id, deprecated by Firecracker, is accepted and ignored.
 *  - PATCH /entropy {"rate_limiter": ...} is kite's extension (Firecracker
 *    has no way to change the entropy device after boot). */
#ifndef KITE_API_FC_NET_H
#define KITE_API_FC_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/fc_json.h"
#include "compiler.h"
#include "config.h"

/* PATCH /network-interfaces/{id} (after boot). */
struct fc_net_update {
	char id[CONFIG_NET_ID_MAX + 1];
	struct fc_rl_update rx, tx;
};

/* Adds an interface, or replaces the one with the same iface_id in place.
 * path_id: the {id} of the path. */
int fc_put_net(struct vm_config *cfg, const char *path_id, const json_t *body, char *err,
	       size_t errlen) MUST_CHECK;
/* Checks a PATCH /network-interfaces/{id} body (iface_id, rx_rate_limiter,
 * tx_rate_limiter). */
int fc_parse_net_update(const char *path_id, const json_t *body, struct fc_net_update *u, char *err,
			size_t errlen) MUST_CHECK;
/* The index in cfg->nets of the interface with that id (an interface from
 * --net answers to "net<N>", as GET /vm/config names it), or -1. */
int fc_find_net(const struct vm_config *cfg, const char *id);
/* Records a checked update in cfg (GET /vm/config, snapshots); -ENOENT
 * with Firecracker's text when no interface has that id. */
int fc_apply_net_update(struct vm_config *cfg, const struct fc_net_update *u, char *err,
			size_t errlen) MUST_CHECK;
/* PUT /vsock: creates the vsock device, or replaces its configuration. */
int fc_put_vsock(struct vm_config *cfg, const json_t *body, char *err, size_t errlen) MUST_CHECK;
/* PATCH /entropy: {"rate_limiter": ...}, required. */
int fc_parse_entropy_update(const json_t *body, struct fc_rl_update *u, char *err,
			    size_t errlen) MUST_CHECK;

/* The config file's "network-interfaces" (an array of PUT bodies, each
 * with its own iface_id) and "vsock" (null: none). */
int fc_config_nets(struct vm_config *cfg, const json_t *v, char *err, size_t errlen) MUST_CHECK;
/* GET /vm/config's "network-interfaces" (an array) and "vsock" (null when
 * there is none). NULL on allocation failure. */
json_t *fc_get_nets(const struct vm_config *cfg);
json_t *fc_get_vsock(const struct vm_config *cfg);

#endif
