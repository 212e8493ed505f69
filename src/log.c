/* Logging to stderr with levels and per-call-site rate limiting. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

static enum log_level cur_level = LOG_WARN;

void log_set_level(enum log_level lvl) { cur_level = lvl; }
enum log_level log_get_level(void) { return cur_level; }

void log_msg(enum log_level lvl, const char *prefix, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[1024];
	va_list ap;
	int n;

	if (lvl > cur_level)
		return;
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
