/* Logging: levels, a subsystem prefix, and rate limiting for anything a guest
 * can trigger. kite's own messages go to stderr; stdout belongs to the guest.
 * With a log target (Firecracker's --log-path or PUT /logger) they go to
 * that file or FIFO instead, in Firecracker's line format:
 *   <local time> [<id>:<thread>[:<LEVEL>][:<file>:<line>]] <message>
 * one write() per line, never blocking: a full FIFO drops the line and
 * counts it (log_missed). */
#ifndef KITE_LOG_H
#define KITE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* LOG_OFF: nothing at all (Firecracker's level Off). */
enum log_level { LOG_OFF = -1, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* log_msg passes its call site, shown by --show-log-origin. */
#define log_msg(lvl, p, ...) log_msg_at(__FILE__, __LINE__, lvl, p, __VA_ARGS__)
void log_msg_at(const char *file, int line, enum log_level lvl, const char *prefix,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Firecracker's format to fd (kite owns it from now on and closes it at
 * log_close_target). id: the instance id (copied). */
struct log_target {
	const char *id;
	bool show_level;
	bool show_origin;
};
void log_set_target(int fd, const struct log_target *t);
/* Back to stderr in kite's format; closes the target. */
void log_close_target(void);
/* Opens a Firecracker log or metrics path: an existing file or FIFO,
 * O_RDWR|O_NONBLOCK|O_APPEND (as Firecracker, read-write, so that opening a
 * FIFO without a reader neither blocks nor fails). fd or -errno. */
int log_open_path(const char *path);
/* Lines the target did not take (full FIFO, write error) so far. */
uint64_t log_missed(void);
/* One line in Firecracker's format (no newline) into buf; for tests and
 * the writer. thread: the thread's name. now: CLOCK_REALTIME. */
size_t log_format_fc(char *buf, size_t len, const struct log_target *t, const char *thread,
		     enum log_level lvl, const char *file, int line, const struct timespec *now,
		     const char *msg);

/* Always printed, without a level: "kite: PREFIX: message". For reports the
 * user asked for (--timestamps). */
void log_report(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A token bucket per call site: at most `burst` messages, then one per
 * second; suppressed messages are counted and reported with the next one. */
struct log_ratelimit {
	uint64_t window_start_ns;
	uint32_t printed;
	uint32_t suppressed;
};
#define LOG_RATELIMIT_BURST 10
/* Returns nonzero when the message may be printed. Thread-safe enough for
 * logging: a lost update only changes how many lines get through. */
int log_ratelimit_ok(struct log_ratelimit *rl, uint32_t *suppressed_out);

#define log_err(p, ...) log_msg(LOG_ERROR, p, __VA_ARGS__)
#define log_warn(p, ...) log_msg(LOG_WARN, p, __VA_ARGS__)
#define log_info(p, ...) log_msg(LOG_INFO, p, __VA_ARGS__)
#define log_debug(p, ...) log_msg(LOG_DEBUG, p, __VA_ARGS__)

/* For guest-triggerable conditions: never floods stderr. */
#define log_guest(p, ...)                                                   \
	do {                                                                \
		static struct log_ratelimit rl_;                            \
		uint32_t sup_;                                              \
		if (log_ratelimit_ok(&rl_, &sup_)) {                        \
			if (sup_)                                           \
				log_msg(LOG_WARN, p, "(%u similar messages suppressed)", sup_); \
			log_msg(LOG_WARN, p, __VA_ARGS__);                  \
		}                                                           \
	} while (0)

#endif
