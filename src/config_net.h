/* --net's value (config_net.c): the limits of a virtio-net device's
 * configuration and the struct one --net fills. config.h includes this for
 * struct vm_config's nets. */
#ifndef KITE_CONFIG_NET_H
#define KITE_CONFIG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define CONFIG_MAX_NETS 8
#define CONFIG_NET_MTU_DEFAULT 1500
#define CONFIG_NET_MTU_MIN 68
#define CONFIG_NET_MTU_MAX 65535
/* Room for one --net value, kept (split in place) for the tap's name. */
#define CONFIG_NET_SPEC_MAX 256

/* --net tap=NAME[,mac=MAC][,mtu=N][,fd=N][,rx-bps=N][,tx-bps=N]
 * (src/config_net.c): virtio-net over an existing tap. */
struct net_config {
	const char *tap; /* interface name; with fd, the name that fd must carry */
	int fd;		 /* an already-open tap (jailers), -1 = open tap by name */
	uint8_t mac[6];
	int has_mac;		 /* mac given: offered to the guest (VIRTIO_NET_F_MAC) */
	uint32_t mtu;		 /* 0 = not given (1500 assumed, VIRTIO_NET_F_MTU not offered) */
	uint64_t rx_bps, tx_bps; /* frame bytes per second each way, 0 = no limit */
};

/* One --net value into nets[*nr_nets] (the value copied into
 * specs[*nr_nets], which it then points into), *nr_nets counted up;
 * -EINVAL with a one-line err. */
int config_parse_net(const char *spec, struct net_config nets[CONFIG_MAX_NETS],
		     char specs[CONFIG_MAX_NETS][CONFIG_NET_SPEC_MAX], int *nr_nets, char *err,
		     size_t errlen) MUST_CHECK;

#endif
