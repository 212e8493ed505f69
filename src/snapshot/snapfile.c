/* The snapshot file container (snapfile.h): encoding and atomic writing,
 * and the parser that everything read goes through (the host signature is
 * snaphost.c's). The file is hostile input: the parser bounds every count,
 * offset and length before it uses one, and accepts only one canonical
 * layout (payloads in table order, 8-byte aligned, zero padding, nothing
 * after the last), so that no byte of an accepted file goes unchecked. */
#include "snapshot/snapfile.h"
#include "snapshot/outfile.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/crc32c.h"

static_assert(sizeof(struct snap_host) == SNAP_HOST_LEN, "snap_host is all u32, in file order");
static_assert(SNAP_HEADER_LEN == 24 + SNAP_HOST_LEN + 4, "header: fixed part, host, CRC");

static const char *const sec_names[] = {
    [SNAP_SEC_MACHINE] = "machine", [SNAP_SEC_MEMMAP] = "memmap", [SNAP_SEC_DEVICES] = "devices",
    [SNAP_SEC_CPU] = "cpu",	    [SNAP_SEC_INFO] = "info",
};

__attribute__((format(printf, 4, 5))) static int fail(int rc, char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

static uint32_t get32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, v >> 32);
}

static bool known_type(uint32_t type)
{
	return type >= 1 && type <= SNAP_SEC_KNOWN_MAX;
}

const char *snap_sec_name(uint32_t type)
{
	return known_type(type) ? sec_names[type] : "unknown";
}

/* ---- decoding and the checks shared by writer and parser ---- */

void snap_decode_header(const void *buf, struct snap_raw_header *h)
{
	const unsigned char *p = buf;
	uint32_t w[SNAP_HOST_LEN / 4];

	h->version = get32(p + 8);
	h->arch = get32(p + 12);
	h->header_len = get32(p + 16);
	h->nr = get32(p + 20);
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		w[i] = get32(p + 24 + 4 * i);
	memcpy(&h->host, w, sizeof(h->host));
	h->crc_stored = get32(p + SNAP_HEADER_LEN - 4);
	h->crc_computed = crc32c(0, p, SNAP_HEADER_LEN - 4);
}

void snap_decode_entry(const void *buf, struct snap_raw_entry *e)
{
	const unsigned char *p = buf;

	e->type = get32(p);
	e->version = get32(p + 4);
	e->flags = get32(p + 8);
	e->crc = get32(p + 12);
	e->off = get64(p + 16);
	e->len = get64(p + 24);
}

/* Flags, type and size of section i against itself and the ones before it.
 * A writer may write a type it knows and this kite does not. */
static int check_kind(const struct snap_section *secs, int i, uint64_t len, bool writer, char *err,
		      size_t errlen)
{
	const struct snap_section *s = &secs[i];
	const char *name = snap_sec_name(s->type);

	if (s->flags & ~SNAP_SEC_REQUIRED)
		return fail(-EINVAL, err, errlen, "section %d (%s): unknown flags 0x%x", i, name,
			    s->flags & ~SNAP_SEC_REQUIRED);
	if (s->type == 0)
		return fail(-EINVAL, err, errlen, "section %d: type 0 is invalid", i);
	for (int j = 0; j < i; j++)
		if (secs[j].type == s->type)
			return fail(-EINVAL, err, errlen,
				    "section %d (%s): type %u appears twice (sections %d and %d)",
				    i, name, s->type, j, i);
	if (!writer && !known_type(s->type) && (s->flags & SNAP_SEC_REQUIRED))
		return fail(-EINVAL, err, errlen,
			    "section type %u is required but unknown to this kite", s->type);
	if (len > SNAP_FILE_MAX)
		return fail(-EINVAL, err, errlen, "section %d (%s): %llu bytes, at most %u", i,
			    name, (unsigned long long)len, SNAP_FILE_MAX);
	return 0;
}

/* ---- encoding and writing ---- */

static int layout(const struct snap_section *secs, int n, uint64_t *off, uint64_t *total, char *err,
		  size_t errlen)
{
	uint64_t end = SNAP_HEADER_LEN + SNAP_TABLE_LEN(n);

	for (int i = 0; i < n; i++) {
		int rc = check_kind(secs, i, secs[i].len, true, err, errlen);

		if (rc)
			return rc;
		if (secs[i].len && !secs[i].data)
			return fail(-EINVAL, err, errlen, "section %d (%s): no data", i,
				    snap_sec_name(secs[i].type));
		/* Each term is at most SNAP_FILE_MAX: no overflow before the test. */
		off[i] = ALIGN_UP(end, SNAP_SEC_ALIGN);
		end = off[i] + secs[i].len;
		if (end > SNAP_FILE_MAX)
			return fail(-EFBIG, err, errlen, "the snapshot would be over %u bytes",
				    SNAP_FILE_MAX);
	}
	*total = end;
	return 0;
}

static void encode_header(unsigned char *p, const struct snap_host *host, int n)
{
	uint32_t w[SNAP_HOST_LEN / 4];

	memcpy(p, SNAP_MAGIC, 8);
	put32(p + 8, SNAP_FORMAT_VERSION);
	put32(p + 12, SNAP_ARCH_X86_64);
	put32(p + 16, SNAP_HEADER_LEN);
	put32(p + 20, n);
	memcpy(w, host, sizeof(w));
	for (size_t i = 0; i < ARRAY_SIZE(w); i++)
		put32(p + 24 + 4 * i, w[i]);
	put32(p + SNAP_HEADER_LEN - 4, crc32c(0, p, SNAP_HEADER_LEN - 4));
}

int snap_encode(const struct snap_host *host, const struct snap_section *secs, int n, void **out,
		size_t *outlen, char *err, size_t errlen)
{
	uint64_t off[SNAP_MAX_SECTIONS], total = 0;
	unsigned char *buf, *t;
	int rc;

	if (n < 0 || n > SNAP_MAX_SECTIONS || (n && !secs))
		return fail(-EINVAL, err, errlen, "%d sections, at most %d", n, SNAP_MAX_SECTIONS);
	rc = layout(secs, n, off, &total, err, errlen);
	if (rc)
		return rc;
	/* calloc: the padding between payloads is zero, as the parser wants. */
	buf = calloc(1, total);
	if (!buf)
		return fail(-ENOMEM, err, errlen, "out of memory for a %llu-byte snapshot",
			    (unsigned long long)total);
	encode_header(buf, host, n);
	t = buf + SNAP_HEADER_LEN;
	for (int i = 0; i < n; i++, t += SNAP_ENTRY_LEN) {
		put32(t, secs[i].type);
		put32(t + 4, secs[i].version);
		put32(t + 8, secs[i].flags);
		put32(t + 12, crc32c(0, secs[i].data, secs[i].len));
		put64(t + 16, off[i]);
		put64(t + 24, secs[i].len);
		if (secs[i].len)
			memcpy(buf + off[i], secs[i].data, secs[i].len);
	}
	put32(t, crc32c(0, buf + SNAP_HEADER_LEN, (size_t)n * SNAP_ENTRY_LEN));
	*out = buf;
	*outlen = total;
	return 0;
}

int snap_write(const char *path, const struct snap_host *host, const struct snap_section *secs,
	       int n, char *err, size_t errlen)
{
	struct outfile o;
	const char *what = "write";
	size_t len;
	void *buf;
	int rc;

	rc = snap_encode(host, secs, n, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = outfile_open(&o, path);
	if (rc) {
		free(buf);
		return fail(rc, err, errlen, "%s: %s", path, strerror(-rc));
	}
	rc = outfile_write(&o, buf, len);
	free(buf);
	if (rc)
		outfile_abort(&o);
	else
		rc = outfile_commit(&o, &what);
	if (rc)
		return fail(rc, err, errlen, "%s: %s: %s", path, what, strerror(-rc));
	return 0;
}

/* ---- parsing ---- */

static int check_header(const unsigned char *p, size_t len, struct snap_raw_header *h, char *err,
			size_t errlen)
{
	if (len && memcmp(p, SNAP_MAGIC, MIN(len, 8)) != 0)
		return fail(-EINVAL, err, errlen, "not a kite snapshot");
	if (len < SNAP_HEADER_LEN)
		return fail(-EINVAL, err, errlen,
			    "truncated: the header is %d bytes, the file has %zu", SNAP_HEADER_LEN,
			    len);
	if (len > SNAP_FILE_MAX)
		return fail(-EINVAL, err, errlen, "the file is %zu bytes, a snapshot is at most %u",
			    len, SNAP_FILE_MAX);
	snap_decode_header(p, h);
	/* Before the CRC: another version may keep its CRC elsewhere. */
	if (h->version != SNAP_FORMAT_VERSION)
		return fail(-EINVAL, err, errlen, "format version %u, this kite reads version %d",
			    h->version, SNAP_FORMAT_VERSION);
	if (h->arch != SNAP_ARCH_X86_64)
		return fail(-EINVAL, err, errlen, "architecture %u, this kite is x86-64 (%d)",
			    h->arch, SNAP_ARCH_X86_64);
	if (h->header_len != SNAP_HEADER_LEN)
		return fail(-EINVAL, err, errlen, "header length %u, format version %d has %d",
			    h->header_len, SNAP_FORMAT_VERSION, SNAP_HEADER_LEN);
	if (h->crc_stored != h->crc_computed)
		return fail(-EINVAL, err, errlen,
			    "header: checksum mismatch (stored 0x%08x, computed 0x%08x)",
			    h->crc_stored, h->crc_computed);
	if (h->nr > SNAP_MAX_SECTIONS)
		return fail(-EINVAL, err, errlen, "%u sections, at most %d", h->nr,
			    SNAP_MAX_SECTIONS);
	return 0;
}

/* Places section i after what precedes it (ending at *end): aligned, no
 * overlap, no gap but zero padding, inside the file. */
static int check_place(const unsigned char *p, size_t len, int i, const struct snap_raw_entry *e,
		       uint64_t *end, char *err, size_t errlen)
{
	const char *name = snap_sec_name(e->type);
	uint64_t want = ALIGN_UP(*end, SNAP_SEC_ALIGN);

	if (e->off % SNAP_SEC_ALIGN)
		return fail(-EINVAL, err, errlen,
			    "section %d (%s): offset %llu is not %d-byte aligned", i, name,
			    (unsigned long long)e->off, SNAP_SEC_ALIGN);
	if (e->off < *end)
		return fail(-EINVAL, err, errlen,
			    "section %d (%s): offset %llu overlaps what precedes it (up to %llu)",
			    i, name, (unsigned long long)e->off, (unsigned long long)*end);
	if (e->off > want)
		return fail(-EINVAL, err, errlen,
			    "section %d (%s): offset %llu leaves a gap (expected %llu)", i, name,
			    (unsigned long long)e->off, (unsigned long long)want);
	/* off <= SNAP_FILE_MAX + 8 and len <= SNAP_FILE_MAX: the sum fits. */
	if (e->off + e->len > len)
		return fail(
		    -EINVAL, err, errlen,
		    "truncated: the table says section %d ends at %llu, the file has %zu bytes", i,
		    (unsigned long long)(e->off + e->len), len);
	for (uint64_t b = *end; b < e->off; b++)
		if (p[b])
			return fail(-EINVAL, err, errlen,
				    "section %d (%s): the padding before it is not zero", i, name);
	*end = e->off + e->len;
	return 0;
}

static int check_table(const unsigned char *p, size_t len, int nr, struct snap_file *out,
		       uint32_t *crcs, char *err, size_t errlen)
{
	size_t tlen = SNAP_TABLE_LEN(nr);
	uint64_t end = SNAP_HEADER_LEN + tlen;
	uint32_t stored, computed;

	if (len < end)
		return fail(-EINVAL, err, errlen,
			    "truncated: the section table ends at %llu, the file has %zu bytes",
			    (unsigned long long)end, len);
	stored = get32(p + end - 4);
	computed = crc32c(0, p + SNAP_HEADER_LEN, tlen - 4);
	if (stored != computed)
		return fail(-EINVAL, err, errlen,
			    "section table: checksum mismatch (stored 0x%08x, computed 0x%08x)",
			    stored, computed);
	for (int i = 0; i < nr; i++) {
		struct snap_raw_entry e;
		struct snap_section *s = &out->secs[i];
		int rc;

		snap_decode_entry(p + SNAP_HEADER_LEN + (size_t)i * SNAP_ENTRY_LEN, &e);
		*s = (struct snap_section){.type = e.type, .version = e.version, .flags = e.flags};
		rc = check_kind(out->secs, i, e.len, false, err, errlen);
		if (!rc)
			rc = check_place(p, len, i, &e, &end, err, errlen);
		if (rc)
			return rc;
		s->data = p + e.off;
		s->len = e.len;
		crcs[i] = e.crc;
	}
	if (end != len)
		return fail(-EINVAL, err, errlen, "%llu trailing bytes after the last section",
			    (unsigned long long)(len - end));
	return 0;
}

int snap_parse(const void *buf, size_t len, struct snap_file *out, char *err, size_t errlen)
{
	uint32_t crcs[SNAP_MAX_SECTIONS];
	struct snap_raw_header h;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_header(buf, len, &h, err, errlen);
	if (!rc)
		rc = check_table(buf, len, h.nr, out, crcs, err, errlen);
	if (rc)
		goto bad;
	for (uint32_t i = 0; i < h.nr; i++) {
		uint32_t c = crc32c(0, out->secs[i].data, out->secs[i].len);

		if (c != crcs[i]) {
			rc = fail(
			    -EINVAL, err, errlen,
			    "section %u (%s): checksum mismatch (stored 0x%08x, computed 0x%08x)",
			    i, snap_sec_name(out->secs[i].type), crcs[i], c);
			goto bad;
		}
	}
	out->host = h.host;
	out->version = h.version;
	out->nr = h.nr;
	out->len = len;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return rc;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		n -= r;
	}
	return 0;
}

static int load(int fd, const char *path, void **bufp, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	void *buf;
	int rc;

	if (fstat(fd, &st) < 0)
		return fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return fail(-EINVAL, err, errlen, "%s: not a regular file", path);
	if (st.st_size > SNAP_FILE_MAX)
		return fail(-EINVAL, err, errlen, "%s: %lld bytes, a snapshot is at most %u", path,
			    (long long)st.st_size, SNAP_FILE_MAX);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		return fail(-ENOMEM, err, errlen, "%s: out of memory", path);
	rc = read_all(fd, buf, st.st_size);
	if (rc) {
		free(buf);
		return fail(rc, err, errlen, "%s: %s", path,
			    rc == -EIO ? "shorter than its size (changed while read?)"
				       : strerror(-rc));
	}
	*bufp = buf;
	*lenp = st.st_size;
	return 0;
}

int snap_read_all(const char *path, void **bufp, size_t *lenp, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return fail(-errno, err, errlen, "%s: %s", path, strerror(errno));
	rc = load(fd, path, bufp, lenp, err, errlen);
	close(fd);
	return rc;
}

int snap_read(const char *path, struct snap_file *out, char *err, size_t errlen)
{
	char why[256];
	size_t len;
	void *buf;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = snap_read_all(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	rc = snap_parse(buf, len, out, why, sizeof(why));
	if (rc) {
		free(buf);
		return fail(rc, err, errlen, "%s: %s", path, why);
	}
	out->buf = buf;
	return 0;
}

void snap_file_free(struct snap_file *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

const struct snap_section *snap_find(const struct snap_file *f, uint32_t type)
{
	if (!known_type(type))
		return NULL;
	for (int i = 0; i < f->nr && i < SNAP_MAX_SECTIONS; i++)
		if (f->secs[i].type == type)
			return &f->secs[i];
	return NULL;
}
