/* `kite snapshot inspect PATH` (inspect.h). A person looks at a snapshot
 * mostly when it failed to restore, so this shows a damaged file as far as
 * its bytes can be trusted to mean anything: the raw header even when its
 * checksum is wrong, every table entry inside the file with its payload's
 * checksum verdict, and only then snap_parse's verdict, which decides the
 * exit status. Nothing printed is used for anything else. */
#include "snapshot/inspect.h"
#include "snapshot/memfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "snapshot/crc32c.h"
#include "snapshot/snapfile.h"

static const char *verdict(bool ok)
{
	return ok ? "ok" : "MISMATCH";
}

static void print_host(FILE *out, const struct snap_host *h)
{
	fprintf(out, "host: KVM API version %u\n", h->kvm_api_version);
	if (h->tsc_khz)
		fprintf(out, "host: TSC %u kHz\n", h->tsc_khz);
	else
		fprintf(out, "host: TSC unknown\n");
	fprintf(out, "host: CPUID %u entries, checksum 0x%08x\n", h->cpuid_nent, h->cpuid_crc);
	fprintf(out, "host: MSR list %u indexes, checksum 0x%08x\n", h->msr_nent, h->msr_crc);
	for (int i = 0; i < SNAP_SZ_NR; i++)
		fprintf(out, "host: struct %s %u bytes\n", snap_host_struct_name(i), h->size[i]);
}

/* True when the table after the header can be read as version 1's. */
static bool print_header(const unsigned char *p, size_t len, FILE *out, uint32_t *nr)
{
	struct snap_raw_header h;

	if (len < 8 || memcmp(p, SNAP_MAGIC, 8) != 0) {
		fprintf(out, "magic: not \"%s\"\n", SNAP_MAGIC);
		return false;
	}
	if (len < SNAP_HEADER_LEN) {
		fprintf(out, "header: truncated (%zu of %d bytes)\n", len, SNAP_HEADER_LEN);
		return false;
	}
	snap_decode_header(p, &h);
	fprintf(out, "format version: %u\n", h.version);
	fprintf(out, "architecture: %u (%s)\n", h.arch,
		h.arch == SNAP_ARCH_X86_64 ? "x86-64" : "unknown");
	if (h.version != SNAP_FORMAT_VERSION || h.arch != SNAP_ARCH_X86_64)
		return false;
	fprintf(out, "header length: %u\n", h.header_len);
	fprintf(out, "header checksum: 0x%08x %s\n", h.crc_stored,
		verdict(h.crc_stored == h.crc_computed));
	print_host(out, &h.host);
	fprintf(out, "sections: %u\n", h.nr);
	*nr = h.nr;
	return h.header_len == SNAP_HEADER_LEN;
}

static void print_entry(const unsigned char *p, size_t len, int i, FILE *out)
{
	struct snap_raw_entry e;
	const char *state;

	snap_decode_entry(p + SNAP_HEADER_LEN + (size_t)i * SNAP_ENTRY_LEN, &e);
	if (e.off > len || e.len > len - e.off)
		state = "OUTSIDE THE FILE";
	else
		state = verdict(crc32c(0, p + e.off, e.len) == e.crc);
	fprintf(out, "  %2d %-8s type %u version %u %s offset %llu length %llu crc32c 0x%08x %s\n",
		i, snap_sec_name(e.type), e.type, e.version,
		e.flags & SNAP_SEC_REQUIRED ? "required" : "optional", (unsigned long long)e.off,
		(unsigned long long)e.len, e.crc, state);
}

static void print_table(const unsigned char *p, size_t len, uint32_t nr, FILE *out)
{
	size_t tlen;

	if (nr > SNAP_MAX_SECTIONS) {
		fprintf(out, "section table: not shown (%u sections, at most %d)\n", nr,
			SNAP_MAX_SECTIONS);
		return;
	}
	tlen = SNAP_TABLE_LEN(nr);
	if (len < SNAP_HEADER_LEN + tlen) {
		fprintf(out, "section table: truncated (ends at %zu, the file has %zu bytes)\n",
			SNAP_HEADER_LEN + tlen, len);
	} else {
		const unsigned char *c = p + SNAP_HEADER_LEN + tlen - 4;
		uint32_t stored =
		    c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;

		fprintf(out, "section table checksum: 0x%08x %s\n", stored,
			verdict(stored == crc32c(0, p + SNAP_HEADER_LEN, tlen - 4)));
	}
	/* Every whole entry the file holds, even past a truncation. */
	for (uint32_t i = 0; i < nr; i++) {
		if (SNAP_HEADER_LEN + (size_t)(i + 1) * SNAP_ENTRY_LEN > len)
			break;
		print_entry(p, len, i, out);
	}
}

static int show(const void *buf, size_t len, FILE *out, struct snap_file *f, char *err,
		size_t errlen)
{
	char why[256];
	uint32_t nr = 0;
	int rc;

	/* Past the limit nothing is read: the parser refuses it anyway. */
	if (len <= SNAP_FILE_MAX && print_header(buf, len, out, &nr))
		print_table(buf, len, nr, out);
	rc = snap_parse(buf, len, f, why, sizeof(why));
	if (rc) {
		fprintf(out, "verdict: damaged: %s\n", why);
		snprintf(err, errlen, "%s", why);
	} else {
		fprintf(out, "verdict: ok\n");
	}
	return rc;
}

int snap_inspect_buf(const void *buf, size_t len, FILE *out, char *err, size_t errlen)
{
	struct snap_file f;

	return show(buf, len, out, &f, err, errlen);
}

/* What a sound file's info and memory map sections say; a map that does
 * not parse is reported (a restore would refuse it) without failing. */
static void print_contents(const struct snap_file *f, FILE *out)
{
	const struct snap_section *info = snap_find(f, SNAP_SEC_INFO);
	const struct snap_section *mm = snap_find(f, SNAP_SEC_MEMMAP);
	struct memmap map;
	char why[256];

	if (info)
		fprintf(out, "info: %.*s\n", (int)MIN(info->len, 512u), (const char *)info->data);
	if (!mm)
		return;
	if (memmap_parse(mm->data, mm->len, &map, why, sizeof(why))) {
		fprintf(out, "memory map: refused: %s\n", why);
		return;
	}
	memmap_print(&map, out);
	memmap_free(&map);
}

/* The signature comparison with this host, which never fails the command:
 * a snapshot from elsewhere is not a damaged one. */
static void print_match(const struct snap_host *saved, FILE *out)
{
	struct snap_host here;
	char why[256];
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		fprintf(out, "this host: /dev/kvm: %s, not compared\n", strerror(errno));
		return;
	}
	/* The TSC is not measured here: it is a vCPU's to tell. */
	rc = snap_host_probe(fd, 0, &here);
	close(fd);
	if (rc)
		fprintf(out, "this host: probing /dev/kvm failed: %s\n", strerror(-rc));
	else if (snap_host_check(saved, &here, why, sizeof(why)))
		fprintf(out, "this host: does not match: %s\n", why);
	else
		fprintf(out, "this host: matches (TSC not compared)\n");
}

int snap_inspect(const char *path, FILE *out, char *err, size_t errlen)
{
	struct snap_file f;
	char why[256];
	size_t len;
	void *buf;
	int rc;

	rc = snap_read_all(path, &buf, &len, err, errlen);
	if (rc)
		return rc;
	fprintf(out, "file: %s (%zu bytes)\n", path, len);
	rc = show(buf, len, out, &f, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, why);
	} else {
		print_contents(&f, out);
		print_match(&f.host, out);
	}
	free(buf);
	return rc;
}

static void usage(FILE *to)
{
	fprintf(to, "usage: kite snapshot inspect PATH\n"
		    "       kite snapshot merge BASE_MEM DIFF_MEM [DIFF_SNAPSHOT]\n");
}

/* The Diff's map from its state file (merge's optional third argument). */
static int diff_map(const char *state, struct memmap *map, char *err, size_t errlen)
{
	const struct snap_section *mm;
	struct snap_file f;
	int rc = snap_read(state, &f, err, errlen);

	if (rc)
		return rc;
	mm = snap_find(&f, SNAP_SEC_MEMMAP);
	if (!mm) {
		snprintf(err, errlen, "%s: no memory map section", state);
		rc = -EINVAL;
	} else {
		rc = memmap_parse(mm->data, mm->len, map, err, errlen);
		if (!rc && !(map->flags & MEMMAP_DIFF)) {
			snprintf(err, errlen, "%s is a Full snapshot, not a Diff", state);
			memmap_free(map);
			rc = -EINVAL;
		}
	}
	snap_file_free(&f);
	return rc;
}

/* A Diff snapshot's memory file onto its base's, in place: by the Diff's
 * map when its state file is given, else by the file's data extents. */
static int merge(const char *base, const char *diff, const char *state)
{
	struct memfile_stats st = {0};
	struct memmap map;
	char err[512];
	int rc = state ? diff_map(state, &map, err, sizeof(err)) : 0;

	if (!rc) {
		rc = memfile_merge_map(base, diff, state ? &map : NULL, &st, err, sizeof(err));
		if (state)
			memmap_free(&map);
	}
	if (rc) {
		fprintf(stderr, "kite snapshot merge: %s\n", err);
		return error_blame_path(rc) == BLAME_HOST ? 1 : 2;
	}
	printf("merged %s onto %s: %llu KiB in %llu ms\n", diff, base,
	       (unsigned long long)(st.bytes_written >> 10), (unsigned long long)st.ms);
	return 0;
}
int snapshot_cmd(int argc, char **argv)
{
	char err[512];
	int rc;

	if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
		usage(stdout);
		return 0;
	}
	if ((argc == 3 || argc == 4) && !strcmp(argv[0], "merge"))
		return merge(argv[1], argv[2], argc == 4 ? argv[3] : NULL);
	if (argc != 2 || strcmp(argv[0], "inspect") != 0) {
		usage(stderr);
		return 2;
	}
	rc = snap_inspect(argv[1], stdout, err, sizeof(err));
	fflush(stdout);
	if (!rc)
		return 0;
	fprintf(stderr, "kite snapshot inspect: %s\n", err);
	return error_blame_path(rc) == BLAME_HOST ? 1 : 2;
}
