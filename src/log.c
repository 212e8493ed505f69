/* Logging to stderr with levels and per-call-site rate limiting, or to a
 * Firecracker log target in Firecracker's line format. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

static enum log_level cur_level = LOG_WARN;

/* The target is set and closed while only one thread runs (start-up,
 * before InstanceStart, exit); lines are written with one write() each. */
static int target_fd = -1;
static struct log_target target;
static char target_id[128];
static uint64_t missed;

void log_set_level(enum log_level lvl) { cur_level = lvl; }
enum log_level log_get_level(void) { return cur_level; }

uint64_t log_missed(void) { return __atomic_load_n(&missed, __ATOMIC_RELAXED); }

void log_set_target(int fd, const struct log_target *t)
{
	log_close_target();
	snprintf(target_id, sizeof(target_id), "%s", t->id ? t->id : "anonymous-instance");
	target = *t;
	target.id = target_id;
	target_fd = fd;
}

void log_close_target(void)
{
	if (target_fd >= 0)
		close(target_fd);
	target_fd = -1;
}

int log_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_NONBLOCK | O_APPEND | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : fd;
}

static const char *const fc_names[] = {"ERROR", "WARN", "INFO", "DEBUG"};

size_t log_format_fc(char *buf, size_t len, const struct log_target *t, const char *thread,
		     enum log_level lvl, const char *file, int line, const struct timespec *now,
		     const char *msg)
{
	struct tm tm;
	int n;

	localtime_r(&now->tv_sec, &tm);
	/* The build names sources from the build directory: "../src/x.c". */
	while (file && !strncmp(file, "../", 3))
		file += 3;
	n = snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld [%s:%s%s%s", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, now->tv_nsec,
		     t->id ? t->id : "anonymous-instance", thread, t->show_level ? ":" : "",
		     t->show_level && lvl >= LOG_ERROR && lvl <= LOG_DEBUG ? fc_names[lvl] : "");
	if (n >= 0 && (size_t)n < len && t->show_origin)
		n += snprintf(buf + n, len - (size_t)n, ":%s:%d", file ? file : "?", line);
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "] %s", msg);
	if (n < 0)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

static void write_target(const char *file, int line, enum log_level lvl, const char *msg)
{
	char buf[1400], thread[16] = "-";
	struct timespec now;
	size_t n;

	prctl(PR_GET_NAME, thread, 0, 0, 0);
	clock_gettime(CLOCK_REALTIME, &now);
	n = log_format_fc(buf, sizeof(buf) - 1, &target, thread, lvl, file, line, &now, msg);
	buf[n++] = '\n';
	if (write(target_fd, buf, n) != (ssize_t)n)
		__atomic_fetch_add(&missed, 1, __ATOMIC_RELAXED);
}

void log_msg_at(const char *file, int line, enum log_level lvl, const char *prefix,
		const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[1024];
	va_list ap;
	int n;

	if (lvl > cur_level || lvl < LOG_ERROR)
		return;
	if (target_fd >= 0) {
		n = snprintf(buf, sizeof(buf), "%s%s", prefix ? prefix : "", prefix ? ": " : "");
		if (n < 0 || (size_t)n >= sizeof(buf))
			n = 0;
		va_start(ap, fmt);
		vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
		va_end(ap);
		write_target(file, line, lvl, buf);
		return;
	}
	n = snprintf(buf, sizeof(buf), "kite: %s%s%s: ", prefix ? prefix : "",
		     prefix ? ": " : "", names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One fputs per line so that threads do not interleave mid-line. */
	fprintf(stderr, "%s\n", buf);
}

void log_report(const char *prefix, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (target_fd >= 0) {
		char line[1100];

		/* Asked for by the user (--boot-timer): always written. */
		snprintf(line, sizeof(line), "%s: %s", prefix, buf);
		write_target(NULL, 0, LOG_INFO, line);
		return;
	}
	fprintf(stderr, "kite: %s: %s\n", prefix, buf);
}

int log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *suppressed_out)
{
	uint64_t now = clock_mono_ns();

	*suppressed_out = 0;
	if (now - rl->window_start_ns >= 1000000000ull) {
		rl->window_start_ns = now;
		*suppressed_out = rl->suppressed;
		rl->suppressed = 0;
		rl->printed = 0;
	}
	if (rl->printed < LOG_RATELIMIT_BURST) {
		rl->printed++;
		return 1;
	}
	rl->suppressed++;
	return 0;
}
