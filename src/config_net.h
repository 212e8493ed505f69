/* --net's value (config_net.c): the limits of a virtio-net device's
 * configuration and the struct one --net (or PUT /network-interfaces/{id},
 * src/api/fc_net.c) fills. config.h includes this for struct vm_config's
 * nets. */
#ifndef KITE_CONFIG_NET_H
#define KITE_CONFIG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "ratelimit.h"

#define CONFIG_MAX_NETS 8
#define CONFIG_NET_MTU_DEFAULT 1500
#define CONFIG_NET_MTU_MIN 68
#define CONFIG_NET_MTU_MAX 65535
/* Room for one --net value, kept (split in place) for the tap's name. */
#define CONFIG_NET_SPEC_MAX 256
/* A Firecracker iface_id: as a drive_id, at most 15 characters. */
#define CONFIG_NET_ID_MAX 15

/* --net tap=NAME[,mac=MAC][,mtu=N][,fd=N][,rx-bps=N][,tx-bps=N][,rx-ops=N]
 * [,tx-ops=N][,rx-burst=N][,tx-burst=N] (src/config_net.c): virtio-net over
 * an existing tap. */
struct net_config {
	char id[CONFIG_NET_ID_MAX + 1]; /* iface_id (API, config file); "" for --net */
	const char *tap;		/* interface name; with fd, the name that fd must carry */
	int fd;				/* an already-open tap (jailers), -1 = open tap by name */
	uint8_t mac[6];
	int has_mac;  /* mac given: offered to the guest (VIRTIO_NET_F_MAC) */
	uint32_t mtu; /* 0 = not given (1500 assumed, VIRTIO_NET_F_MTU not offered) */
	/* Each way: a bytes bucket (frame bytes, without the vnet header)
	 * and an ops bucket (frames); all zero: no limit. */
	struct rate_limiter_config rx_rl, tx_rl;
};

/* One --net value into nets[*nr_nets] (the value copied into
 * specs[*nr_nets], which it then points into), *nr_nets counted up;
 * -EINVAL with a one-line err. */
int config_parse_net(const char *spec, struct net_config nets[CONFIG_MAX_NETS],
		     char specs[CONFIG_MAX_NETS][CONFIG_NET_SPEC_MAX], int *nr_nets, char *err,
		     size_t errlen) MUST_CHECK;
/* Exactly six two-digit hex octets separated by ':' (-EINVAL). A
 * multicast address (odd first octet) is the caller's to refuse. */
int config_parse_mac(const char *s, uint8_t mac[6]) MUST_CHECK;
/* Whether n may join nets[0..nr) (skipping nets[skip], the one n replaces;
 * -1 for none): -EEXIST with one line in err when another uses its tap
 * or, with has_mac, its MAC. */
int config_net_conflict(const struct net_config *nets, int nr, int skip, const struct net_config *n,
			char *err, size_t errlen) MUST_CHECK;

#endif
