/* Typed access to Firecracker request bodies; see fc_json.h. */
#include "api/fc_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DESER_PREFIX "An error occurred when deserializing the json body of a request: "

int fcj_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int fcj_deser(char *err, size_t errlen, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fcj_fail(err, errlen, -EINVAL, DESER_PREFIX "%s.", msg);
}

/* serde's description of what it found instead ("invalid type: X"). */
static void describe(const json_t *v, char *out, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		/* Quoted and cut short: the value comes from the client. */
		snprintf(out, len, "string \"%.40s\"", json_string_value(v));
		for (char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		break;
	case JSON_INTEGER:
		snprintf(out, len, "integer `%" JSON_INTEGER_FORMAT "`", json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(out, len, "floating point `%g`", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		snprintf(out, len, "boolean `%s`", json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		snprintf(out, len, "null");
		break;
	case JSON_ARRAY:
		snprintf(out, len, "sequence");
		break;
	default:
		snprintf(out, len, "map");
		break;
	}
}

static int bad_type(const json_t *v, const char *expected, char *err, size_t errlen)
{
	char got[96];

	describe(v, got, sizeof(got));
	return fcj_deser(err, errlen, "invalid type: %s, expected %s", got, expected);
}

/* serde's list of what it expected: "`a`", "`a` or `b`", "one of `a`, `b`, `c`". */
static void one_of(const char *const *names, char *out, size_t len)
{
	size_t n = 0, count = 0;

	while (names[count])
		count++;
	out[0] = 0;
	if (count >= 3)
		n = (size_t)snprintf(out, len, "one of ");
	for (size_t i = 0; i < count && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s`%s`",
				      i == 0	   ? ""
				      : count == 2 ? " or "
						   : ", ",
				      names[i]);
}

int fcj_missing(const char *field, char *err, size_t errlen)
{
	return fcj_deser(err, errlen, "missing field `%s`", field);
}

int fcj_object(const json_t *v, const char *what, const char *const *fields, char *err,
	       size_t errlen)
{
	const char *key;
	json_t *val;

	if (!json_is_object(v)) {
		char exp[64];

		snprintf(exp, sizeof(exp), "struct %s", what);
		return bad_type(v, exp, err, errlen);
	}
	json_object_foreach((json_t *)v, key, val)
	{
		char list[512];
		int known = 0;

		for (int i = 0; fields[i]; i++)
			known |= !strcmp(key, fields[i]);
		if (known)
			continue;
		one_of(fields, list, sizeof(list));
		/* The key is the client's: bounded and printable in the reply. */
		char shown[64];
		snprintf(shown, sizeof(shown), "%.48s", key);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return fcj_deser(err, errlen, "unknown field `%s`, expected %s", shown, list);
	}
	return 0;
}

static const json_t *field(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	return v && !json_is_null(v) ? v : NULL;
}

int fcj_str(const json_t *obj, const char *key, size_t max, const char **out, char *err,
	    size_t errlen)
{
	const json_t *v = field(obj, key);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return bad_type(v, "a string", err, errlen);
	/* An embedded NUL would silently cut a path short in C. */
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fcj_deser(err, errlen, "invalid value: `%s` contains a NUL character", key);
	if (json_string_length(v) > max)
		return fcj_deser(err, errlen, "invalid value: `%s` is longer than %zu bytes", key,
				 max);
	*out = json_string_value(v);
	return 1;
}

int fcj_bool(const json_t *obj, const char *key, bool *out, char *err, size_t errlen)
{
	const json_t *v = field(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bad_type(v, "a boolean", err, errlen);
	*out = json_is_true(v);
	return 1;
}

int fcj_u64(const json_t *obj, const char *key, uint64_t max, const char *what, uint64_t *out,
	    char *err, size_t errlen)
{
	const json_t *v = field(obj, key);
	json_int_t i;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return bad_type(v, what, err, errlen);
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return fcj_deser(err, errlen,
				 "invalid value: integer `%" JSON_INTEGER_FORMAT "`, expected %s",
				 i, what);
	*out = (uint64_t)i;
	return 1;
}

int fcj_enum(const json_t *obj, const char *key, const char *const *names, int *out, char *err,
	     size_t errlen)
{
	const char *s;
	char list[256];
	int rc = fcj_str(obj, key, 64, &s, err, errlen);

	if (rc <= 0)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 1;
		}
	}
	one_of(names, list, sizeof(list));
	return fcj_deser(err, errlen, "unknown variant `%.40s`, expected %s", s, list);
}

int fcj_checked_id(const char *id, size_t max, const char *what, char *err, size_t errlen)
{
	if (!id || !*id)
		return fcj_fail(err, errlen, -EINVAL, "The ID cannot be empty.");
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return fcj_fail(err, errlen, -EINVAL,
					"API Resource IDs can only contain alphanumeric characters "
					"and underscores.");
	if (strlen(id) > max)
		return fcj_fail(err, errlen, -EINVAL,
				"%s are at most %zu characters long in this kite.", what, max);
	return 0;
}

int fcj_body_id(const char *path_id, const json_t *body, const char *field, char *err,
		size_t errlen)
{
	const char *id;
	int rc;

	if ((rc = fcj_str(body, field, 64, &id, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing(field, err, errlen);
	if (strcmp(id, path_id))
		return fcj_fail(err, errlen, -EINVAL,
				"The id from the path does not match the id from the body!");
	return 0;
}

static int bucket(const json_t *v, struct token_bucket_config *b, char *err, size_t errlen)
{
	static const char *const fields[] = {"size", "one_time_burst", "refill_time", NULL};
	uint64_t size = 0, burst = 0, refill = 0;
	int rc;

	if (!v || json_is_null(v)) {
		memset(b, 0, sizeof(*b));
		return 0;
	}
	if ((rc = fcj_object(v, "TokenBucketConfig", fields, err, errlen)))
		return rc;
	rc = fcj_u64(v, "size", INT64_MAX, "u64", &size, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("size", err, errlen);
	rc = fcj_u64(v, "refill_time", INT64_MAX, "u64", &refill, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("refill_time", err, errlen);
	rc = fcj_u64(v, "one_time_burst", INT64_MAX, "u64", &burst, err, errlen);
	if (rc < 0)
		return rc;
	/* Kite's limiter refuses refill times above a day (RATE_LIMIT_MAX_REFILL_MS). */
	if (refill > RATE_LIMIT_MAX_REFILL_MS)
		return fcj_fail(err, errlen, -EINVAL,
				"Cannot create RateLimiter: refill_time %" PRIu64
				" ms is more than kite's limit of %llu ms (a day)",
				refill, (unsigned long long)RATE_LIMIT_MAX_REFILL_MS);
	memset(b, 0, sizeof(*b));
	if (size && refill) {
		b->size = size;
		b->one_time_burst = burst;
		b->refill_time_ms = refill;
	}
	return 0;
}

int fcj_rate_limiter(const json_t *v, struct rate_limiter_config *rl, char *err, size_t errlen)
{
	static const char *const fields[] = {"bandwidth", "ops", NULL};
	struct rate_limiter_config n;
	int rc;

	memset(&n, 0, sizeof(n));
	if (v && !json_is_null(v)) {
		if ((rc = fcj_object(v, "RateLimiterConfig", fields, err, errlen)) ||
		    (rc = bucket(json_object_get(v, "bandwidth"), &n.bandwidth, err, errlen)) ||
		    (rc = bucket(json_object_get(v, "ops"), &n.ops, err, errlen)))
			return rc;
	}
	*rl = n;
	return 0;
}

static json_t *bucket_json(const struct token_bucket_config *b)
{
	return json_pack("{sI sI sI}", "size", (json_int_t)b->size, "one_time_burst",
			 (json_int_t)b->one_time_burst, "refill_time",
			 (json_int_t)b->refill_time_ms);
}

json_t *fcj_rate_limiter_json(const struct rate_limiter_config *rl)
{
	json_t *o;

	if (!rl->bandwidth.size && !rl->ops.size)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	if (rl->bandwidth.size)
		json_object_set_new(o, "bandwidth", bucket_json(&rl->bandwidth));
	if (rl->ops.size)
		json_object_set_new(o, "ops", bucket_json(&rl->ops));
	return o;
}

/* A field present and not null. */
static bool given(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v && !json_is_null(v);
}

int fcj_rl_update(const json_t *body, const char *key, struct fc_rl_update *u, char *err,
		  size_t errlen)
{
	const json_t *v = json_object_get(body, key);
	int rc;

	memset(u, 0, sizeof(*u));
	if (!v || json_is_null(v))
		return 0;
	if ((rc = fcj_rate_limiter(v, &u->rl, err, errlen)))
		return rc;
	u->given = true;
	u->bandwidth = given(v, "bandwidth");
	u->ops = given(v, "ops");
	return 0;
}

void fc_rl_update_limits(const struct fc_rl_update *u, const struct rate_limiter_config *cur,
			 struct rate_limiter_config *out)
{
	*out = *cur;
	if (!u->given)
		return;
	if (u->bandwidth)
		out->bandwidth = u->rl.bandwidth;
	if (u->ops)
		out->ops = u->rl.ops;
}
