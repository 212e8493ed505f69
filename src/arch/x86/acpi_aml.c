/* AML encoding (ACPI 6.x chapter 20 "ACPI Machine Language Specification")
 * for the handful of constructs kite's DSDT needs, and the small resource
 * descriptors (chapter 6.4) of its _CRS buffers. Bodies with a PkgLength are
 * written after a 4-byte placeholder and moved down once their length is
 * known, which keeps the encoder single-pass. */
#include "arch/x86/acpi_aml.h"

#include <string.h>

#include "arch/x86/boot_util.h"

enum {
	AML_ZERO = 0x00,
	AML_ONE = 0x01,
	AML_NAME = 0x08,
	AML_BYTE = 0x0A,
	AML_WORD = 0x0B,
	AML_DWORD = 0x0C,
	AML_STRING = 0x0D,
	AML_QWORD = 0x0E,
	AML_SCOPE = 0x10,
	AML_BUFFER = 0x11,
	AML_PACKAGE = 0x12,
	AML_METHOD = 0x14,
	AML_DUAL_NAME = 0x2E,
	AML_MULTI_NAME = 0x2F,
	AML_EXT_PREFIX = 0x5B,
	AML_EXT_DEVICE = 0x82,
	AML_ROOT = 0x5C,
	AML_ARG0 = 0x68,
	AML_NOTIFY = 0x86,
	AML_LEQUAL = 0x93,
	AML_IF = 0xA0,
	AML_RETURN = 0xA4,
};

#define AML_MAX_ARGS 7

#define PKGLEN_MAX_BYTES 4

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	a->buf = buf;
	a->len = 0;
	a->cap = cap;
	a->overflow = 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = 1;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

void aml_name_string(struct aml *a, const char *name)
{
	if (name[0] == '\\') {
		aml_byte(a, AML_ROOT);
		name++;
	}
	if (strlen(name) != 4) {
		a->overflow = 1; /* a programming error: fail the whole table */
		return;
	}
	aml_bytes(a, name, 4);
}

void aml_name_path(struct aml *a, const char *path)
{
	size_t len, segs;

	if (path[0] == '\\') {
		aml_byte(a, AML_ROOT);
		path++;
	}
	/* "SEG1.SEG2...": 4 characters per segment, dots between. */
	len = strlen(path);
	segs = (len + 1) / 5;
	if (len % 5 != 4 || segs > 255) {
		a->overflow = 1; /* a programming error: fail the whole table */
		return;
	}
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME);
	} else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME);
		aml_byte(a, (uint8_t)segs);
	}
	for (size_t i = 0; i < segs; i++) {
		if (i && path[5 * i - 1] != '.') {
			a->overflow = 1;
			return;
		}
		aml_bytes(a, path + 5 * i, 4);
	}
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[8];

	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE);
		aml_byte(a, (uint8_t)v);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD);
		le16_put(b, (uint16_t)v);
		aml_bytes(a, b, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD);
		le32_put(b, (uint32_t)v);
		aml_bytes(a, b, 4);
	} else {
		aml_byte(a, AML_QWORD);
		le64_put(b, v);
		aml_bytes(a, b, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
	aml_integer(a, v);
}

void aml_name_str(struct aml *a, const char *name, const char *s)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
	aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *name, const char *id)
{
	uint8_t b[4];
	uint32_t v = aml_eisaid(id);

	if (!v) {
		a->overflow = 1;
		return;
	}
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
	/* Always a DWordConst, as ASL's EisaId() produces. */
	aml_byte(a, AML_DWORD);
	le32_put(b, v);
	aml_bytes(a, b, 4);
}

static size_t open_pkg(struct aml *a)
{
	static const uint8_t zero[PKGLEN_MAX_BYTES];
	size_t mark = a->len;

	aml_bytes(a, zero, sizeof(zero));
	return mark;
}

void aml_close(struct aml *a, size_t mark)
{
	size_t body, total, n;
	uint8_t *p;

	if (a->overflow || mark + PKGLEN_MAX_BYTES > a->len)
		return;
	body = a->len - mark - PKGLEN_MAX_BYTES;
	/* The length counts its own bytes: 1 byte holds 6 bits, 2..4 bytes
	 * hold 4 + 8 * (n - 1) bits. */
	if (body + 1 < 64)
		n = 1;
	else if (body + 2 < (1u << 12))
		n = 2;
	else if (body + 3 < (1u << 20))
		n = 3;
	else if (body + 4 < (1u << 28))
		n = 4;
	else {
		a->overflow = 1;
		return;
	}
	total = body + n;
	p = a->buf + mark;
	memmove(p + n, p + PKGLEN_MAX_BYTES, body);
	a->len -= PKGLEN_MAX_BYTES - n;
	if (n == 1) {
		p[0] = (uint8_t)total;
		return;
	}
	p[0] = (uint8_t)((n - 1) << 6 | (total & 0xf));
	for (size_t i = 1; i < n; i++)
		p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

size_t aml_scope_open(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_SCOPE);
	mark = open_pkg(a);
	aml_name_string(a, name);
	return mark;
}

size_t aml_device_open(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	mark = open_pkg(a);
	aml_name_string(a, name);
	return mark;
}

size_t aml_method_open(struct aml *a, const char *name, uint8_t nr_args)
{
	size_t mark;

	if (nr_args > AML_MAX_ARGS) {
		a->overflow = 1;
		return 0;
	}
	aml_byte(a, AML_METHOD);
	mark = open_pkg(a);
	aml_name_string(a, name);
	/* MethodFlags: the argument count; not serialized, sync level 0. */
	aml_byte(a, nr_args);
	return mark;
}

size_t aml_if_open(struct aml *a)
{
	aml_byte(a, AML_IF);
	return open_pkg(a);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN);
}

void aml_lequal(struct aml *a)
{
	aml_byte(a, AML_LEQUAL);
}

void aml_notify(struct aml *a)
{
	aml_byte(a, AML_NOTIFY);
}

void aml_arg(struct aml *a, unsigned int n)
{
	if (n >= AML_MAX_ARGS) {
		a->overflow = 1;
		return;
	}
	aml_byte(a, (uint8_t)(AML_ARG0 + n));
}

size_t aml_package_open(struct aml *a, uint8_t nr_elements)
{
	size_t mark;

	aml_byte(a, AML_PACKAGE);
	mark = open_pkg(a);
	aml_byte(a, nr_elements);
	return mark;
}

void aml_name_buffer(struct aml *a, const char *name, const uint8_t *p, size_t n)
{
	size_t mark;

	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
	aml_byte(a, AML_BUFFER);
	mark = open_pkg(a);
	aml_integer(a, n);
	aml_bytes(a, p, n);
	aml_close(a, mark);
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint32_t aml_eisaid(const char *id)
{
	uint32_t v;

	if (strlen(id) != 7 || !is_upper(id[0]) || !is_upper(id[1]) || !is_upper(id[2]))
		return 0;
	/* Three 5-bit letters ('A' = 1) then four hex digits, stored as a
	 * big-endian 32-bit value; the dword in memory is its byte swap. */
	v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
	    (uint32_t)(id[2] - 0x40) << 16;
	for (int i = 3; i < 7; i++) {
		int h = hex_val(id[i]);

		if (h < 0)
			return 0;
		v |= (uint32_t)h << (4 * (6 - i));
	}
	return __builtin_bswap32(v);
}

size_t aml_res_io(uint8_t *p, uint16_t base, uint8_t len)
{
	p[0] = 0x47; /* small item: I/O port, 7 bytes */
	p[1] = 0x01; /* 16-bit decode */
	le16_put(p + 2, base);
	le16_put(p + 4, base);
	p[6] = 0x01; /* alignment */
	p[7] = len;
	return 8;
}

size_t aml_res_irq_noflags(uint8_t *p, uint8_t irq)
{
	p[0] = 0x22; /* small item: IRQ, 2 bytes (edge, active high) */
	le16_put(p + 1, (uint16_t)(1u << (irq & 15)));
	return 3;
}

size_t aml_res_mem32_fixed(uint8_t *p, uint32_t base, uint32_t len)
{
	p[0] = 0x86; /* large item: 32-bit fixed memory range */
	le16_put(p + 1, 9);
	p[3] = 0x01; /* read-write */
	le32_put(p + 4, base);
	le32_put(p + 8, len);
	return 12;
}

size_t aml_res_interrupt(uint8_t *p, uint32_t gsi)
{
	p[0] = 0x89; /* large item: extended interrupt */
	le16_put(p + 1, 6);
	p[3] = 0x03; /* consumer, edge, active high, exclusive, no wake */
	p[4] = 1;    /* one interrupt */
	le32_put(p + 5, gsi);
	return 9;
}

size_t aml_res_end(uint8_t *p)
{
	p[0] = 0x79; /* end tag */
	p[1] = 0x00; /* checksum 0: "treat as correct" */
	return 2;
}
