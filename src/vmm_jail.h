/* kite run --jail: the point in the process's start-up where the jail
 * closes (README "Sandbox" / "Jail"; docs/ARCHITECTURE.md "Start-up"). */
#ifndef KITE_VMM_JAIL_H
#define KITE_VMM_JAIL_H

#include "compiler.h"
#include "error.h"
#include "sandbox/jail_proc.h"
#include "vmm.h"

/* Before anything is opened: --new-pid-ns and --daemonize's forks
 * (jail_proc_start), and the process that removes, once kite has ended,
 * the socket files and cgroup directories it makes on the host before the
 * jail closes (jail_cleanup.h). Returns -1 in the process that goes on,
 * else the status the caller must end with (a parent; a failure, said on
 * stderr). */
int vmm_jail_start(const struct vm_config *cfg, struct jail_proc *jp) MUST_CHECK;

/* After vmm_open (the console, the API socket), before any machine: joins
 * --netns, opens what the command line's guest needs from the host (KVM,
 * image, kernel, initrd, disks; taps inside the namespace), then
 * jail_enter(). Paths named later (the API's or a config file's boot
 * source and drives, PATCH /drives, the vsock socket, snapshots) resolve
 * inside the jail. Nothing to do without --jail. */
int vmm_jail_enter(struct vmm *v, struct error *e) MUST_CHECK;

#endif
