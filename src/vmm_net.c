/* PATCH /network-interfaces/{id} and PATCH /entropy after boot: the running
 * device gets its new limiters (virtio_net_set_rate_limiter,
 * virtio_rng_set_rate_limiter) on the event loop's thread, where the API is
 * served, and the config records them (GET /vm/config, snapshots,
 * restarts). Everything that can fail is checked first: on error the old
 * limits stay, in the device and in the config. */
#include "vmm_net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/fc_net.h"
#include "log.h"
#include "virtio/net.h"
#include "virtio/rng.h"

/* The running machine's device called name: 0, or -errno with err set. */
static int running_device(struct vmm_net *v, const char *name, const char *what,
			  struct device **out, char *err, size_t errlen)
{
	if (!*v->built || vm_stopping(v->vm)) {
		snprintf(err, errlen, "Unable to patch the %s: the microVM is not running", what);
		return -EAGAIN;
	}
	*out = device_list_find(&v->vm->devices, name);
	if (!*out) {
		snprintf(err, errlen, "Unable to patch the %s: no device %s", what, name);
		return -ENODEV;
	}
	return 0;
}

static int api_update_net(void *ctx, const struct fc_net_update *u, char *err, size_t errlen)
{
	struct vmm_net *v = ctx;
	struct rate_limiter_config rx, tx;
	char name[DEVICE_NAME_MAX];
	struct virtio_net *n;
	struct device *d;
	int pos = fc_find_net(v->cfg, u->id), rc;

	if (pos < 0) {
		snprintf(err, errlen, "Invalid network interface ID: %s", u->id);
		return -ENOENT;
	}
	snprintf(name, sizeof(name), "net%d", pos);
	if ((rc = running_device(v, name, "network interface", &d, err, errlen)))
		return rc;
	n = virtio_net_from_device(d);
	if (!n) {
		snprintf(err, errlen, "Unable to patch the network interface: %s is not one", name);
		return -ENODEV;
	}
	fc_rl_update_limits(&u->rx, &v->cfg->nets[pos].rx_rl, &rx);
	fc_rl_update_limits(&u->tx, &v->cfg->nets[pos].tx_rl, &tx);
	rc = virtio_net_set_rate_limiter(n, u->rx.given ? &rx : NULL, u->tx.given ? &tx : NULL);
	if (rc) {
		snprintf(err, errlen, "Unable to patch the network interface %s: rate limiter: %s",
			 u->id, strerror(-rc));
		return rc;
	}
	rc = fc_apply_net_update(v->cfg, u, err, errlen);
	if (!rc)
		log_info(name, "network interface %s: rate limiters updated", u->id);
	return rc;
}

static int api_update_entropy(void *ctx, const struct fc_rl_update *u, char *err, size_t errlen)
{
	struct vmm_net *v = ctx;
	struct vm_config *cfg = v->cfg;
	struct rate_limiter_config rl;
	struct virtio_rng *r;
	struct device *d;
	int rc;

	if (!cfg->rng) {
		snprintf(err, errlen, "Unable to patch the entropy device: there is none");
		return -ENODEV;
	}
	if ((rc = running_device(v, "rng0", "entropy device", &d, err, errlen)))
		return rc;
	r = virtio_rng_from_device(d);
	if (!r) {
		snprintf(err, errlen, "Unable to patch the entropy device: rng0 is not one");
		return -ENODEV;
	}
	virtio_rng_rate_limiter(r, &rl);
	fc_rl_update_limits(u, &rl, &rl);
	rc = virtio_rng_set_rate_limiter(r, &rl);
	if (rc) {
		snprintf(err, errlen, "Unable to patch the entropy device: rate limiter: %s",
			 strerror(-rc));
		return rc;
	}
	/* The config records what the device has: a --rng rate is now the
	 * limiter's bytes bucket. */
	cfg->rng_rl = rl;
	cfg->rng_rate = 0;
	log_info("rng0", "entropy device: rate limiter updated");
	return 0;
}

void vmm_net_ops(struct vmm_net *n, struct vm_config *cfg, struct vm *vm, const bool *built,
		 struct api_dev_ops *ops)
{
	*n = (struct vmm_net){cfg, vm, built};
	*ops = (struct api_dev_ops){n, api_update_net, api_update_entropy};
}
