/* The Firecracker resources around the guest (logger, metrics), the whole
 * --config-file, and the last step before boot (startable? command line
 * with the root drive). See fc_config.h. */
#include "api/fc_config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/fc_json.h"
#include "api/fc_net.h"

static const struct {
	const char *name;
	enum fc_log_level level;
} level_names[] = {
    {"Off", FC_LOG_OFF},   {"Error", FC_LOG_ERROR}, {"Warning", FC_LOG_WARN}, {"Warn", FC_LOG_WARN},
    {"Info", FC_LOG_INFO}, {"Debug", FC_LOG_DEBUG}, {"Trace", FC_LOG_TRACE},
};

int fc_log_level_parse(const char *s, enum fc_log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcasecmp(s, level_names[i].name)) {
			*out = level_names[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fc_log_level_name(enum fc_log_level l)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
		if (level_names[i].level == l)
			return level_names[i].name;
	return "Info";
}

void fc_logger_free(struct fc_logger *lg)
{
	free(lg->log_path);
	free(lg->module);
	memset(lg, 0, sizeof(*lg));
}

void fc_metrics_free(struct fc_metrics *m)
{
	free(m->metrics_path);
	json_decref(m->properties);
	memset(m, 0, sizeof(*m));
}

static int dup_opt(const char *s, char **out)
{
	*out = NULL;
	if (s && !(*out = strdup(s)))
		return -ENOMEM;
	return 0;
}

int fc_put_logger(struct fc_logger *lg, const json_t *body, char *err, size_t errlen)
{
	static const char *const fields[] = {"log_path",	"level",  "show_level",
					     "show_log_origin", "module", NULL};
	struct fc_logger n = {.set = true, .level = FC_LOG_INFO};
	const char *path = NULL, *level = NULL, *module = NULL;
	int rc;

	if ((rc = fcj_object(body, "LoggerConfig", fields, err, errlen)) ||
	    (rc = fcj_str(body, "log_path", FCJ_PATH_MAX, &path, err, errlen)) < 0 ||
	    (rc = fcj_str(body, "level", 16, &level, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "show_level", &n.show_level, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "show_log_origin", &n.show_log_origin, err, errlen)) < 0 ||
	    (rc = fcj_str(body, "module", 256, &module, err, errlen)) < 0)
		return rc;
	if (level && fc_log_level_parse(level, &n.level))
		return fcj_deser(err, errlen,
				 "unknown variant `%.16s`, expected one of `Off`, `Error`, "
				 "`Warning`, `Info`, `Debug`, `Trace`",
				 level);
	if (dup_opt(path, &n.log_path) || dup_opt(module, &n.module)) {
		fc_logger_free(&n);
		return fcj_fail(err, errlen, -ENOMEM, "Out of memory.");
	}
	fc_logger_free(lg);
	*lg = n;
	return 0;
}

int fc_put_metrics(struct fc_metrics *m, const json_t *body, char *err, size_t errlen)
{
	static const char *const fields[] = {"metrics_path", "emit_id", "properties", NULL};
	struct fc_metrics n = {.set = true};
	const json_t *props = json_object_get(body, "properties");
	const char *path, *key;
	json_t *val;
	int rc;

	if ((rc = fcj_object(body, "MetricsConfig", fields, err, errlen)))
		return rc;
	if ((rc = fcj_str(body, "metrics_path", FCJ_PATH_MAX, &path, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("metrics_path", err, errlen);
	if ((rc = fcj_bool(body, "emit_id", &n.emit_id, err, errlen)) < 0)
		return rc;
	if (props && !json_is_null(props)) {
		if (!json_is_object(props))
			return fcj_deser(err, errlen, "invalid type: `properties`, expected a map");
		/* Copied onto every metrics line: keep it small. */
		if (json_object_size(props) > 64)
			return fcj_fail(err, errlen, -EINVAL, "properties: at most 64 entries.");
		json_object_foreach((json_t *)props, key, val)
		{
			const char *s;

			if (strlen(key) > 256)
				return fcj_fail(err, errlen, -EINVAL,
						"properties: keys are at most 256 bytes.");
			if ((rc = fcj_str(props, key, 1024, &s, err, errlen)) < 0)
				return rc;
			if (rc == 0)
				return fcj_deser(err, errlen,
						 "invalid type: null, expected a string");
		}
	}
	if (m->set)
		return fcj_fail(err, errlen, -EINVAL, "Reinitialization of metrics not allowed.");
	if (dup_opt(path, &n.metrics_path) ||
	    (props && !json_is_null(props) && !(n.properties = json_deep_copy(props)))) {
		fc_metrics_free(&n);
		return fcj_fail(err, errlen, -ENOMEM, "Out of memory.");
	}
	*m = n;
	return 0;
}

/* ---- the config file ---- */

static int section(int rc, const char *key, char *err, size_t errlen)
{
	char inner[512];

	if (rc == 0)
		return 0;
	snprintf(inner, sizeof(inner), "%s", err);
	snprintf(err, errlen, "%s: %s", key, inner);
	return rc;
}

/* Firecracker's other sections, kept for a later issue. */
static const char *const unsupported[] = {"balloon", "mmds-config",    "cpu-config",
					  "pmem",    "memory-hotplug", NULL};

static int apply(struct vm_config *cfg, struct fc_logger *lg, struct fc_metrics *m,
		 const json_t *root, char *err, size_t errlen)
{
	static const char *const fields[] = {
	    "boot-source",    "drives",	     "machine-config",	   "logger",
	    "metrics",	      "entropy",     "network-interfaces", "vsock",
	    "balloon",	      "mmds-config", "cpu-config",	   "pmem",
	    "memory-hotplug", NULL};
	const json_t *v, *drives = json_object_get(root, "drives");
	size_t i;
	int rc;

	if ((rc = fcj_object(root, "VmmConfig", fields, err, errlen)))
		return rc;
	for (i = 0; unsupported[i]; i++) {
		v = json_object_get(root, unsupported[i]);
		if (v && !json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0))
			return fcj_fail(err, errlen, -ENOTSUP, "%s is not supported by this kite.",
					unsupported[i]);
	}
	/* Firecracker's order: outputs first, then the machine, then devices. */
	if ((v = json_object_get(root, "logger")) && !json_is_null(v) &&
	    (rc = section(fc_put_logger(lg, v, err, errlen), "logger", err, errlen)))
		return rc;
	if ((v = json_object_get(root, "metrics")) && !json_is_null(v) &&
	    (rc = section(fc_put_metrics(m, v, err, errlen), "metrics", err, errlen)))
		return rc;
	if ((v = json_object_get(root, "machine-config")) && !json_is_null(v) &&
	    (rc = section(fc_put_machine_config(cfg, v, false, err, errlen), "machine-config", err,
			  errlen)))
		return rc;
	v = json_object_get(root, "boot-source");
	if (!v)
		return fcj_fail(err, errlen, -EINVAL, "missing field `boot-source`");
	if ((rc = section(fc_put_boot_source(cfg, v, err, errlen), "boot-source", err, errlen)))
		return rc;
	if (drives && !json_is_null(drives)) {
		if (!json_is_array(drives))
			return fcj_fail(err, errlen, -EINVAL,
					"drives: invalid type, expected a sequence");
		for (i = 0; i < json_array_size(drives); i++) {
			static const char *const none[] = {NULL};
			const json_t *d = json_array_get(drives, i);
			const char *id = NULL;

			/* The API takes the id from the path; here it is the body's own. */
			if (!json_is_object(d))
				rc = fcj_object(d, "BlockDeviceConfig", none, err, errlen);
			else if ((rc = fcj_str(d, "drive_id", 64, &id, err, errlen)) == 0)
				rc = fcj_missing("drive_id", err, errlen);
			else if (rc > 0)
				rc = fc_put_drive(cfg, id, d, err, errlen);
			if ((rc = section(rc, "drives", err, errlen)))
				return rc;
		}
	}
	if ((rc = section(
		 fc_config_nets(cfg, json_object_get(root, "network-interfaces"), err, errlen),
		 "network-interfaces", err, errlen)))
		return rc;
	if ((v = json_object_get(root, "vsock")) && !json_is_null(v) &&
	    (rc = section(fc_put_vsock(cfg, v, err, errlen), "vsock", err, errlen)))
		return rc;
	if ((v = json_object_get(root, "entropy")) && !json_is_null(v) &&
	    (rc = section(fc_put_entropy(cfg, v, err, errlen), "entropy", err, errlen)))
		return rc;
	return 0;
}

int fc_config_json(struct vm_config *cfg, struct fc_logger *lg, struct fc_metrics *m,
		   const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fcj_fail(err, errlen, -EINVAL, "Invalid JSON: %s at line %d column %d",
				je.text, je.line, je.column);
	rc = apply(cfg, lg, m, root, err, errlen);
	json_decref(root);
	return rc;
}

int fc_config_file(struct vm_config *cfg, struct fc_logger *lg, struct fc_metrics *m,
		   const char *path, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fcj_fail(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = fcj_fail(err, errlen, -EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > FC_CONFIG_FILE_MAX) {
		rc = fcj_fail(err, errlen, -EFBIG, "%s: larger than %u bytes", path,
			      FC_CONFIG_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = fcj_fail(err, errlen, -ENOMEM, "Out of memory.");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = fcj_fail(err, errlen, n ? -errno : -EIO, "%s: read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	rc = fc_config_json(cfg, lg, m, buf, got, err, errlen);
out:
	free(buf);
	close(fd);
	return rc;
}

/* ---- before boot ---- */

int fc_check_startable(const struct vm_config *cfg, char *err, size_t errlen)
{
	if (!cfg->kernel && !cfg->image)
		return fcj_fail(err, errlen, -EINVAL,
				"Cannot start microvm without kernel configuration.");
	return 0;
}

int fc_config_prepare(struct vm_config *cfg, char *err, size_t errlen)
{
	const struct disk_config *root =
	    cfg->nr_disks > 0 && cfg->disks[0].root ? &cfg->disks[0] : NULL;
	char line[FC_BOOT_ARGS_MAX + 1];
	const char *out;
	int n, rc;

	if ((rc = fc_check_startable(cfg, err, errlen)))
		return rc;
	/* A command line from kite's own options stays as it was given. */
	if (cfg->fc) {
		config_release(cfg, cfg->cmdline);
		cfg->cmdline = NULL;
	}
	if (cfg->kernel && cfg->fc) {
		n = snprintf(line, sizeof(line), "%s",
			     cfg->boot_args ? cfg->boot_args : FC_DEFAULT_BOOT_ARGS);
		if (root && n >= 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, " root=%s%s %s",
				      root->partuuid ? "PARTUUID=" : "/dev/vda",
				      root->partuuid ? root->partuuid : "",
				      root->read_only ? "ro" : "rw");
		if (n < 0 || (size_t)n >= sizeof(line))
			return fcj_fail(
			    err, errlen, -EINVAL,
			    "The kernel command line is invalid: Inserting string would "
			    "make command line too long");
		if ((rc = config_strdup(cfg, line, &out)))
			return fcj_fail(err, errlen, rc, "Out of memory.");
		cfg->cmdline = out;
	}
	return config_validate(cfg, err, errlen);
}

enum log_level fc_log_level_kite(int fc_level)
{
	switch ((enum fc_log_level)fc_level) {
	case FC_LOG_OFF:
		return LOG_OFF;
	case FC_LOG_ERROR:
		return LOG_ERROR;
	case FC_LOG_WARN:
		return LOG_WARN;
	case FC_LOG_INFO:
		return LOG_INFO;
	case FC_LOG_DEBUG:
	case FC_LOG_TRACE:
	default:
		return LOG_DEBUG;
	}
}
