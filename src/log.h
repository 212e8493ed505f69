/* Logging: levels, a subsystem prefix, and rate limiting for anything a guest
 * can trigger. kite's own messages go to stderr; stdout belongs to the guest. */
#ifndef KITE_LOG_H
#define KITE_LOG_H

#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_msg(enum log_level lvl, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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
