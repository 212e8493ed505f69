/* --net tap=NAME[,mac=MAC][,mtu=N][,fd=N][,rx-bps=N][,tx-bps=N][,rx-ops=N]
 * [,tx-ops=N][,rx-burst=N][,tx-burst=N]: one virtio-net device over an
 * existing tap. Parsing only; the tap is opened by the machine
 * (backends/tap.c). Kept apart from config.c, which owns the option table,
 * because each device's value syntax is its own.
 *
 * The limits mirror --disk's bps=, iops=, burst=: a bucket holds one
 * second's worth and refills over 1000 ms; ops are frames; a burst is
 * bytes the guest may move once beyond the bytes rate (it needs one). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_net.h"
#include "config_num.h"

static int nfail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int nfail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int config_parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A positive count with K/M/G into a bucket of one second's worth. */
static int parse_rate(const char *opt, const char *val, struct token_bucket_config *b,
		      const char *tap, const char *what, char *err, size_t errlen)
{
	uint64_t v;

	if (config_parse_bytes(val, &v) || !v)
		return nfail(err, errlen,
			     "--net %s: %s=%s: expected a positive number of %s per "
			     "second (K/M/G suffix allowed)",
			     tap, opt, val, what);
	b->size = v;
	b->refill_time_ms = 1000;
	return 0;
}

static int parse_burst(const char *opt, const char *val, struct token_bucket_config *b,
		       const char *tap, char *err, size_t errlen)
{
	if (config_parse_bytes(val, &b->one_time_burst) || !b->one_time_burst)
		return nfail(err, errlen,
			     "--net %s: %s=%s: expected a positive number of bytes (K/M/G "
			     "suffix allowed)",
			     tap, opt, val);
	return 0;
}

static int parse_opt(char *opt, struct net_config *n, char *err, size_t errlen)
{
	const char *t = n->tap ? n->tap : "";
	char *val = strchr(opt, '=');
	uint64_t v;

	if (!val)
		return nfail(err, errlen, "--net %s: '%s': expected KEY=VALUE", t, opt);
	*val++ = 0;
	if (!strcmp(opt, "tap")) {
		if (n->tap)
			return nfail(err, errlen, "--net: tap= given twice");
		/* IFNAMSIZ is 16 with the terminating zero. */
		if (!*val || strlen(val) > 15 || strchr(val, '/'))
			return nfail(err, errlen,
				     "--net tap=%s: expected an interface name of 1 "
				     "to 15 characters",
				     val);
		n->tap = val;
	} else if (!strcmp(opt, "mac")) {
		if (config_parse_mac(val, n->mac))
			return nfail(err, errlen,
				     "--net %s: mac=%s: expected six hex octets, "
				     "as in 02:00:00:00:00:01",
				     t, val);
		if (n->mac[0] & 1)
			return nfail(err, errlen,
				     "--net %s: mac=%s: a multicast address cannot "
				     "be a NIC's (first octet is odd)",
				     t, val);
		n->has_mac = 1;
	} else if (!strcmp(opt, "mtu")) {
		if (config_parse_u64(val, &v) || v < CONFIG_NET_MTU_MIN || v > CONFIG_NET_MTU_MAX)
			return nfail(err, errlen, "--net %s: mtu=%s: expected %d to %d", t, val,
				     CONFIG_NET_MTU_MIN, CONFIG_NET_MTU_MAX);
		n->mtu = (uint32_t)v;
	} else if (!strcmp(opt, "fd")) {
		if (config_parse_u64(val, &v) || v > INT_MAX)
			return nfail(err, errlen,
				     "--net %s: fd=%s: expected an open file "
				     "descriptor number",
				     t, val);
		n->fd = (int)v;
	} else if (!strcmp(opt, "rx-bps")) {
		return parse_rate(opt, val, &n->rx_rl.bandwidth, t, "bytes", err, errlen);
	} else if (!strcmp(opt, "tx-bps")) {
		return parse_rate(opt, val, &n->tx_rl.bandwidth, t, "bytes", err, errlen);
	} else if (!strcmp(opt, "rx-ops")) {
		return parse_rate(opt, val, &n->rx_rl.ops, t, "frames", err, errlen);
	} else if (!strcmp(opt, "tx-ops")) {
		return parse_rate(opt, val, &n->tx_rl.ops, t, "frames", err, errlen);
	} else if (!strcmp(opt, "rx-burst")) {
		return parse_burst(opt, val, &n->rx_rl.bandwidth, t, err, errlen);
	} else if (!strcmp(opt, "tx-burst")) {
		return parse_burst(opt, val, &n->tx_rl.bandwidth, t, err, errlen);
	} else {
		return nfail(err, errlen,
			     "--net %s: unknown option '%s' (tap=, mac=, mtu=, fd=, "
			     "rx-bps=, tx-bps=, rx-ops=, tx-ops=, rx-burst=, tx-burst=)",
			     t, opt);
	}
	return 0;
}

int config_parse_net(const char *spec, struct net_config nets[CONFIG_MAX_NETS],
		     char specs[CONFIG_MAX_NETS][CONFIG_NET_SPEC_MAX], int *nr_nets, char *err,
		     size_t errlen)
{
	struct net_config *n;
	char *arg, *opt, *save = NULL;
	int rc;

	if (*nr_nets == CONFIG_MAX_NETS)
		return nfail(err, errlen, "--net: at most %d network devices", CONFIG_MAX_NETS);
	if (strlen(spec) >= sizeof(specs[0]))
		return nfail(err, errlen, "--net: the value is too long");
	arg = strcpy(specs[*nr_nets], spec);
	n = &nets[*nr_nets];
	memset(n, 0, sizeof(*n));
	n->fd = -1;
	while ((opt = strtok_r(save ? NULL : arg, ",", &save))) {
		rc = parse_opt(opt, n, err, errlen);
		if (rc)
			return rc;
	}
	if (!n->tap)
		return nfail(err, errlen,
			     "--net %s: expected tap=NAME[,mac=MAC][,mtu=N][,fd=N]"
			     "[,rx-bps=N][,tx-bps=N][,rx-ops=N][,tx-ops=N][,rx-burst=N]"
			     "[,tx-burst=N]",
			     spec);
	if ((n->rx_rl.bandwidth.one_time_burst && !n->rx_rl.bandwidth.size) ||
	    (n->tx_rl.bandwidth.one_time_burst && !n->tx_rl.bandwidth.size))
		return nfail(err, errlen,
			     "--net %s: rx-burst= needs rx-bps=, tx-burst= tx-bps=", n->tap);
	{
		char why[96];

		if (config_net_conflict(nets, *nr_nets, -1, n, why, sizeof(why)))
			return nfail(err, errlen, "--net %s", why);
	}
	(*nr_nets)++;
	return 0;
}

int config_net_conflict(const struct net_config *nets, int nr, int skip, const struct net_config *n,
			char *err, size_t errlen)
{
	for (int i = 0; i < nr; i++) {
		if (i == skip)
			continue;
		if (!strcmp(nets[i].tap, n->tap)) {
			snprintf(err, errlen, "tap %s: given twice (a tap serves one device)",
				 n->tap);
			return -EEXIST;
		}
		if (n->has_mac && nets[i].has_mac && !memcmp(nets[i].mac, n->mac, 6)) {
			snprintf(err, errlen,
				 "mac %02x:%02x:%02x:%02x:%02x:%02x: given twice (two devices "
				 "cannot share a MAC)",
				 n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
			return -EEXIST;
		}
	}
	return 0;
}
