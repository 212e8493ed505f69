/* kite run --jail (vmm_jail.h): which host resources are opened before the
 * jail closes, and the jail's steps after them. */
#include "vmm_jail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/tap.h"
#include "log.h"
#include "sandbox/jail.h"

/* Descriptors a machine opens after the jail: the VM and its vCPUs,
 * eventfds and irqfds per virtio queue, timers, io_uring rings, API and
 * vsock connections. An estimate with room to spare, for --rlimit nofile. */
static unsigned fds_more(const struct vm_config *c)
{
	unsigned devices = (unsigned)(c->nr_disks + c->nr_nets) + !!c->rng + !!c->vsock_uds +
			   (c->console == CONSOLE_VIRTIO);

	if (!c->image && !c->kernel) /* configured later: assume a full machine */
		devices = MAX(devices, 8u);
	return 24 + 2 * (unsigned)c->cpus + 12 * devices;
}

/* The command line's taps, opened in the network namespace before the
 * jail: each machine (a restart too) dups the fd as it does --net fd=N. */
static int open_taps(struct vm_config *cfg, struct error *e)
{
	for (int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *nc = &cfg->nets[i];
		int fd, rc = tap_open(nc->tap, nc->fd, &fd, e->msg, sizeof(e->msg));

		if (rc)
			return error_blame(e, rc, error_blame_path(rc));
		nc->fd = fd; /* close-on-exec: it survives the jail's sweep */
	}
	return 0;
}

/* The pid as the host sees it: under --new-pid-ns getpid() is 1, but
 * /proc is still the host's mount. */
static int host_pid(void)
{
	char buf[24];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return (int)getpid();
	buf[n] = 0;
	return atoi(buf);
}

int vmm_jail_enter(struct vmm *v, struct error *e)
{
	struct vm_config *cfg = v->cfg;
	const struct jail_config *j = &cfg->jail;
	const char *id = cfg->instance_id;
	char name[80];
	int rc, abi = 0;

	if (!j->dir)
		return 0;
	if (j->netns) {
		rc = jail_netns_join(j->netns, e->msg, sizeof(e->msg));
		if (rc)
			return error_blame(e, rc, error_blame_path(rc));
	}
	/* kite's own options name host paths: open them now. A config file's
	 * or the API's are Firecracker's, inside the jail, opened later. */
	if ((cfg->image || cfg->kernel) && !cfg->fc && !cfg->restore_path && !v->host_open) {
		rc = vm_host_open(&v->host, cfg, v->io, e);
		v->host_open = true;
		if (rc)
			return rc;
		rc = open_taps(cfg, e);
		if (rc)
			return rc;
	}
	if (id && *id && strlen(id) <= 64 &&
	    !id[strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")])
		snprintf(name, sizeof(name), "%s", id);
	else
		snprintf(name, sizeof(name), "kite-%d", host_pid());
	rc = jail_enter(j, &(struct jail_enter_opts){name, fds_more(cfg)}, &abi, e->msg,
			sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : error_blame_path(rc));
	log_info("jail", "in %s as uid %u gid %u; Landlock %s%.0d", j->dir, (unsigned)j->uid,
		 (unsigned)j->gid, abi ? "ABI " : "not available", abi);
	return 0;
}
