/* cgroup v1 and v2 for the jail (jail_cgroup.h). */
#include "sandbox/jail_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOUNTINFO_MAX (1 << 20)

/* mountinfo escapes ' ', '\t', '\n' and '\\' as \ooo. */
static int unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\\') {
			if (i + 3 >= n)
				return -EINVAL;
			if (s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' || s[i + 2] > '7' ||
			    s[i + 3] < '0' || s[i + 3] > '7')
				return -EINVAL;
			c = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		}
		if (o + 1 >= outlen)
			return -ENAMETOOLONG;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* Whether the comma-separated list [s, s+n) holds word. */
static bool has_word(const char *s, size_t n, const char *word)
{
	size_t wl = strlen(word);

	while (n) {
		const char *c = memchr(s, ',', n);
		size_t l = c ? (size_t)(c - s) : n;

		if (l == wl && !memcmp(s, word, wl))
			return true;
		if (!c)
			break;
		n -= l + 1;
		s = c + 1;
	}
	return false;
}

/* The n-th space-separated field of [line, end): start and length. */
static bool field(const char *line, const char *end, int n, const char **f, size_t *len)
{
	const char *p = line;

	for (int i = 0; i <= n; i++) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return false;
		*f = p;
		while (p < end && *p != ' ')
			p++;
		*len = (size_t)(p - *f);
	}
	return true;
}

/* One mountinfo line: its fstype, mount point and super options; false for
 * a line without the " - " separator or the fields around it. */
static bool parse_line(const char *line, const char *end, const char **mnt, size_t *mntlen,
		       const char **type, size_t *typelen, const char **sopts, size_t *sopslen)
{
	const char *sep = NULL, *src;
	size_t srclen;

	for (const char *p = line; p + 3 <= end; p++)
		if (p[0] == ' ' && p[1] == '-' && p[2] == ' ') {
			sep = p + 2;
			break;
		}
	if (!sep || !field(line, sep, 4, mnt, mntlen))
		return false;
	return field(sep, end, 0, type, typelen) && field(sep, end, 1, &src, &srclen) &&
	       field(sep, end, 2, sopts, sopslen);
}

int jail_cgroup_find(const char *mountinfo, const char *controller, int version, char *out,
		     size_t outlen, int *version_out)
{
	char v2[4096] = "";
	const char *line = mountinfo;

	if (version < 0 || version > 2 || !*controller)
		return -EINVAL;
	while (line && *line) {
		const char *end = strchr(line, '\n'), *mnt, *type, *so;
		size_t ml, tl, sl;

		if (!end)
			end = line + strlen(line);
		if (parse_line(line, end, &mnt, &ml, &type, &tl, &so, &sl)) {
			bool is1 = tl == 6 && !memcmp(type, "cgroup", 6);
			bool is2 = tl == 7 && !memcmp(type, "cgroup2", 7);

			if (is1 && version != 2 && has_word(so, sl, controller)) {
				*version_out = 1;
				return unescape(mnt, ml, out, outlen);
			}
			if (is2 && version != 1 && !v2[0]) {
				int rc = unescape(mnt, ml, v2, sizeof(v2));

				if (rc)
					return rc;
			}
		}
		line = *end ? end + 1 : NULL;
	}
	if (!v2[0])
		return -ENOENT;
	if (strlen(v2) >= outlen)
		return -ENAMETOOLONG;
	strcpy(out, v2);
	*version_out = 2;
	return 0;
}

static char *read_mountinfo(void)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(MOUNTINFO_MAX);
	while (buf && n < MOUNTINFO_MAX - 1) {
		ssize_t r = read(fd, buf + n, MOUNTINFO_MAX - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf)
		buf[n] = 0;
	return buf;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;
	size_t n = strlen(value);
	ssize_t w;

	if (fd < 0)
		return -errno;
	/* A cgroup file takes a value in one write, or refuses it. */
	w = write(fd, value, n);
	if (w != (ssize_t)n)
		rc = w < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

/* mkdir -p of root/rel; rel has no "..". 1 if the last one was made here. */
static int make_dirs(const char *root, const char *rel)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + strlen(root) + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			bool made;

			*p = 0;
			made = !mkdir(path, 0755);
			if (!made && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return made;
		}
	}
}

/* v1 cpuset: a new cgroup starts with empty cpuset.cpus and cpuset.mems,
 * and no task may join it (nor may one be written alone); each directory
 * from the hierarchy's root down to root/rel gets its parent's when empty,
 * as Firecracker's jailer does. */
static int inherit_cpuset(const char *root, const char *rel)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= sizeof(path) - 16)
		return -ENAMETOOLONG;
	for (char *p = path + strlen(root) + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = 0;
			for (int f = 0; f < 2; f++) {
				char mine[4200], up[4200], val[1024];
				char *slash = strrchr(path, '/');
				ssize_t len;
				int fd, rc;

				snprintf(mine, sizeof(mine), "%s/%s", path, files[f]);
				snprintf(up, sizeof(up), "%.*s/%s", (int)(slash - path), path,
					 files[f]);
				fd = open(mine, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					return -errno;
				len = read(fd, val, sizeof(val) - 1);
				close(fd);
				if (len > 1)
					continue; /* already set */
				fd = open(up, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					return -errno;
				len = read(fd, val, sizeof(val) - 1);
				close(fd);
				if (len < 0)
					return -errno;
				val[len] = 0;
				rc = write_file(mine, val);
				if (rc)
					return rc;
			}
			*p = c;
			if (!c)
				return 0;
		}
	}
}

/* v2: a controller must be enabled in every ancestor's subtree_control. */
static int enable_v2(const char *root, const char *rel, const char *controller)
{
	char path[4096], cmd[80];
	size_t len;

	if (!strcmp(controller, "cgroup"))
		return 0; /* core files: always there */
	snprintf(cmd, sizeof(cmd), "+%s", controller);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	len = strlen(root);
	for (size_t i = len; path[i]; i++) {
		if (path[i] != '/')
			continue;
		path[i] = 0;
		if (strlen(path) + 24 < sizeof(path)) {
			char f[4096];
			int rc;

			snprintf(f, sizeof(f), "%s/cgroup.subtree_control", path);
			rc = write_file(f, cmd);
			if (rc)
				return rc;
		}
		path[i] = '/';
	}
	return 0;
}

/* v2's core files ("cgroup.*") are always there; a controller only if the
 * root offers it (on a hybrid host, v1 may hold them all). */
static bool v2_offers(const char *mnt, const char *ctl)
{
	char path[4200], buf[1024];
	ssize_t n;
	int fd;

	if (!strcmp(ctl, "cgroup"))
		return true;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", mnt);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w;
	     w = strtok_r(NULL, " \n", &save))
		if (!strcmp(w, ctl))
			return true;
	return false;
}

static bool rel_ok(const char *s)
{
	return s && *s && s[0] != '/' && !strstr(s, "..") && !strchr(s, '\n');
}

int jail_cgroup_apply(const struct jail_cgroup_req *r, char *err, size_t errlen)
{
	char *mi, mnt[4096], rel[1024], file[4096], pid[24];
	int rc = 0;

	if (!r->nr)
		return 0;
	if (!rel_ok(r->parent) || !rel_ok(r->name) || strchr(r->name, '/')) {
		snprintf(err, errlen, "cgroup: bad parent '%s' or name '%s'", r->parent, r->name);
		return -EINVAL;
	}
	mi = read_mountinfo();
	if (!mi) {
		snprintf(err, errlen, "cgroup: cannot read /proc/self/mountinfo: %s",
			 strerror(errno ? errno : ENOMEM));
		return -EIO;
	}
	snprintf(rel, sizeof(rel), "%s/%s", r->parent, r->name);
	snprintf(pid, sizeof(pid), "%d", (int)r->pid); /* 0: the writer itself */
	for (int i = 0; i < r->nr && !rc; i++) {
		const struct jail_cgroup_kv *kv = &r->kv[i];
		char ctl[JAIL_CGROUP_KEY_MAX];
		int ver = 0;

		snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(kv->key, "."), kv->key);
		rc = jail_cgroup_find(mi, ctl, r->version, mnt, sizeof(mnt), &ver);
		if (rc) {
			snprintf(err, errlen,
				 "--cgroup %s: no cgroup%s hierarchy %s '%s' is mounted "
				 "(/proc/self/mountinfo)",
				 kv->key,
				 r->version == 1   ? " v1"
				 : r->version == 2 ? " v2"
						   : "",
				 r->version == 2 ? "for" : "with the controller", ctl);
			break;
		}
		if (ver == 2 && !v2_offers(mnt, ctl)) {
			snprintf(err, errlen, "--cgroup %s: %s'%s' (%s/cgroup.controllers)",
				 kv->key,
				 r->version
				     ? "the v2 hierarchy has no controller "
				     : "no v1 hierarchy has, and the v2 one offers no, controller ",
				 ctl, mnt);
			rc = -ENOENT;
			break;
		}
		rc = make_dirs(mnt, rel);
		if (rc == 1) {
			if (r->made) {
				snprintf(file, sizeof(file), "%s/%s", mnt, rel);
				r->made(r->ctx, file);
			}
			rc = 0;
		}
		if (!rc && ver == 2)
			rc = enable_v2(mnt, rel, ctl);
		if (!rc && ver == 1 && !strcmp(ctl, "cpuset"))
			rc = inherit_cpuset(mnt, rel);
		if (rc) {
			snprintf(err, errlen, "--cgroup %s: cannot create %s/%s (v%d): %s", kv->key,
				 mnt, rel, ver, strerror(-rc));
			break;
		}
		snprintf(file, sizeof(file), "%s/%s/%s", mnt, rel, kv->key);
		rc = write_file(file, kv->value);
		if (rc) {
			snprintf(err, errlen, "--cgroup %s=%s: writing %s: %s", kv->key, kv->value,
				 file, strerror(-rc));
			break;
		}
	}
	/* Joined only once every value is written (a v1 cpuset takes no task
	 * before its cpus and mems are set). */
	for (int i = 0; i < r->nr && !rc; i++) {
		char ctl[JAIL_CGROUP_KEY_MAX];
		int ver = 0;

		snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(r->kv[i].key, "."), r->kv[i].key);
		rc = jail_cgroup_find(mi, ctl, r->version, mnt, sizeof(mnt), &ver);
		if (!rc) {
			snprintf(file, sizeof(file), "%s/%s/cgroup.procs", mnt, rel);
			rc = write_file(file, pid);
		}
		if (rc)
			snprintf(err, errlen, "--cgroup %s: joining %s: %s", r->kv[i].key, file,
				 strerror(-rc));
	}
	free(mi);
	return rc;
}
