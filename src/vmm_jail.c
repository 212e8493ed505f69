/* kite run --jail (vmm_jail.h): the forks and the cleaner before anything
 * is opened, which host resources are opened before the jail closes, and
 * the jail's steps after them. */
#include "vmm_jail.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server.h"
#include "backends/tap.h"
#include "hostio.h"
#include "log.h"
#include "sandbox/jail.h"
#include "sandbox/jail_cleanup.h"

/* One kite process, one jail: vmm_jail_start opens it, vmm_jail_enter
 * records into it. */
static struct jail_cleanup cleanup = JAIL_CLEANUP_INIT;

int vmm_jail_start(const struct vm_config *cfg, struct jail_proc *jp)
{
	const struct jail_config *j = &cfg->jail;
	bool made = cfg->api_socket || cfg->console_socket || j->nr_cgroups;
	int code, rc = 0;

	/* Under --new-pid-ns the waiting parent reads the records once kite
	 * has ended: the pipe comes before the fork. (A reader kite forked
	 * would be in the namespace, and die with it.) */
	if (made && j->new_pid_ns)
		rc = jail_cleanup_open(&cleanup);
	if (!rc && (j->new_pid_ns || j->daemonize)) {
		code = jail_proc_start(j->new_pid_ns, j->daemonize, jp);
		if (code >= 0) {
			if (jp->waited)
				jail_cleanup_run(&cleanup);
			else
				jail_cleanup_close(&cleanup);
			return code;
		}
	}
	if (!rc && made && !j->new_pid_ns) {
		rc = jail_cleanup_open(&cleanup);
		if (!rc)
			rc = jail_cleanup_fork(&cleanup);
	}
	if (rc) {
		fprintf(stderr, "kite: --jail: the process that cleans up after kite: %s\n",
			strerror(-rc));
		return EXIT_HOST_FAILURE;
	}
	/* kite only writes: the records must not be read back and rewritten
	 * by a jailed (maybe compromised) kite. */
	if (cleanup.rfd >= 0) {
		close(cleanup.rfd);
		cleanup.rfd = -1;
	}
	return -1;
}

static void note_dir(void *ctx, const char *dir)
{
	jail_cleanup_note_dir(ctx, dir);
}

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
	/* Bound at host paths, which mean nothing inside the jail: removed
	 * from outside once kite has ended. */
	if (v->api) {
		jail_cleanup_note_socket(&cleanup, cfg->api_socket);
		api_server_keep_file(v->api);
	}
	if (cfg->console_socket) {
		jail_cleanup_note_socket(&cleanup, cfg->console_socket);
		hostio_keep_socket_file(v->io);
	}
	rc = jail_enter(j, &(struct jail_enter_opts){name, fds_more(cfg), note_dir, &cleanup}, &abi,
			e->msg, sizeof(e->msg));
	/* Before any guest runs: nothing kite writes later is believed. */
	jail_cleanup_seal(&cleanup);
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : error_blame_path(rc));
	log_info("jail", "in %s as uid %u gid %u; Landlock %s%.0d", j->dir, (unsigned)j->uid,
		 (unsigned)j->gid, abi ? "ABI " : "not available", abi);
	return 0;
}
