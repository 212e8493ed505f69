/* Firecracker's snapshot bodies: PUT /snapshot/create
 * (SnapshotCreateParams) and PUT /snapshot/load (SnapshotLoadParams), read
 * as Firecracker reads them (unknown fields refused, required fields,
 * strict types). Strings point into the body: valid while it is.
 *
 * kite's choices where it differs: mem_backend "Uffd" is refused (kite
 * maps the memory file itself); huge_pages other than "None" is refused;
 * network_overrides and vsock_override must be empty (no such devices yet).
 * The deprecated mem_file_path and enable_diff_snapshots are accepted as
 * Firecracker still accepts them. */
#ifndef KITE_API_FC_SNAPSHOT_H
#define KITE_API_FC_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

struct fc_snapshot_create {
	const char *snapshot_path;
	const char *mem_file_path;
	bool diff;
};

struct fc_snapshot_load {
	const char *snapshot_path;
	const char *mem_path;
	bool track_dirty_pages;
	bool resume_vm;
	bool clock_realtime;
	const char *vsock_uds; /* vsock_override.uds_path, or NULL */
};

int fc_parse_snapshot_create(const json_t *body, struct fc_snapshot_create *out, char *err,
			     size_t errlen) MUST_CHECK;
int fc_parse_snapshot_load(const json_t *body, struct fc_snapshot_load *out, char *err,
			   size_t errlen) MUST_CHECK;

#endif
