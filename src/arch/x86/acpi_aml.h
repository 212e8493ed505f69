/* A tiny AML (ACPI Machine Language, ACPI 6.x chapter 20) encoder for the
 * DSDT: names, integers, strings, packages, scopes, devices, buffers and
 * the few method bodies kite needs (Return, If/LEqual, Notify),
 * written into a caller-supplied byte buffer. Running out of room sets
 * `overflow` and drops further output, so callers check once at the end. */
#ifndef KITE_X86_ACPI_AML_H
#define KITE_X86_ACPI_AML_H

#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int overflow;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
/* An optional '\' then one 4-character NameSeg, e.g. "\\_SB_" or "_HID". */
void aml_name_string(struct aml *a, const char *name);
/* A path of 4-character segments, e.g. "\\_SB_.VGEN" (dual or multi
 * name prefix as needed). */
void aml_name_path(struct aml *a, const char *path);
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/* Name(name, integer) / Name(name, "string") / Name(name, EisaId(id)). */
void aml_name_int(struct aml *a, const char *name, uint64_t v);
void aml_name_str(struct aml *a, const char *name, const char *s);
void aml_name_eisaid(struct aml *a, const char *name, const char *id);
/* Name(name, Buffer() {bytes}). */
void aml_name_buffer(struct aml *a, const char *name, const uint8_t *p, size_t n);

/* Objects with a PkgLength: open returns a mark for aml_close, which fills
 * the length in once the body is written. */
size_t aml_scope_open(struct aml *a, const char *name);
size_t aml_device_open(struct aml *a, const char *name);
size_t aml_package_open(struct aml *a, uint8_t nr_elements);
/* Method(name, nr_args, NotSerialized) { body }; nr_args <= 7. */
size_t aml_method_open(struct aml *a, const char *name, uint8_t nr_args);
/* If (predicate) { body }: the predicate is the first thing written. */
size_t aml_if_open(struct aml *a);
void aml_close(struct aml *a, size_t mark);

/* Operators written in prefix order: the opcode, then its operands as
 * the caller writes them. Return (x); LEqual (x, y); Notify (object,
 * value); ArgN (n < 7). */
void aml_return(struct aml *a);
void aml_lequal(struct aml *a);
void aml_notify(struct aml *a);
void aml_arg(struct aml *a, unsigned int n);

/* EISA ID compression of "PNP0501"-style ids; 0 for a malformed id. */
uint32_t aml_eisaid(const char *id);

/* Resource descriptors (ACPI 6.x 6.4) for _CRS buffers; each returns the
 * bytes written to p, which must have room for 12. */
size_t aml_res_io(uint8_t *p, uint16_t base, uint8_t len);
size_t aml_res_irq_noflags(uint8_t *p, uint8_t irq);
size_t aml_res_mem32_fixed(uint8_t *p, uint32_t base, uint32_t len);
/* Extended interrupt: consumer, edge, active high, exclusive. */
size_t aml_res_interrupt(uint8_t *p, uint32_t gsi);
size_t aml_res_end(uint8_t *p);

#endif
