/* The control API's limiter updates on a running machine: PATCH
 * /network-interfaces/{id} and kite's PATCH /entropy (vmm_net.c), as the
 * router's struct api_dev_ops. struct vmm holds a struct vmm_net and wires
 * it with vmm_net_ops; this file needs nothing of struct vmm. */
#ifndef KITE_VMM_NET_H
#define KITE_VMM_NET_H

#include <stdbool.h>

#include "api/router.h"
#include "config.h"
#include "vm.h"

struct vmm_net {
	struct vm_config *cfg;
	struct vm *vm; /* the machine, valid while *built */
	const bool *built;
};

/* Fills n and points ops at it. */
void vmm_net_ops(struct vmm_net *n, struct vm_config *cfg, struct vm *vm, const bool *built,
		 struct api_dev_ops *ops);

#endif
