/* libFuzzer target: the snapshot's machine section (snapshot/machine.c),
 * hostile bytes from a snapshot file. A section that parses must survive a
 * save and parse again to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "snapshot/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg, again;
	struct state_buf b;
	char err[256];

	config_init(&cfg);
	if (snap_machine_parse(data, size, SNAP_MACHINE_VERSION, &cfg, err, sizeof(err)) == 0) {
		state_buf_init(&b);
		snap_machine_save(&cfg, &b);
		if (b.err || b.len != size || memcmp(b.data, data, size))
			abort();
		config_init(&again);
		if (snap_machine_parse(b.data, b.len, SNAP_MACHINE_VERSION, &again, err,
				       sizeof(err)))
			abort();
		config_free(&again);
		state_buf_free(&b);
	}
	config_free(&cfg);
	return 0;
}
