/* Metrics: collection from the machine, the Firecracker JSON line with
 * deltas, the Prometheus text, and the periodic writer. */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Values that are levels, not counts: reported as they are. */
static bool is_gauge(const char *key)
{
	return !strcmp(key, "inflight");
}

/* kite's virtio-blk counters under Firecracker's block metric names. */
static const char *block_key(const char *key)
{
	static const char *const map[][2] = {
	    {"reads", "read_count"},
	    {"writes", "write_count"},
	    {"bytes_read", "read_bytes"},
	    {"bytes_written", "write_bytes"},
	    {"throttled", "rate_limiter_throttled_events"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(key, map[i][0]))
			return map[i][1];
	return key;
}

static bool is_block(const struct device *d)
{
	return d->ops && d->ops->kind && !strcmp(d->ops->kind, "virtio-blk");
}

static int add_u64(json_t *obj, const char *key, uint64_t v)
{
	json_t *old = json_object_get(obj, key);
	uint64_t sum = v;

	if (old)
		sum += (uint64_t)json_integer_value(old);
	return json_object_set_new(obj, key, json_integer((json_int_t)sum));
}

struct collect {
	json_t *root;
	json_t *block;
	int rc;
};

static void collect_device(void *ctx, const struct device *d, const struct device_stats *s)
{
	struct collect *c = ctx;
	char name[DEVICE_NAME_MAX + 8];
	json_t *obj = json_object();
	bool blk = is_block(d);

	snprintf(name, sizeof(name), "%s%s", blk ? "block_" : "", d->name);
	for (int i = 0; obj && i < s->nr; i++) {
		const char *k = blk ? block_key(s->v[i].key) : s->v[i].key;

		if (add_u64(obj, k, s->v[i].value) || (blk && add_u64(c->block, k, s->v[i].value)))
			c->rc = -ENOMEM;
	}
	if (!obj || json_object_set_new(c->root, name, obj))
		c->rc = -ENOMEM;
}

static json_t *vcpu_object(const struct vcpu_exit_stats *x)
{
	json_t *o = json_object(), *h = json_array();
	char key[32];

	if (!o || !h) {
		json_decref(o);
		json_decref(h);
		return NULL;
	}
	for (int k = 0; k < VCPU_EXIT_KINDS; k++) {
		snprintf(key, sizeof(key), "exit_%s", vcpu_exit_kind_name(k));
		add_u64(o, key, x->count[k]);
	}
	for (int b = 0; b < VCPU_EXIT_HIST; b++)
		json_array_append_new(h, json_integer((json_int_t)x->hist[b]));
	json_object_set_new(o, "exit_handling_ns_log2", h);
	add_u64(o, "exit_handling_ns_sum", x->ns_sum);
	return o;
}

json_t *metrics_snapshot(const struct metrics_source *s)
{
	struct collect c = {json_object(), json_object(), 0};
	json_t *vcpu = json_object(), *logger = json_object();

	if (!c.root || !c.block || !vcpu || !logger)
		goto fail;
	/* Firecracker's aggregate vCPU counters first, as its own line has. */
	json_object_set(c.root, "vcpu", vcpu);
	json_object_set(c.root, "block", c.block);
	for (int i = 0; i < s->nr_vcpus; i++) {
		struct vcpu_exit_stats x;
		char name[32];
		json_t *o;

		vcpu_exit_stats_read(&s->vcpus[i], &x);
		add_u64(vcpu, "exit_io_in", x.count[VCPU_EXIT_IO_IN]);
		add_u64(vcpu, "exit_io_out", x.count[VCPU_EXIT_IO_OUT]);
		add_u64(vcpu, "exit_mmio_read", x.count[VCPU_EXIT_MMIO_READ]);
		add_u64(vcpu, "exit_mmio_write", x.count[VCPU_EXIT_MMIO_WRITE]);
		add_u64(vcpu, "failures", x.count[VCPU_EXIT_FAIL]);
		snprintf(name, sizeof(name), "kite_vcpu%d", s->vcpus[i].id);
		o = vcpu_object(&x);
		if (!o || json_object_set_new(c.root, name, o))
			goto fail;
	}
	if (s->devices)
		device_list_stats(s->devices, collect_device, &c);
	if (c.rc || add_u64(logger, "missed_log_count", s->missed_log) ||
	    add_u64(logger, "missed_metrics_count", s->missed_metrics) ||
	    json_object_set(c.root, "logger", logger))
		goto fail;
	json_decref(vcpu);
	json_decref(logger);
	json_decref(c.block);
	return c.root;
fail:
	json_decref(vcpu);
	json_decref(logger);
	json_decref(c.block);
	json_decref(c.root);
	return NULL;
}

static json_t *delta_value(const char *key, const json_t *p, const json_t *c)
{
	if (json_is_array(c)) {
		json_t *a = json_array();

		for (size_t i = 0; a && i < json_array_size(c); i++)
			json_array_append_new(
			    a, delta_value(key, json_array_get(p, i), json_array_get(c, i)));
		return a;
	}
	if (json_is_integer(c)) {
		json_int_t cv = json_integer_value(c), pv = json_integer_value(p);

		if (is_gauge(key) || !json_is_integer(p) || cv < pv)
			return json_integer(cv);
		return json_integer(cv - pv);
	}
	return json_deep_copy(c);
}

json_t *metrics_delta(const json_t *prev, const json_t *cur)
{
	json_t *out = json_object();
	const char *comp, *key;
	json_t *obj, *val;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)cur, comp, obj)
	{
		const json_t *pobj = json_object_get(prev, comp);
		json_t *d = json_object();

		if (!d || json_object_set_new(out, comp, d))
			goto fail;
		json_object_foreach(obj, key, val)
		{
			json_t *v = delta_value(key, json_object_get(pobj, key), val);

			if (!v || json_object_set_new(d, key, v))
				goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

char *metrics_line(const json_t *delta, uint64_t utc_ms)
{
	json_t *line = json_pack("{s:I}", "utc_timestamp_ms", (json_int_t)utc_ms);
	char *text, *out = NULL;
	size_t n;

	if (!line || json_object_update(line, (json_t *)delta)) {
		json_decref(line);
		return NULL;
	}
	text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(line);
	if (!text)
		return NULL;
	n = strlen(text);
	out = realloc(text, n + 2);
	if (!out) {
		free(text);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = 0;
	return out;
}

/* Prometheus: samples grouped by family (one # TYPE line each). */
struct sample {
	char family[64];
	char name[80];
	char labels[96];
	const char *type;
	uint64_t value;
	int seq;
};

struct samples {
	struct sample *v;
	int nr, cap;
	int rc;
};

/* Metric names take [a-zA-Z0-9_]: anything else becomes '_'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			*s = '_';
}

static void push(struct samples *ss, const char *family, const char *suffix, const char *type,
		 const char *labels, uint64_t value)
{
	struct sample *s;

	if (ss->nr == ss->cap) {
		int cap = ss->cap ? ss->cap * 2 : 64;
		struct sample *v = realloc(ss->v, (size_t)cap * sizeof(*v));

		if (!v) {
			ss->rc = -ENOMEM;
			return;
		}
		ss->v = v;
		ss->cap = cap;
	}
	s = &ss->v[ss->nr];
	snprintf(s->family, sizeof(s->family), "%s", family);
	sanitize(s->family);
	snprintf(s->name, sizeof(s->name), "%s%s", s->family, suffix);
	snprintf(s->labels, sizeof(s->labels), "%s", labels);
	s->type = type;
	s->value = value;
	s->seq = ss->nr++;
}

static void prom_device(void *ctx, const struct device *d, const struct device_stats *st)
{
	struct samples *ss = ctx;
	char family[64], labels[96];

	snprintf(labels, sizeof(labels), "device=\"%s\",kind=\"%s\"", d->name,
		 d->ops && d->ops->kind ? d->ops->kind : "");
	for (int i = 0; i < st->nr; i++) {
		snprintf(family, sizeof(family), "kite_device_%s", st->v[i].key);
		push(ss, family, "", is_gauge(st->v[i].key) ? "gauge" : "counter", labels,
		     st->v[i].value);
	}
}

static int cmp_sample(const void *a, const void *b)
{
	const struct sample *x = a, *y = b;
	int c = strcmp(x->family, y->family);

	return c ? c : x->seq - y->seq;
}

static void prom_vcpu(struct samples *ss, const struct vcpu *v)
{
	struct vcpu_exit_stats x;
	char labels[96];
	uint64_t cum = 0, total = 0;

	vcpu_exit_stats_read(v, &x);
	for (int k = 0; k < VCPU_EXIT_KINDS; k++) {
		snprintf(labels, sizeof(labels), "vcpu=\"%d\",reason=\"%s\"", v->id,
			 vcpu_exit_kind_name(k));
		push(ss, "kite_vcpu_exits_total", "", "counter", labels, x.count[k]);
	}
	for (int b = 0; b < VCPU_EXIT_HIST; b++)
		total += x.hist[b];
	for (int b = 0; b < VCPU_EXIT_HIST - 1; b++) {
		cum += x.hist[b];
		/* Bucket b holds values below 2^(b+1). */
		snprintf(labels, sizeof(labels), "vcpu=\"%d\",le=\"%llu\"", v->id, 1ull << (b + 1));
		push(ss, "kite_vcpu_exit_handling_nanoseconds", "_bucket", "histogram", labels,
		     cum);
	}
	snprintf(labels, sizeof(labels), "vcpu=\"%d\",le=\"+Inf\"", v->id);
	push(ss, "kite_vcpu_exit_handling_nanoseconds", "_bucket", "histogram", labels, total);
	snprintf(labels, sizeof(labels), "vcpu=\"%d\"", v->id);
	push(ss, "kite_vcpu_exit_handling_nanoseconds", "_sum", "histogram", labels, x.ns_sum);
	push(ss, "kite_vcpu_exit_handling_nanoseconds", "_count", "histogram", labels, total);
}

char *metrics_prometheus(const struct metrics_source *s)
{
	struct samples ss = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < s->nr_vcpus; i++)
		prom_vcpu(&ss, &s->vcpus[i]);
	if (s->devices)
		device_list_stats(s->devices, prom_device, &ss);
	push(&ss, "kite_logger_missed_log_count", "", "counter", "", s->missed_log);
	push(&ss, "kite_logger_missed_metrics_count", "", "counter", "", s->missed_metrics);
	if (ss.rc)
		goto out;
	qsort(ss.v, (size_t)ss.nr, sizeof(*ss.v), cmp_sample);
	f = open_memstream(&buf, &len);
	if (!f)
		goto out;
	for (int i = 0; i < ss.nr; i++) {
		const struct sample *p = &ss.v[i];

		if (i == 0 || strcmp(p->family, ss.v[i - 1].family))
			fprintf(f, "# TYPE %s %s\n", p->family, p->type);
		fprintf(f, "%s%s%s%s %llu\n", p->name, *p->labels ? "{" : "", p->labels,
			*p->labels ? "}" : "", (unsigned long long)p->value);
	}
	if (fclose(f)) {
		free(buf);
		buf = NULL;
	}
out:
	free(ss.v);
	return buf;
}

static void timer_cb(void *ctx, uint32_t events)
{
	struct metrics *m = ctx;
	uint64_t ticks;

	(void)events;
	if (read(m->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	if (m->fd >= 0 && metrics_flush(m) && m->missed == 1)
		log_warn("metrics", "cannot write the metrics line (counted as missed)");
}

int metrics_init(struct metrics *m, struct evloop *ev,
		 void (*source)(void *ctx, struct metrics_source *out), void *ctx)
{
	struct itimerspec its = {{METRICS_PERIOD_S, 0}, {METRICS_PERIOD_S, 0}};
	int rc;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->ev = ev;
	m->source = source;
	m->ctx = ctx;
	m->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->timer_fd < 0)
		return -errno;
	if (timerfd_settime(m->timer_fd, 0, &its, NULL) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = ev_add(ev, m->timer_fd, EPOLLIN, timer_cb, m);
	if (rc)
		goto fail;
	m->ready = true;
	return 0;
fail:
	close(m->timer_fd);
	m->timer_fd = -1;
	m->ev = NULL;
	return rc;
}

int metrics_open(struct metrics *m, const char *path)
{
	int fd = log_open_path(path);

	if (fd < 0)
		return fd;
	if (m->fd >= 0)
		close(m->fd);
	m->fd = fd;
	return 0;
}

/* Room in a FIFO for len bytes: never write part of a line. */
static bool fits(int fd, size_t len)
{
	struct stat st;
	int queued = 0, cap;

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return true;
	cap = fcntl(fd, F_GETPIPE_SZ);
	if (cap < 0 || ioctl(fd, FIONREAD, &queued) < 0)
		return true;
	return (size_t)cap >= (size_t)queued + len;
}

int metrics_flush(struct metrics *m)
{
	struct metrics_source src = {0};
	struct timespec now;
	json_t *cur, *delta;
	char *line;
	ssize_t n;
	size_t len;
	int rc = 0;

	if (m->fd < 0)
		return -ENODEV;
	if (m->source)
		m->source(m->ctx, &src);
	src.missed_metrics = m->missed;
	cur = metrics_snapshot(&src);
	delta = cur ? metrics_delta(m->prev, cur) : NULL;
	clock_gettime(CLOCK_REALTIME, &now);
	line = delta ? metrics_line(delta,
				    (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000)
		     : NULL;
	json_decref(delta);
	if (!line) {
		json_decref(cur);
		m->missed++;
		return -ENOMEM;
	}
	len = strlen(line);
	n = fits(m->fd, len) ? write(m->fd, line, len) : (errno = EAGAIN, -1);
	free(line);
	if (n != (ssize_t)len) {
		rc = n < 0 ? -errno : -EIO;
		m->missed++;
		json_decref(cur);
		return rc;
	}
	/* Deltas count from what a reader got. */
	json_decref(m->prev);
	m->prev = cur;
	return 0;
}

void metrics_close(struct metrics *m)
{
	if (!m->ready)
		return;
	ev_del(m->ev, m->timer_fd);
	close(m->timer_fd);
	if (m->fd >= 0)
		close(m->fd);
	json_decref(m->prev);
	memset(m, 0, sizeof(*m));
	m->fd = m->timer_fd = -1;
}
