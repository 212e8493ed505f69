/* PATCH /drives/{id} after boot, on a running machine: a new backing file
 * (opened and locked here, kept in host->disks so that a restart uses it,
 * recorded in cfg) and/or new rate limits. Everything that can fail is
 * done before anything changes. */
#ifndef KITE_VM_DRIVE_H
#define KITE_VM_DRIVE_H

#include <stddef.h>

#include "api/fc_config.h"
#include "compiler.h"
#include "vm.h"

/* vm: the running machine, or NULL (refused: not running). */
int vm_update_drive(struct vm *vm, struct vm_config *cfg, struct vm_host *host,
		    const struct fc_drive_update *u, char *err, size_t errlen) MUST_CHECK;

#endif
