/* PUT /snapshot/create and PUT /snapshot/load bodies (see fc_snapshot.h). */
#include "api/fc_snapshot.h"

#include <errno.h>
#include <string.h>

#include "api/fc_json.h"

int fc_parse_snapshot_create(const json_t *body, struct fc_snapshot_create *out, char *err,
			     size_t errlen)
{
	static const char *const fields[] = {"snapshot_path", "mem_file_path", "snapshot_type",
					     "version", NULL};
	static const char *const types[] = {"Full", "Diff", NULL};
	int type = 0, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fcj_object(body, "CreateSnapshotParams", fields, err, errlen)) < 0 ||
	    (rc = fcj_str(body, "snapshot_path", FCJ_PATH_MAX, &out->snapshot_path, err,
			  errlen)) < 0 ||
	    (rc = fcj_str(body, "mem_file_path", FCJ_PATH_MAX, &out->mem_file_path, err,
			  errlen)) < 0 ||
	    (rc = fcj_enum(body, "snapshot_type", types, &type, err, errlen)) < 0)
		return rc;
	/* "version" (a target format version) was dropped by Firecracker
	 * 1.5; old clients still send it, and kite has one format. */
	if (!out->snapshot_path)
		return fcj_missing("snapshot_path", err, errlen);
	if (!out->mem_file_path)
		return fcj_missing("mem_file_path", err, errlen);
	out->diff = type == 1;
	return 0;
}

static int mem_backend(const json_t *v, struct fc_snapshot_load *out, char *err, size_t errlen)
{
	static const char *const fields[] = {"backend_type", "backend_path", NULL};
	static const char *const types[] = {"File", "Uffd", NULL};
	int type = -1, rc;

	if ((rc = fcj_object(v, "MemBackendConfig", fields, err, errlen)) < 0 ||
	    (rc = fcj_enum(v, "backend_type", types, &type, err, errlen)) < 0 ||
	    (rc = fcj_str(v, "backend_path", FCJ_PATH_MAX, &out->mem_path, err, errlen)) < 0)
		return rc;
	if (type < 0)
		return fcj_missing("backend_type", err, errlen);
	if (!out->mem_path)
		return fcj_missing("backend_path", err, errlen);
	if (type == 1)
		return fcj_fail(err, errlen, -ENOTSUP,
				"mem_backend Uffd is not supported by this kite: use File");
	return 0;
}

/* vsock_override: {"uds_path"}, the socket the restored vsock binds. */
static int vsock_override(const json_t *body, struct fc_snapshot_load *out, char *err,
			  size_t errlen)
{
	static const char *const fields[] = {"uds_path", NULL};
	const json_t *v = json_object_get(body, "vsock_override");
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if ((rc = fcj_object(v, "VsockOverride", fields, err, errlen)) < 0 ||
	    (rc = fcj_str(v, "uds_path", FCJ_PATH_MAX, &out->vsock_uds, err, errlen)) < 0)
		return rc;
	return out->vsock_uds ? 0 : fcj_missing("uds_path", err, errlen);
}

static bool empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_array(v) && !json_array_size(v));
}

/* What kite cannot honour yet, refused rather than ignored. */
static int unsupported(const json_t *body, char *err, size_t errlen)
{
	static const char *const pages[] = {"None", "Snapshot", "Transparent", NULL};
	int hp = 0, rc;

	if (!empty(json_object_get(body, "network_overrides")))
		return fcj_fail(err, errlen, -ENOTSUP,
				"network_overrides: this kite has no network devices");
	rc = fcj_enum(body, "huge_pages", pages, &hp, err, errlen);
	if (rc < 0)
		return rc;
	if (hp != 0)
		return fcj_fail(err, errlen, -ENOTSUP,
				"huge_pages %s: this kite restores guest memory as 4 KiB pages "
				"from the memory file (use None)", pages[hp]);
	return 0;
}

int fc_parse_snapshot_load(const json_t *body, struct fc_snapshot_load *out, char *err,
			   size_t errlen)
{
	static const char *const fields[] = {
		"snapshot_path", "mem_file_path", "mem_backend", "enable_diff_snapshots",
		"track_dirty_pages", "resume_vm", "network_overrides", "vsock_override",
		"clock_realtime", "huge_pages", NULL};
	const json_t *mb;
	const char *mem_file = NULL;
	bool diff = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = fcj_object(body, "LoadSnapshotConfig", fields, err, errlen)) < 0 ||
	    (rc = fcj_str(body, "snapshot_path", FCJ_PATH_MAX, &out->snapshot_path, err,
			  errlen)) < 0 ||
	    (rc = fcj_str(body, "mem_file_path", FCJ_PATH_MAX, &mem_file, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "enable_diff_snapshots", &diff, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "track_dirty_pages", &out->track_dirty_pages, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "resume_vm", &out->resume_vm, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "clock_realtime", &out->clock_realtime, err, errlen)) < 0 ||
	    (rc = unsupported(body, err, errlen)) < 0 ||
	    (rc = vsock_override(body, out, err, errlen)) < 0)
		return rc;
	if (!out->snapshot_path)
		return fcj_missing("snapshot_path", err, errlen);
	mb = json_object_get(body, "mem_backend");
	if (mb && !json_is_null(mb) && mem_file)
		return fcj_fail(err, errlen, -EINVAL,
				"Received both mem_file_path and mem_backend: give only one");
	if (mb && !json_is_null(mb)) {
		rc = mem_backend(mb, out, err, errlen);
		if (rc < 0)
			return rc;
	} else if (mem_file) {
		out->mem_path = mem_file;
	} else {
		return fcj_fail(err, errlen, -EINVAL,
				"Missing mem_backend: give mem_backend (or the deprecated "
				"mem_file_path)");
	}
	out->track_dirty_pages = out->track_dirty_pages || diff;
	return 0;
}
