/* Private to src/api: reading Firecracker request bodies out of jansson
 * values the way Firecracker's serde structs do (deny_unknown_fields,
 * required fields, strict types, null meaning "absent" for optional
 * fields), with serde's wording in the error texts so that clients that
 * match on them keep working. Every helper returns 0 or a negative errno
 * and writes one line to err; the getters return 1 when the field is
 * present, 0 when it is absent or null. */
#ifndef KITE_API_FC_JSON_H
#define KITE_API_FC_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "ratelimit.h"

/* Host paths and other strings: bounded so that a body cannot make kite
 * keep megabytes per field. */
#define FCJ_PATH_MAX 4096

int fcj_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "An error occurred when deserializing the json body of a request: ...." */
int fcj_deser(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* v must be an object ("struct what"); every key must be in fields
 * (NULL-terminated). */
int fcj_object(const json_t *v, const char *what, const char *const *fields, char *err,
	       size_t errlen) MUST_CHECK;
int fcj_missing(const char *field, char *err, size_t errlen);

int fcj_str(const json_t *obj, const char *key, size_t max, const char **out, char *err,
	    size_t errlen) MUST_CHECK;
int fcj_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen) MUST_CHECK;
/* An integer from 0 to max; what names the Rust type in errors (u8...). */
int fcj_u64(const json_t *obj, const char *key, uint64_t max, const char *what, uint64_t *out,
	    char *err, size_t errlen) MUST_CHECK;
/* One of names (NULL-terminated, exact case); *out is its index. */
int fcj_enum(const json_t *obj, const char *key, const char *const *names, int *out, char *err,
	     size_t errlen) MUST_CHECK;

/* Firecracker's checked_id for a resource id: not empty, [A-Za-z0-9_],
 * plus kite's bound of max characters ("<what> are at most max characters
 * long in this kite."). */
int fcj_checked_id(const char *id, size_t max, const char *what, char *err,
		   size_t errlen) MUST_CHECK;
/* The body's id field (required, a string) must equal the path's id. */
int fcj_body_id(const char *path_id, const json_t *body, const char *field, char *err,
		size_t errlen) MUST_CHECK;

/* Firecracker's RateLimiter object (v may be null: no limit). A disabled
 * bucket (size or refill_time 0) is stored all zero, as Firecracker keeps
 * none. */
int fcj_rate_limiter(const json_t *v, struct rate_limiter_config *rl, char *err,
		     size_t errlen) MUST_CHECK;
/* The same object for GET; NULL (JSON null) when nothing is limited. */
json_t *fcj_rate_limiter_json(const struct rate_limiter_config *rl);

/* A rate_limiter in a PATCH body (drives, network interfaces, entropy): as
 * in Firecracker, an absent (or null) limiter or bucket keeps its current
 * limits. */
struct fc_rl_update {
	bool given;	     /* the limiter was in the body */
	bool bandwidth, ops; /* which buckets the body gave */
	struct rate_limiter_config rl;
};

/* Body's key (absent or null: u->given false) into u. */
int fcj_rl_update(const json_t *body, const char *key, struct fc_rl_update *u, char *err,
		  size_t errlen) MUST_CHECK;
/* The limits a device has after update u, from its current ones (out may
 * be cur). */
void fc_rl_update_limits(const struct fc_rl_update *u, const struct rate_limiter_config *cur,
			 struct rate_limiter_config *out);

#endif
