/* The control API's limiter updates on a running machine: PATCH
 * /network-interfaces/{id} and kite's PATCH /entropy (vmm_net.c), as
 * struct api_ops members; vmm.c wires them with vmm_net_ops. */
#ifndef KITE_VMM_NET_H
#define KITE_VMM_NET_H

#include "vmm.h"

/* Sets v->router.ops.update_net and update_entropy. */
void vmm_net_ops(struct vmm *v);

#endif
