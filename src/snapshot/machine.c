/* The machine section: struct vm_config's guest-describing part, saved
 * with a snapshot and read back (as hostile input) by the restoring kite. */
#include "snapshot/machine.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#define NO_STR 0xffffu

static void put_str(struct state_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (s && n >= PATH_MAX) {
		b->err = -ENAMETOOLONG;
		return;
	}
	state_put_u16(b, s ? (uint16_t)n : NO_STR);
	state_put_bytes(b, s, n);
}

static void put_bucket(struct state_buf *b, const struct token_bucket_config *t)
{
	state_put_u64(b, t->size);
	state_put_u64(b, t->one_time_burst);
	state_put_u64(b, t->refill_time_ms);
}

static void put_limiter(struct state_buf *b, const struct rate_limiter_config *rl)
{
	put_bucket(b, &rl->bandwidth);
	put_bucket(b, &rl->ops);
}

static void put_disk(struct state_buf *b, const struct disk_config *d)
{
	put_str(b, d->path);
	put_str(b, d->serial);
	state_put_u8(b, (uint8_t) !!d->read_only);
	state_put_u32(b, d->poll_us);
	put_limiter(b, &d->rl);
	put_str(b, d->id);
	state_put_u8(b, (uint8_t) !!d->root);
	put_str(b, d->partuuid);
	state_put_u8(b, (uint8_t)d->cache);
	state_put_u8(b, (uint8_t)d->io_engine);
	state_put_u64(b, d->bps);
	state_put_u64(b, d->iops);
	state_put_u64(b, d->burst);
}

/* The tap is opened by name on restore: an fd= of the saving process
 * means nothing to the restoring one. */
static void put_net(struct state_buf *b, const struct net_config *n)
{
	put_str(b, n->tap);
	state_put_u8(b, (uint8_t) !!n->has_mac);
	state_put_bytes(b, n->mac, sizeof(n->mac));
	state_put_u32(b, n->mtu);
	/* v4: the whole limiters (v3 had the bytes rates only) and the id. */
	put_limiter(b, &n->rx_rl);
	put_limiter(b, &n->tx_rl);
	put_str(b, n->id);
}

void snap_machine_save(const struct vm_config *cfg, struct state_buf *out)
{
	state_put_u64(out, cfg->memory);
	state_put_u32(out, (uint32_t)cfg->cpus);
	state_put_u8(out, cfg->irqchip == IRQCHIP_ON);
	state_put_u8(out, (uint8_t)cfg->huge_pages);
	state_put_u8(out, (uint8_t)cfg->console);
	state_put_u8(out, (uint8_t) !!cfg->rng);
	state_put_u64(out, cfg->rng_rate);
	put_limiter(out, &cfg->rng_rl);
	state_put_u8(out, (uint8_t) !!cfg->debug_exit);
	state_put_u8(out, (uint8_t) !!(cfg->kernel || cfg->restored_linux));
	state_put_u8(out, (uint8_t) !!cfg->track_dirty_pages);
	state_put_u8(out, (uint8_t) !!cfg->fc);
	state_put_u32(out, (uint32_t)cfg->nr_disks);
	for (int i = 0; i < cfg->nr_disks; i++)
		put_disk(out, &cfg->disks[i]);
	/* v2 */
	state_put_u8(out, (uint8_t) !!cfg->vsock_uds);
	if (cfg->vsock_uds) {
		state_put_u64(out, cfg->vsock_cid);
		put_str(out, cfg->vsock_uds);
	}
	/* v3 */
	state_put_u32(out, (uint32_t)cfg->nr_nets);
	for (int i = 0; i < cfg->nr_nets; i++)
		put_net(out, &cfg->nets[i]);
}

/* A string into cfg (NULL for none); *out untouched on error. */
static void get_str(struct state_reader *r, struct vm_config *cfg, const char *field,
		    const char **out)
{
	uint16_t n = state_get_u16(r);
	char buf[PATH_MAX];

	if (r->err || n == NO_STR) {
		*out = NULL;
		return;
	}
	if (!state_check(r, n < PATH_MAX, field, n))
		return;
	state_get_bytes(r, buf, n);
	buf[n] = '\0';
	if (r->err)
		return;
	if (!state_check(r, strlen(buf) == n, field, n))
		return;
	if (config_strdup(cfg, buf, out))
		state_fail(r, "out of memory");
}

static uint8_t get_bool(struct state_reader *r, const char *field)
{
	uint8_t v = state_get_u8(r);

	state_check(r, v <= 1, field, v);
	return v;
}

static uint8_t get_enum(struct state_reader *r, const char *field, uint8_t max)
{
	uint8_t v = state_get_u8(r);

	state_check(r, v <= max, field, v);
	return v;
}

static void get_bucket(struct state_reader *r, struct token_bucket_config *t)
{
	t->size = state_get_u64(r);
	t->one_time_burst = state_get_u64(r);
	t->refill_time_ms = state_get_u64(r);
}

static void get_limiter(struct state_reader *r, struct rate_limiter_config *rl)
{
	get_bucket(r, &rl->bandwidth);
	get_bucket(r, &rl->ops);
}

static void get_disk(struct state_reader *r, struct vm_config *cfg, struct disk_config *d)
{
	const char *id = NULL;

	memset(d, 0, sizeof(*d));
	get_str(r, cfg, "disk path", &d->path);
	state_check(r, d->path != NULL, "disk path", 0);
	get_str(r, cfg, "disk serial", &d->serial);
	d->read_only = get_bool(r, "disk read_only");
	d->poll_us = state_get_u32(r);
	state_check(r, d->poll_us <= CONFIG_DISK_POLL_US_MAX, "disk poll_us", d->poll_us);
	get_limiter(r, &d->rl);
	/* Always a string, empty for a --disk: one encoding per config. */
	get_str(r, cfg, "disk id", &id);
	if (!state_check(r, id != NULL, "disk id", 0) ||
	    !state_check(r, strlen(id) <= CONFIG_DRIVE_ID_MAX, "disk id length", strlen(id)))
		return;
	memcpy(d->id, id, strlen(id) + 1);
	d->root = get_bool(r, "disk root");
	get_str(r, cfg, "disk partuuid", &d->partuuid);
	d->cache = get_enum(r, "disk cache", DISK_CACHE_WRITEBACK);
	d->io_engine = get_enum(r, "disk io_engine", DISK_IO_ASYNC);
	d->bps = state_get_u64(r);
	d->iops = state_get_u64(r);
	d->burst = state_get_u64(r);
}

/* Version 3's limits: a bytes rate each way, a bucket of one second. */
static void get_bps(struct state_reader *r, struct rate_limiter_config *rl)
{
	uint64_t bps = state_get_u64(r);

	memset(rl, 0, sizeof(*rl));
	rl->bandwidth = (struct token_bucket_config){bps, 0, bps ? 1000 : 0};
}

static void get_net(struct state_reader *r, struct vm_config *cfg, struct net_config *n,
		    uint32_t version)
{
	const char *id = NULL;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	get_str(r, cfg, "net tap", &n->tap);
	if (!state_check(r, n->tap && *n->tap && strlen(n->tap) <= 15, "net tap name",
			 n->tap ? strlen(n->tap) : 0))
		return;
	n->has_mac = get_bool(r, "net has_mac");
	state_get_bytes(r, n->mac, sizeof(n->mac));
	state_check(r, !(n->mac[0] & 1), "net mac (multicast)", n->mac[0]);
	n->mtu = state_get_u32(r);
	state_check(r, !n->mtu || (n->mtu >= CONFIG_NET_MTU_MIN && n->mtu <= CONFIG_NET_MTU_MAX),
		    "net mtu", n->mtu);
	if (version < 4) {
		get_bps(r, &n->rx_rl);
		get_bps(r, &n->tx_rl);
		return;
	}
	get_limiter(r, &n->rx_rl);
	get_limiter(r, &n->tx_rl);
	/* Always a string, empty for a --net. */
	get_str(r, cfg, "net id", &id);
	if (!state_check(r, id != NULL, "net id", 0) ||
	    !state_check(r, strlen(id) <= CONFIG_NET_ID_MAX, "net id length", strlen(id)))
		return;
	memcpy(n->id, id, strlen(id) + 1);
}

static void get_nets(struct state_reader *r, struct vm_config *cfg, uint32_t version)
{
	char why[96];

	uint32_t n = state_get_u32(r);

	if (!state_check(r, n <= CONFIG_MAX_NETS, "number of network devices", n))
		return;
	cfg->nr_nets = (int)n;
	for (uint32_t i = 0; i < n && !r->err; i++) {
		struct net_config probe;

		get_net(r, cfg, &cfg->nets[i], version);
		/* The same uniqueness as the command line's and the API's;
		 * before version 4 the command line let two devices share a
		 * MAC, and those snapshots restore as they were. */
		probe = cfg->nets[i];
		if (version < 4)
			probe.has_mac = 0;
		if (!r->err && config_net_conflict(cfg->nets, (int)i, -1, &probe, why, sizeof(why)))
			state_fail(r, "net %u: %s", i, why);
	}
}

/* The vsock device (v2): its CID, and the socket it is bound to again. */
static void get_vsock(struct state_reader *r, struct vm_config *cfg)
{
	if (!get_bool(r, "vsock") || r->err)
		return;
	cfg->vsock_cid = state_get_u64(r);
	state_check(r, cfg->vsock_cid >= 3 && cfg->vsock_cid < UINT32_MAX, "vsock cid",
		    cfg->vsock_cid);
	get_str(r, cfg, "vsock uds", &cfg->vsock_uds);
	state_check(r, cfg->vsock_uds && cfg->vsock_uds[0], "vsock uds", 0);
}

static void get_machine(struct state_reader *r, struct vm_config *cfg, uint32_t version)
{
	uint32_t n;

	cfg->memory = state_get_u64(r);
	state_check(r, cfg->memory && cfg->memory % 4096 == 0 && cfg->memory <= CONFIG_MAX_MEMORY,
		    "memory", cfg->memory);
	cfg->cpus = (int)state_get_u32(r);
	state_check(r, cfg->cpus >= 1 && cfg->cpus <= CONFIG_MAX_CPUS, "cpus", (uint64_t)cfg->cpus);
	cfg->irqchip = get_bool(r, "irqchip") ? IRQCHIP_ON : IRQCHIP_OFF;
	cfg->huge_pages = get_enum(r, "huge_pages", HUGE_PAGES_TRANSPARENT);
	cfg->console = get_enum(r, "console", CONSOLE_VIRTIO);
	cfg->rng = get_bool(r, "rng");
	cfg->rng_rate = state_get_u64(r);
	get_limiter(r, &cfg->rng_rl);
	cfg->debug_exit = get_bool(r, "debug_exit");
	cfg->restored_linux = get_bool(r, "linux");
	cfg->track_dirty_pages = get_bool(r, "track_dirty_pages");
	cfg->fc = get_bool(r, "fc");
	n = state_get_u32(r);
	if (!state_check(r, n <= CONFIG_MAX_DISKS, "number of disks", n))
		return;
	cfg->nr_disks = (int)n;
	for (uint32_t i = 0; i < n && !r->err; i++)
		get_disk(r, cfg, &cfg->disks[i]);
	if (version >= 2)
		get_vsock(r, cfg);
	/* Versions 1 and 2 predate virtio-net: no network devices. */
	if (version >= 3 && !r->err)
		get_nets(r, cfg, version);
}

int snap_machine_parse(const void *p, size_t len, uint32_t version, struct vm_config *cfg,
		       char *err, size_t errlen)
{
	struct state_reader r;

	state_reader_init(&r, p, len, "machine");
	if (version < 1 || version > SNAP_MACHINE_VERSION)
		state_fail(&r, "section version %u, this kite reads 1 to %u", version,
			   SNAP_MACHINE_VERSION);
	else
		get_machine(&r, cfg, version);
	return state_end(&r, err, errlen);
}
