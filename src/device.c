/* The device registry: creation-ordered list, framed state sections. */
#include "device.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void device_stat(struct device_stats *s, const char *key, uint64_t value)
{
	if (s->nr < DEVICE_STATS_MAX)
		s->v[s->nr++] = (struct device_stat){key, value};
}

void device_init(struct device *d, const struct device_ops *ops, const char *name)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	snprintf(d->name, sizeof(d->name), "%s", name ? name : ops->kind);
}

int device_nop_pause(struct device *d)
{
	(void)d;
	return 0;
}

void device_nop_resume(struct device *d)
{
	(void)d;
}

int device_empty_save(const struct device *d, struct state_buf *out)
{
	(void)d;
	(void)out;
	return 0;
}

int device_empty_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	(void)d;
	(void)version;
	return state_end(in, NULL, 0); /* any byte at all is too many */
}

void device_free_destroy(struct device *d)
{
	free(d); /* the struct device is the first member of what was allocated */
}

void device_list_init(struct device_list *l)
{
	memset(l, 0, sizeof(*l));
}

struct device *device_list_find(const struct device_list *l, const char *name)
{
	for (int i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i]->name, name))
			return l->v[i];
	return NULL;
}

int device_list_add(struct device_list *l, struct device *d)
{
	if (device_list_find(l, d->name))
		return -EEXIST;
	if (l->nr == l->cap) {
		int cap = l->cap ? 2 * l->cap : 16;
		struct device **v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->nr++] = d;
	return 0;
}

void device_list_destroy(struct device_list *l)
{
	for (int i = l->nr - 1; i >= 0; i--)
		l->v[i]->ops->destroy(l->v[i]);
	free(l->v);
	device_list_init(l);
}

static int pause_one(struct device *d)
{
	int rc;

	if (d->paused)
		return 0;
	rc = d->ops->pause(d);
	if (rc)
		log_err(d->name, "cannot pause: %s", strerror(-rc));
	else
		d->paused = true;
	return rc;
}

static void resume_one(struct device *d)
{
	if (!d->paused)
		return;
	d->paused = false;
	d->ops->resume(d);
}

int device_list_pause(struct device_list *l)
{
	for (int i = 0; i < l->nr; i++) {
		int rc = pause_one(l->v[i]);

		if (rc) {
			while (i-- > 0)
				resume_one(l->v[i]);
			return rc;
		}
	}
	return 0;
}

void device_list_resume(struct device_list *l)
{
	for (int i = 0; i < l->nr; i++)
		resume_one(l->v[i]);
}

int device_save_one(const struct device *d, struct state_buf *out)
{
	size_t n = strlen(d->name), len_at;
	uint32_t len;
	int rc;

	if (!d->paused)
		return -EBUSY;
	state_put_u8(out, (uint8_t)n);
	state_put_bytes(out, d->name, n);
	state_put_u32(out, d->ops->state_version);
	len_at = out->len;
	state_put_u32(out, 0); /* patched below */
	rc = d->ops->save(d, out);
	if (rc)
		return rc;
	if (out->err)
		return out->err;
	if (out->len - len_at - 4 > STATE_SECTION_MAX)
		return -E2BIG;
	len = (uint32_t)(out->len - len_at - 4);
	for (int i = 0; i < 4; i++)
		out->data[len_at + (size_t)i] = (uint8_t)(len >> (8 * i));
	return 0;
}

int device_list_save(const struct device_list *l, struct state_buf *out)
{
	for (int i = 0; i < l->nr; i++)
		if (!l->v[i]->paused)
			return -EBUSY;
	for (int i = 0; i < l->nr; i++) {
		int rc = device_save_one(l->v[i], out);

		if (rc)
			return rc;
	}
	return 0;
}

/* Reads one section's frame; returns the device it names (NULL on error). */
static struct device *read_frame(struct state_reader *r, const struct device_list *l,
				 struct device *only, struct state_reader *payload,
				 uint32_t *version)
{
	char name[DEVICE_NAME_MAX];
	uint8_t n = state_get_u8(r);
	uint32_t len;
	struct device *d;

	/* GUEST (snapshot file): n < DEVICE_NAME_MAX, len <= STATE_SECTION_MAX. */
	if (!state_check(r, n > 0 && n < DEVICE_NAME_MAX, "device name length", n))
		return NULL;
	state_get_bytes(r, name, n);
	name[n] = 0;
	*version = state_get_u32(r);
	len = state_get_u32(r);
	if (!state_check(r, len <= STATE_SECTION_MAX, "section length", len))
		return NULL;
	state_get_reader(r, payload, len);
	if (r->err)
		return NULL;
	d = only ? (strcmp(only->name, name) ? NULL : only) : device_list_find(l, name);
	if (!d) {
		state_fail(r, "section for an unknown device \"%.*s\"", (int)n, name);
		return NULL;
	}
	payload->what = d->name;
	if (*version == 0 || *version > d->ops->state_version) {
		state_fail(r, "%s: section version %u not supported (this kite writes %u)",
			   d->name, *version, d->ops->state_version);
		return NULL;
	}
	return d;
}

static int restore_section(struct device *d, struct state_reader *payload, uint32_t version,
			   char *err, size_t errlen)
{
	int rc;

	rc = pause_one(d);
	if (rc) {
		snprintf(err, errlen, "%s: cannot pause: %s", d->name, strerror(-rc));
		return rc;
	}
	rc = d->ops->restore(d, payload, version);
	if (rc && !payload->err)
		state_fail(payload, "restore failed: %s", strerror(-rc));
	return state_end(payload, err, errlen);
}

int device_restore_one(struct device *d, const void *data, size_t len, char *err,
		       size_t errlen)
{
	struct state_reader r, payload;
	uint32_t version;

	state_reader_init(&r, data, len, "snapshot");
	read_frame(&r, NULL, d, &payload, &version);
	/* Bytes after the one section are refused before the device is
	 * touched: a refused section must leave it as it was. */
	if (state_end(&r, err, errlen))
		return -EINVAL;
	return restore_section(d, &payload, version, err, errlen) ? -EINVAL : 0;
}

/* One device's section, found by the framing pass. */
struct pending {
	struct state_reader payload;
	uint32_t version;
	bool seen;
};

/* The framing pass: every section names a device of the list, once, with
 * a version it accepts, and every device gets one. Nothing changes yet. */
static int read_sections(struct device_list *l, struct state_reader *r, struct pending *p,
			 char *err, size_t errlen)
{
	while (r->off < r->len && !r->err) {
		struct state_reader payload;
		uint32_t version;
		struct device *d = read_frame(r, l, NULL, &payload, &version);
		int idx = 0;

		if (!d)
			break;
		while (l->v[idx] != d)
			idx++;
		if (p[idx].seen) {
			state_fail(r, "two sections for %s", d->name);
			break;
		}
		p[idx] = (struct pending){payload, version, true};
	}
	for (int i = 0; i < l->nr && !r->err; i++)
		if (!p[i].seen)
			state_fail(r, "no section for device %s", l->v[i]->name);
	return state_end(r, err, errlen);
}

/* A refused snapshot leaves every device as it was: the framing is checked
 * before any device is touched, and the devices restored before one whose
 * section is refused get their own saved state back. */
int device_list_restore(struct device_list *l, const void *data, size_t len, char *err,
			size_t errlen)
{
	struct state_reader r;
	struct pending *p = calloc((size_t)l->nr + 1, sizeof(*p));
	struct state_buf *backup = calloc((size_t)l->nr + 1, sizeof(*backup));
	int rc, i = 0;

	if (!p || !backup) {
		rc = -ENOMEM;
		goto out;
	}
	state_reader_init(&r, data, len, "snapshot");
	rc = read_sections(l, &r, p, err, errlen);
	if (rc)
		goto out;
	rc = device_list_pause(l);
	if (rc) {
		snprintf(err, errlen, "cannot pause the devices: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; i < l->nr; i++) {
		rc = device_save_one(l->v[i], &backup[i]);
		if (rc) {
			snprintf(err, errlen, "%s: cannot save the current state: %s",
				 l->v[i]->name, strerror(-rc));
			goto out;
		}
	}
	for (i = 0; i < l->nr; i++) {
		rc = restore_section(l->v[i], &p[i].payload, p[i].version, err, errlen);
		if (rc)
			break;
	}
	/* Sections the devices wrote themselves: refusing one is a bug. */
	while (rc && i-- > 0)
		if (device_restore_one(l->v[i], backup[i].data, backup[i].len, NULL, 0))
			log_err(l->v[i]->name, "cannot restore the state it had before");
out:
	for (int j = 0; backup && j < l->nr; j++)
		state_buf_free(&backup[j]);
	free(backup);
	free(p);
	return rc;
}

void device_list_stats(struct device_list *l,
		       void (*fn)(void *ctx, const struct device *d, const struct device_stats *s),
		       void *ctx)
{
	for (int i = 0; i < l->nr; i++) {
		struct device_stats s = {0};

		if (l->v[i]->ops->stats)
			l->v[i]->ops->stats(l->v[i], &s);
		fn(ctx, l->v[i], &s);
	}
}
