/* The snapshot memory file and working sets: full and diff saves of memfd
 * RAM (sparse files, exact maps), restores through MAP_PRIVATE (same bytes,
 * copy-on-write, independent clones), merge, workset record and prefetch,
 * and every refusal of bad files. The map section's parser has its own
 * tests (test_memmap.c). No KVM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "leftover.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_mem.h"
#include "snapshot/memfile.h"
#include "snapshot/workset.h"

#define PG 4096u
#define RAM (16u << 20)

static char dir[64];
static char err[256];

/* A path in the test directory; eight live at a time. */
static bool leftover(const char *name)
{
	return leftover_in(dir, name);
}

static const char *at(const char *name)
{
	static char ring[8][128];
	static unsigned int next;
	char *p = ring[next++ % 8];

	snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
	return p;
}

static int setup(void **state UNUSED)
{
	snprintf(dir, sizeof(dir), "/tmp/kite-memfile-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state UNUSED)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Pages with data: 0, 5, 100..103, 200 (only its last byte), 4095 (the
 * last). Page 300 is written with zeros: memfd data, but a hole in the file. */
static void fill_pattern(struct guest_mem *gm)
{
	static const uint8_t zero[PG];
	uint8_t pat[PG];
	uint8_t one = 0x5a;

	for (unsigned int i = 0; i < PG; i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(gm_write(gm, 0, pat, PG), 0);
	assert_int_equal(gm_write(gm, 5 * PG, pat, PG), 0);
	for (unsigned int p = 100; p < 104; p++)
		assert_int_equal(gm_write(gm, p * PG, pat, PG), 0);
	assert_int_equal(gm_write(gm, 201 * PG - 1, &one, 1), 0);
	assert_int_equal(gm_write(gm, 300 * PG, zero, PG), 0);
	assert_int_equal(gm_write(gm, RAM - PG, pat, PG), 0);
}

static void save_full(struct guest_mem *gm, const char *path, struct memmap *map,
		      struct memfile_stats *st)
{
	struct state_buf b;

	state_buf_init(&b);
	assert_int_equal(memfile_save(gm, path, NULL, &b, st, err, sizeof(err)), 0);
	assert_int_equal(memmap_parse(b.data, b.len, map, err, sizeof(err)), 0);
	state_buf_free(&b);
}

static void full_save_is_sparse(void **state UNUSED)
{
	static const struct memmap_range want[] = {
	    {0, PG, 1},
	    {PG, 4 * PG, 0},
	    {5 * PG, PG, 1},
	    {6 * PG, 94 * PG, 0},
	    {100 * PG, 4 * PG, 1},
	    {104 * PG, 96 * PG, 0},
	    {200 * PG, PG, 1},
	    {201 * PG, RAM - 202 * PG, 0},
	    {RAM - PG, PG, 1},
	};
	struct guest_mem gm;
	struct memfile_stats st;
	struct memmap map;
	struct stat sb;
	const char *path;
	int fd;

	path = at("full.mem");
	assert_int_equal(gm_init(&gm, RAM), 0);
	fill_pattern(&gm);
	save_full(&gm, path, &map, &st);
	assert_int_equal(map.ram_size, RAM);
	assert_int_equal(map.flags, 0);
	assert_int_equal(map.nr_ranges, ARRAY_SIZE(want));
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(map.ranges[i].offset, want[i].offset);
		assert_int_equal(map.ranges[i].length, want[i].length);
		assert_int_equal(map.ranges[i].kind, want[i].kind);
	}
	assert_int_equal(st.data_bytes, 8 * PG);
	assert_int_equal(st.zero_bytes, RAM - 8 * PG);
	assert_int_equal(st.bytes_written, 8 * PG);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, RAM);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_true((uint64_t)sb.st_blocks * 512 <= 64 * PG);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, PG, SEEK_HOLE), PG);
	assert_int_equal(lseek(fd, 300 * PG, SEEK_DATA), RAM - PG);
	assert_int_equal(lseek(fd, 0, SEEK_DATA), 0);
	close(fd);
	assert_false(leftover("full.mem"));
	memmap_free(&map);
	gm_free(&gm);
}

/* Whether addr lies in a mapping of no file (/proc/self/maps inode 0). */
static int anonymous_at(const void *addr)
{
	char line[512];
	unsigned long lo, hi, ino;
	int ret = -1;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3 &&
		    (uintptr_t)addr >= lo && (uintptr_t)addr < hi)
			ret = ino == 0;
	fclose(f);
	return ret;
}

static void map_restores_cow(void **state UNUSED)
{
	struct guest_mem gm, a, b;
	struct memmap map;
	const char *path;
	uint8_t byte = 0, x = 0xee;
	int fd;

	path = at("cow.mem");
	assert_int_equal(gm_init(&gm, RAM), 0);
	fill_pattern(&gm);
	save_full(&gm, path, &map, NULL);
	assert_int_equal(memfile_map(&a, path, &map, err, sizeof(err)), 0);
	assert_int_equal(memfile_map(&b, path, &map, err, sizeof(err)), 0);
	assert_true(a.file_backed && a.fd >= 0);
	assert_int_equal(a.size, RAM);
	assert_memory_equal(a.base, gm.base, RAM);
	/* Big holes are anonymous memory, data is the file. */
	assert_int_equal(anonymous_at(a.base + 10 * PG), 1);
	assert_int_equal(anonymous_at(a.base + 100 * PG), 0);
	/* Writes are private: the file and the other clone keep their bytes. */
	assert_int_equal(gm_write(&a, 0, &x, 1), 0);
	assert_int_equal(gm_write(&a, 50 * PG, &x, 1), 0);
	assert_int_equal(b.base[0], gm.base[0]);
	assert_int_equal(b.base[50 * PG], 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, &byte, 1, 0), 1);
	assert_int_equal(byte, gm.base[0]);
	close(fd);
	gm_free(&a);
	gm_free(&b);
	memmap_free(&map);
	gm_free(&gm);
}

/* Saving a restored VM over the file it was restored from: the save scans
 * a MAP_PRIVATE mapping, and the rename leaves the mapped inode alone. */
static void save_over_own_file(void **state UNUSED)
{
	struct guest_mem gm, r, again;
	struct memmap map, map2;
	struct memfile_stats st;
	const char *path;
	uint8_t x = 0x77, *copy = malloc(RAM);

	path = at("own.mem");
	assert_int_equal(gm_init(&gm, RAM), 0);
	fill_pattern(&gm);
	save_full(&gm, path, &map, NULL);
	assert_int_equal(memfile_map(&r, path, &map, err, sizeof(err)), 0);
	assert_int_equal(gm_write(&r, 7 * PG + 3, &x, 1), 0);
	assert_int_equal(gm_write(&r, 5 * PG, &(uint8_t){0}, 1), 0);
	memcpy(copy, r.base, RAM);
	save_full(&r, path, &map2, &st);
	assert_int_equal(st.data_bytes, 9 * PG);
	assert_memory_equal(r.base, copy, RAM);
	assert_int_equal(memfile_map(&again, path, &map2, err, sizeof(err)), 0);
	assert_memory_equal(again.base, copy, RAM);
	gm_free(&again);
	gm_free(&r);
	memmap_free(&map);
	memmap_free(&map2);
	gm_free(&gm);
	free(copy);
}

static void diff_then_merge(void **state UNUSED)
{
	struct guest_mem gm, r;
	struct memmap full, diff;
	struct memfile_stats st;
	struct state_buf b;
	uint64_t dirty[RAM / PG / 64] = {0}, data, zero, base;
	const char *fpath, *dpath;
	uint8_t pat[PG];
	struct stat sb;

	fpath = at("base.mem");
	dpath = at("diff.mem");
	assert_int_equal(gm_init(&gm, RAM), 0);
	fill_pattern(&gm);
	save_full(&gm, fpath, &full, NULL);
	/* Page 5 becomes zero, 64..127 change (a whole bitmap word), 999 new. */
	memset(pat, 0xab, sizeof(pat));
	memset(gm.base + 5 * PG, 0, PG);
	for (unsigned int p = 64; p < 128; p++)
		assert_int_equal(gm_write(&gm, p * PG, pat, PG), 0);
	assert_int_equal(gm_write(&gm, 999 * PG, pat, 16), 0);
	dirty[0] = 1ull << 5;
	dirty[1] = UINT64_MAX;
	dirty[999 / 64] = 1ull << (999 % 64);
	state_buf_init(&b);
	assert_int_equal(memfile_save(&gm, dpath, dirty, &b, &st, err, sizeof(err)), 0);
	assert_int_equal(memmap_parse(b.data, b.len, &diff, err, sizeof(err)), 0);
	state_buf_free(&b);
	assert_int_equal(diff.flags, MEMMAP_DIFF);
	assert_int_equal(diff.nr_ranges, 7);
	memmap_totals(&diff, &data, &zero, &base);
	assert_int_equal(data, 66 * PG);
	assert_int_equal(zero, 0);
	assert_int_equal(base, RAM - 66 * PG);
	assert_int_equal(st.bytes_written, 66 * PG);
	assert_int_equal(diff.ranges[1].offset, 5 * PG);
	assert_int_equal(diff.ranges[1].kind, MEMMAP_DATA);
	assert_int_equal(stat(dpath, &sb), 0);
	assert_true((uint64_t)sb.st_blocks * 512 <= 80 * PG);
	assert_int_equal(memfile_merge(fpath, dpath, &st, err, sizeof(err)), 0);
	assert_int_equal(st.bytes_written, 66 * PG);
	assert_int_equal(memfile_map(&r, fpath, &diff, err, sizeof(err)), 0);
	assert_memory_equal(r.base, gm.base, RAM);
	gm_free(&r);
	memmap_free(&full);
	memmap_free(&diff);
	gm_free(&gm);
}

/* Pages D Z D Z: four ranges would reach the cap of one per page, and
 * the saver cannot know the fourth is the last, so from the cap on RAM is
 * written as DATA: the last zero page too. The bytes are right either way. */
static void range_cap_spills_to_data(void **state UNUSED)
{
	struct guest_mem gm, r;
	struct memfile_stats st;
	struct memmap map;

	assert_int_equal(gm_init(&gm, 4 * PG), 0);
	gm.base[0] = gm.base[2 * PG + 5] = 9;
	save_full(&gm, at("cap.mem"), &map, &st);
	assert_int_equal(map.nr_ranges, 3);
	assert_int_equal(map.ranges[2].kind, MEMMAP_DATA);
	assert_int_equal(map.ranges[2].length, 2 * PG);
	assert_int_equal(st.data_bytes, 3 * PG);
	assert_int_equal(memfile_map(&r, at("cap.mem"), &map, err, sizeof(err)), 0);
	assert_memory_equal(r.base, gm.base, 4 * PG);
	gm_free(&r);
	memmap_free(&map);
	gm_free(&gm);
}

/* Base on tmpfs, diff on /tmp's filesystem: copy_file_range refuses to
 * cross them, so the read/write fallback does the merge. */
static void merge_across_filesystems(void **state UNUSED)
{
	char base[64];
	const char *dpath;
	uint8_t pat[PG], got[PG];
	int fd;

	dpath = at("x.diff");
	snprintf(base, sizeof(base), "/dev/shm/kite-memfile-%d", (int)getpid());
	memset(pat, 0x3c, sizeof(pat));
	fd = open(dpath, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_int_equal(ftruncate(fd, 64 * PG), 0);
	assert_int_equal(pwrite(fd, pat, PG, 9 * PG), PG);
	close(fd);
	fd = open(base, O_CREAT | O_TRUNC | O_RDWR, 0600);
	if (fd < 0)
		skip();
	assert_int_equal(ftruncate(fd, 64 * PG), 0);
	assert_int_equal(memfile_merge(base, dpath, NULL, err, sizeof(err)), 0);
	assert_int_equal(pread(fd, got, PG, 9 * PG), PG);
	assert_memory_equal(got, pat, PG);
	assert_int_equal(pread(fd, got, PG, 8 * PG), PG);
	assert_int_equal(got[0] | got[PG - 1], 0);
	close(fd);
	unlink(base);
}

static void make_file(const char *path, uint64_t size)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

static void refusals(void **state UNUSED)
{
	struct memmap_range one = {0, RAM, MEMMAP_DATA};
	struct memmap map = {RAM, PG, 0, 1, &one};
	struct guest_mem gm;
	struct state_buf b;
	const char *small, *big, *d;

	small = at("small.mem");
	big = at("big.mem");
	d = at("adir");
	make_file(small, RAM - PG);
	make_file(big, RAM);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(memfile_map(&gm, small, &map, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is 16773120 bytes, the snapshot's RAM is 16777216 bytes"));
	assert_null(gm.base);
	assert_int_equal(memfile_map(&gm, d, &map, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(memfile_map(&gm, at("missing"), &map, err, sizeof(err)), -ENOENT);
	one.length = PG; /* a map that does not tile its RAM */
	assert_int_equal(memfile_map(&gm, big, &map, err, sizeof(err)), -EINVAL);
	assert_int_equal(memfile_merge(big, small, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "differ in size"));
	assert_int_equal(memfile_merge(big, big, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "same file"));
	assert_int_equal(memfile_merge(d, big, NULL, err, sizeof(err)), -EISDIR);
	assert_int_equal(memfile_merge(big, d, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(memfile_merge(big, at("missing"), NULL, err, sizeof(err)), -ENOENT);
	/* A save that fails at the rename leaves the target and no tmp. */
	assert_int_equal(gm_init(&gm, RAM), 0);
	fill_pattern(&gm);
	state_buf_init(&b);
	assert_true(memfile_save(&gm, d, NULL, &b, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "rename"));
	assert_int_equal(b.len, 0);
	assert_false(leftover("adir"));
	assert_int_equal(memfile_save(&gm, at("nodir/x.mem"), NULL, &b, NULL, err, sizeof(err)),
			 -ENOENT);
	state_buf_free(&b);
	gm_free(&gm);
	assert_int_equal(gm_init_file(&gm, 0, 0), -EINVAL);
	assert_int_equal(gm_init_file(&gm, PG, -1), -EINVAL);
	assert_int_equal(gm_init_file(&gm, PG + 1, 0), -EINVAL);
}

/* Touched pages 3..5, 100 and the last are the working set: nothing else,
 * nothing outside RAM. */
static void workset_records_touched(void **state UNUSED)
{
	struct guest_mem gm;
	struct workset ws;
	struct memfile_stats st;
	const char *path;

	path = at("ws");
	assert_int_equal(gm_init(&gm, RAM), 0);
	for (unsigned int p = 3; p < 6; p++)
		gm.base[p * PG + 9] = 1;
	gm.base[100 * PG] = 1;
	gm.base[RAM - 1] = 1;
	assert_int_equal(workset_record(&gm, path, &st, err, sizeof(err)), 0);
	assert_int_equal(st.data_bytes, 5 * PG);
	assert_int_equal(st.bytes_written, WORKSET_HEADER_BYTES + 3 * WORKSET_RANGE_BYTES);
	assert_int_equal(workset_load(path, RAM, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws.nr_ranges, 3);
	assert_int_equal(ws.ranges[0].offset, 3 * PG);
	assert_int_equal(ws.ranges[0].length, 3 * PG);
	assert_int_equal(ws.ranges[1].offset, 100 * PG);
	assert_int_equal(ws.ranges[1].length, PG);
	assert_int_equal(ws.ranges[2].offset, RAM - PG);
	assert_int_equal(ws.ranges[2].length, PG);
	workset_free(&ws);
	assert_int_equal(workset_load(path, RAM * 2, &ws, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "recorded for 16777216 bytes"));
	gm_free(&gm);
}

static bool covered(const struct workset *ws, const struct workset_range *g)
{
	for (uint32_t i = 0; i < ws->nr_ranges; i++)
		if (ws->ranges[i].offset <= g->offset &&
		    ws->ranges[i].offset + ws->ranges[i].length >= g->offset + g->length)
			return true;
	return false;
}

static bool near(const struct workset *ws, const struct workset_range *g, uint64_t slack)
{
	for (uint32_t i = 0; i < ws->nr_ranges; i++)
		if (g->offset + slack >= ws->ranges[i].offset &&
		    g->offset + g->length <= ws->ranges[i].offset + ws->ranges[i].length + slack)
			return true;
	return false;
}

/* Prefetch into a restored VM maps the ranges (seen in a new record) and
 * only those; a join before gm_free is required and enough. */
static void workset_prefetch_maps_ranges(void **state UNUSED)
{
	struct guest_mem gm, r;
	struct memmap map;
	struct workset ws, after;
	struct workset_prefetch pf, none = {.started = false};
	const char *mpath, *wpath, *apath;
	uint8_t pat[64];

	mpath = at("pf.mem");
	wpath = at("pf.ws");
	apath = at("pf-after.ws");
	memset(pat, 0x11, sizeof(pat));
	assert_int_equal(gm_init(&gm, RAM), 0);
	for (unsigned int p = 0; p < RAM / PG; p += 3)
		assert_int_equal(gm_write(&gm, (uint64_t)p * PG, pat, sizeof(pat)), 0);
	save_full(&gm, mpath, &map, NULL);
	gm_free(&gm);
	assert_int_equal(gm_init(&gm, RAM), 0);
	memset(gm.base + 40 * PG, 1, 8 * PG);
	memset(gm.base + (4u << 20), 1, 3u << 20); /* crosses prefetch chunks */
	assert_int_equal(workset_record(&gm, wpath, NULL, err, sizeof(err)), 0);
	gm_free(&gm);
	assert_int_equal(workset_load(wpath, RAM, &ws, err, sizeof(err)), 0);
	assert_int_equal(memfile_map(&r, mpath, &map, err, sizeof(err)), 0);
	assert_int_equal(workset_prefetch_start(&r, &ws, &pf), 0);
	workset_prefetch_wait(&pf);
	assert_int_equal(pf.err, 0);
	assert_int_equal(pf.bytes, 8 * PG + (3u << 20));
	assert_int_equal(workset_record(&r, apath, NULL, err, sizeof(err)), 0);
	assert_int_equal(workset_load(apath, RAM, &after, err, sizeof(err)), 0);
	/* Read faults on a file also map cached pages around them (64 KiB
	 * fault-around windows): each range is covered, nothing is far away. */
	for (int i = 0; i < 2; i++)
		assert_true(covered(&after, &ws.ranges[i]));
	for (uint32_t i = 0; i < after.nr_ranges; i++)
		assert_true(near(&ws, &after.ranges[i], 64u << 10));
	workset_prefetch_join(&none);
	/* Stopped at once: whatever it did, it is over and nothing failed. */
	assert_int_equal(workset_prefetch_start(&r, &ws, &pf), 0);
	workset_prefetch_join(&pf);
	assert_false(pf.started);
	assert_true(pf.bytes <= 8 * PG + (3u << 20) && pf.err == 0);
	r.size -= PG;
	assert_int_equal(workset_prefetch_start(&r, &ws, &pf), -EINVAL);
	r.size += PG;
	workset_free(&after);
	workset_free(&ws);
	gm_free(&r);
	memmap_free(&map);
}

static void put_ws(struct state_buf *b, const char *magic, uint32_t ver, uint64_t ram, uint32_t nr,
		   int n, const uint64_t *r)
{
	state_buf_init(b);
	state_put_bytes(b, magic, 8);
	state_put_u32(b, ver);
	state_put_u64(b, ram);
	state_put_u32(b, nr);
	for (int i = 0; i < 2 * n; i++)
		state_put_u64(b, r[i]);
}

static void bad_worksets_refused(void **state UNUSED)
{
	static const struct {
		const char *magic;
		uint32_t ver, nr;
		uint64_t ram;
		int n;
		uint64_t r[4];
	} bad[] = {
	    {"KITEWSEX", 1, 1, RAM, 1, {0, PG}},
	    {"KITEWSET", 2, 1, RAM, 1, {0, PG}},
	    {"KITEWSET", 1, 1, 2 * RAM, 1, {0, PG}},
	    {"KITEWSET", 1, 2, RAM, 1, {0, PG}},
	    {"KITEWSET", 1, RAM / PG + 1, RAM, 1, {0, PG}},
	    {"KITEWSET", 1, 2, RAM, 2, {2 * PG, PG, 0, PG}},
	    {"KITEWSET", 1, 2, RAM, 2, {0, 2 * PG, PG, PG}},
	    {"KITEWSET", 1, 1, RAM, 1, {100, PG}},
	    {"KITEWSET", 1, 1, RAM, 1, {0, 100}},
	    {"KITEWSET", 1, 1, RAM, 1, {0, 0}},
	    {"KITEWSET", 1, 1, RAM, 1, {RAM, PG}},
	    {"KITEWSET", 1, 1, RAM, 1, {PG, UINT64_MAX - PG + 1}},
	};
	struct state_buf b;
	struct workset ws;
	const char *path;
	int fd;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		put_ws(&b, bad[i].magic, bad[i].ver, bad[i].ram, bad[i].nr, bad[i].n, bad[i].r);
		err[0] = 0;
		assert_int_equal(workset_parse(b.data, b.len, RAM, &ws, err, sizeof(err)), -EINVAL);
		assert_true(err[0] && !ws.ranges);
		for (size_t len = 0; len < b.len; len++)
			assert_int_equal(workset_parse(b.data, len, RAM, &ws, err, sizeof(err)),
					 -EINVAL);
		state_buf_free(&b);
	}
	put_ws(&b, "KITEWSET", 1, RAM, 0, 0, NULL);
	assert_int_equal(workset_parse(b.data, b.len, RAM, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws.nr_ranges, 0);
	state_buf_free(&b);
	/* Not regular, missing, larger than any working set can be. */
	assert_int_equal(workset_load(dir, RAM, &ws, err, sizeof(err)), -EINVAL);
	path = at("nope.ws");
	assert_int_equal(workset_load(path, RAM, &ws, err, sizeof(err)), -ENOENT);
	path = at("huge.ws");
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	assert_int_equal(ftruncate(fd, 65ll << 20), 0);
	close(fd);
	assert_int_equal(workset_load(path, RAM, &ws, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(full_save_is_sparse),
	    cmocka_unit_test(map_restores_cow),
	    cmocka_unit_test(save_over_own_file),
	    cmocka_unit_test(diff_then_merge),
	    cmocka_unit_test(range_cap_spills_to_data),
	    cmocka_unit_test(merge_across_filesystems),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(workset_records_touched),
	    cmocka_unit_test(workset_prefetch_maps_ranges),
	    cmocka_unit_test(bad_worksets_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
