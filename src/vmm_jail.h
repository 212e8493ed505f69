/* kite run --jail: the point in the process's start-up where the jail
 * closes (README "Sandbox" / "Jail"; docs/ARCHITECTURE.md "Start-up"). */
#ifndef KITE_VMM_JAIL_H
#define KITE_VMM_JAIL_H

#include "compiler.h"
#include "error.h"
#include "vmm.h"

/* After vmm_open (the console, the API socket), before any machine: joins
 * --netns, opens what the command line's guest needs from the host (KVM,
 * image, kernel, initrd, disks; taps inside the namespace), then
 * jail_enter(). Paths named later (the API's or a config file's boot
 * source and drives, PATCH /drives, the vsock socket, snapshots) resolve
 * inside the jail. Nothing to do without --jail. */
int vmm_jail_enter(struct vmm *v, struct error *e) MUST_CHECK;

#endif
