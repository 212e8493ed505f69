/* The snapshot file container: a checked header with the signature of the
 * host that wrote it, a table of typed, versioned sections, and their
 * payloads, every part under CRC32C. Generic over payloads: the machine,
 * device and CPU sections are written and parsed by their owners; this file
 * only guarantees that what it hands them is exactly what was saved, on a
 * compatible host. Guest memory is a separate file, never in here. The byte
 * layout is in docs/SNAPSHOT-FORMAT.md. */
#ifndef KITE_SNAPSHOT_SNAPFILE_H
#define KITE_SNAPSHOT_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define SNAP_MAGIC "KITESNAP"
#define SNAP_FORMAT_VERSION 1
#define SNAP_ARCH_X86_64 1
#define SNAP_MAX_SECTIONS 64
#define SNAP_FILE_MAX (256u << 20)
#define SNAP_SEC_ALIGN 8

/* On-disk sizes of version 1 (docs/SNAPSHOT-FORMAT.md). */
#define SNAP_HOST_LEN 68
#define SNAP_HEADER_LEN 96
#define SNAP_ENTRY_LEN 32
#define SNAP_TABLE_LEN(n) ((size_t)(n)*SNAP_ENTRY_LEN + 4)

enum snap_sec_type {
	SNAP_SEC_MACHINE = 1,
	SNAP_SEC_MEMMAP = 2,
	SNAP_SEC_DEVICES = 3,
	SNAP_SEC_CPU = 4,
	SNAP_SEC_INFO = 5, /* optional, free text */
	SNAP_SEC_KNOWN_MAX = SNAP_SEC_INFO,
};

/* A kite that does not know the type must refuse the file. */
#define SNAP_SEC_REQUIRED 0x1u

/* The KVM structs the state sections copy byte for byte: if one has another
 * size here, the saved bytes do not fit it. */
enum snap_kvm_struct {
	SNAP_SZ_REGS,
	SNAP_SZ_SREGS,
	SNAP_SZ_FPU,
	SNAP_SZ_XSAVE, /* KVM_CAP_XSAVE2's size, or 4096 */
	SNAP_SZ_XCRS,
	SNAP_SZ_DEBUGREGS,
	SNAP_SZ_LAPIC,
	SNAP_SZ_VCPU_EVENTS,
	SNAP_SZ_CLOCK,
	SNAP_SZ_PIT2,
	SNAP_SZ_IRQCHIP,
	SNAP_SZ_NR,
};

struct snap_host {
	uint32_t kvm_api_version;
	uint32_t tsc_khz; /* 0: unknown, never compared */
	uint32_t cpuid_nent;
	uint32_t cpuid_crc; /* of the entries sorted by (function, index) */
	uint32_t msr_nent;
	uint32_t msr_crc; /* of the sorted MSR indexes */
	uint32_t size[SNAP_SZ_NR];
};

struct snap_section {
	uint32_t type, version, flags;
	const void *data;
	size_t len;
};

struct snap_file {
	struct snap_host host;
	uint32_t version; /* format version */
	int nr;
	struct snap_section secs[SNAP_MAX_SECTIONS]; /* data points into the file */
	void *buf; /* owned when snap_read filled it; NULL after snap_parse */
	size_t len;
};

/* Fills out from an open /dev/kvm; tsc_khz as the caller measured it. */
int snap_host_probe(int kvm_fd, uint32_t tsc_khz, struct snap_host *out) MUST_CHECK;
/* -EINVAL with the first difference named when saved was not taken on a
 * host like here. */
int snap_host_check(const struct snap_host *saved, const struct snap_host *here, char *err,
		    size_t errlen) MUST_CHECK;
/* "kvm_regs", ... for SNAP_SZ_*. */
const char *snap_host_struct_name(int i);

/* The whole file in a new malloc'd buffer. Refuses what snap_parse would
 * refuse, except an unknown REQUIRED type: a writer may know more types. */
int snap_encode(const struct snap_host *host, const struct snap_section *secs, int n, void **out,
		size_t *outlen, char *err, size_t errlen) MUST_CHECK;
/* Atomically: PATH.tmp, fsync, rename, fsync of the directory. On failure
 * path is untouched and no temporary file is left behind. */
int snap_write(const char *path, const struct snap_host *host, const struct snap_section *secs,
	       int n, char *err, size_t errlen) MUST_CHECK;

/* Pure: checks everything but the host signature (snap_host_check). out's
 * sections point into buf, which must outlive them. */
int snap_parse(const void *buf, size_t len, struct snap_file *out, char *err,
	       size_t errlen) MUST_CHECK;
int snap_read(const char *path, struct snap_file *out, char *err, size_t errlen) MUST_CHECK;
/* snap_read's loading half: a regular file of at most SNAP_FILE_MAX bytes,
 * whole, into a new malloc'd buffer (*buf is never NULL on success). */
int snap_read_all(const char *path, void **buf, size_t *len, char *err, size_t errlen) MUST_CHECK;
void snap_file_free(struct snap_file *f);

/* A known type's section, or NULL (unknown types are never found). */
const struct snap_section *snap_find(const struct snap_file *f, uint32_t type);
const char *snap_sec_name(uint32_t type);

/* The raw fields of a header and a table entry, decoded without judging
 * them, for the inspector, which shows a damaged file as far as it can. */
struct snap_raw_header {
	uint32_t version, arch, header_len, nr;
	struct snap_host host;
	uint32_t crc_stored, crc_computed;
};
struct snap_raw_entry {
	uint32_t type, version, flags, crc;
	uint64_t off, len;
};
/* buf must hold SNAP_HEADER_LEN bytes. */
void snap_decode_header(const void *buf, struct snap_raw_header *h);
/* buf must hold SNAP_ENTRY_LEN bytes. */
void snap_decode_entry(const void *buf, struct snap_raw_entry *e);

#endif
