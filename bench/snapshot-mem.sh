#!/bin/sh
# Snapshot memory benchmark: full save of 256 MiB of guest RAM holding 64 MiB
# of data, then restores through the MAP_PRIVATE mapping: the time to touch
# every data page with and without a working-set prefetch first (the file in
# the page cache), a diff save and a merge. Builds a small C program against
# build/libkite.a; run from the repository root after `ninja -C build`.
# Usage: bench/snapshot-mem.sh [DIR] (default: a new directory under /tmp)
set -eu
BUILD=${BUILD:-build}
DIR=${1:-$(mktemp -d /tmp/kite-snapbench-XXXXXX)}
BIN="$DIR/snapshot-mem"
cat > "$DIR/snapshot-mem.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "snapshot/memfile.h"
#include "snapshot/workset.h"

#define RAM (256ull << 20)
#define REPS 5
static char err[256];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v)
{
	qsort(v, REPS, sizeof(*v), cmp);
	return v[REPS / 2];
}

#define CHECK(x) do { if (x) { fprintf(stderr, "%s: %s\n", #x, err); exit(1); } } while (0)

static void touch(const struct guest_mem *gm, uint64_t run);

/* Out of the page cache (clean pages, mapped by no one: no root needed). */
static void drop(const char *path)
{
	int fd = open(path, O_RDONLY);

	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/* One restore: map, maybe prefetch (wait: before the touch; beside: at the
 * same time), touch every data page; returns the touch's time (with the
 * prefetch time in *pre when it came first). */
static double restore(const char *mem, const struct memmap *map, const struct workset *ws,
		      uint64_t run, int mode, int cold, double *pre)
{
	struct workset_prefetch pf;
	struct guest_mem r;
	double t;

	if (cold)
		drop(mem);
	CHECK(memfile_map(&r, mem, map, err, sizeof(err)));
	t = now();
	if (mode) {
		CHECK(workset_prefetch_start(&r, ws, &pf));
		if (mode == 1) {
			workset_prefetch_wait(&pf);
			*pre = now() - t;
			t = now();
		}
	}
	touch(&r, run);
	t = now() - t;
	if (mode)
		workset_prefetch_join(&pf);
	gm_free(&r);
	return t;
}

/* Data: every 4th block of `run` bytes, so 64 MiB of the 256. */
static void touch(const struct guest_mem *gm, uint64_t run)
{
	volatile uint8_t sink = 0;

	for (uint64_t o = 0; o < RAM; o += 4 * run)
		for (uint64_t p = o; p < o + run; p += 4096)
			sink += gm->base[p];
	(void)sink;
}

static void layout(const char *dir, const char *name, uint64_t run)
{
	char mem[512], ws_path[512], diff[512];
	struct guest_mem gm, r;
	struct state_buf b;
	struct memmap map;
	struct memfile_stats st;
	struct workset ws;
	struct stat sb;
	double plain[REPS], pre[REPS], pretouch[REPS], conc[REPS], maps[REPS], t;
	double cplain[REPS], cpre[REPS], cpretouch[REPS], cconc[REPS];
	uint64_t *dirty = calloc(RAM / 4096 / 64, 8);

	snprintf(mem, sizeof(mem), "%s/%s.mem", dir, name);
	snprintf(ws_path, sizeof(ws_path), "%s/%s.ws", dir, name);
	snprintf(diff, sizeof(diff), "%s/%s.diff", dir, name);
	CHECK(gm_init(&gm, RAM));
	for (uint64_t o = 0; o < RAM; o += 4 * run)
		memset(gm.base + o, 0x5a, run);
	state_buf_init(&b);
	CHECK(memfile_save(&gm, mem, NULL, &b, &st, err, sizeof(err)));
	CHECK(memmap_parse(b.data, b.len, &map, err, sizeof(err)));
	stat(mem, &sb);
	printf("%s: full save of 256 MiB (64 MiB data, runs of %llu KiB): %llu ms, %u ranges, "
	       "file %llu MiB allocated\n", name, (unsigned long long)run >> 10,
	       (unsigned long long)st.ms, map.nr_ranges,
	       (unsigned long long)sb.st_blocks * 512 >> 20);
	/* 16 MiB dirty, then a diff save and its merge onto the full file. */
	for (uint64_t pg = 0; pg < RAM / 4096; pg += 16)
		dirty[pg / 64] |= 1ull << (pg % 64);
	b.len = 0;
	CHECK(memfile_save(&gm, diff, dirty, &b, &st, err, sizeof(err)));
	printf("%s: diff save of 16 MiB dirty: %llu ms;", name, (unsigned long long)st.ms);
	CHECK(memfile_merge(mem, diff, &st, err, sizeof(err)));
	printf(" merge: %llu ms\n", (unsigned long long)st.ms);
	gm_free(&gm);
	/* The working set of a run that touched every data page. */
	CHECK(memfile_map(&r, mem, &map, err, sizeof(err)));
	touch(&r, run);
	CHECK(workset_record(&r, ws_path, &st, err, sizeof(err)));
	gm_free(&r);
	CHECK(workset_load(ws_path, RAM, &ws, err, sizeof(err)));
	printf("%s: working set %u ranges, %llu MiB\n", name, ws.nr_ranges,
	       (unsigned long long)st.data_bytes >> 20);
	for (int i = 0; i < REPS; i++) {
		t = now();
		CHECK(memfile_map(&r, mem, &map, err, sizeof(err)));
		maps[i] = now() - t;
		gm_free(&r);
		plain[i] = restore(mem, &map, &ws, run, 0, 0, NULL);
		pretouch[i] = restore(mem, &map, &ws, run, 1, 0, &pre[i]);
		conc[i] = restore(mem, &map, &ws, run, 2, 0, NULL);
		cplain[i] = restore(mem, &map, &ws, run, 0, 1, NULL);
		cpretouch[i] = restore(mem, &map, &ws, run, 1, 1, &cpre[i]);
		cconc[i] = restore(mem, &map, &ws, run, 2, 1, NULL);
	}
	printf("%s: medians of %d: memfile_map %.3f ms\n", name, REPS, median(maps));
	printf("%s: touch all data pages, file in page cache: no prefetch %.1f ms; after a "
	       "prefetch %.1f ms (the prefetch %.1f ms); prefetch beside the touch %.1f ms\n",
	       name, median(plain), median(pretouch), median(pre), median(conc));
	printf("%s: touch all data pages, file not cached: no prefetch %.1f ms; after a "
	       "prefetch %.1f ms (the prefetch %.1f ms); prefetch beside the touch %.1f ms\n",
	       name, median(cplain), median(cpretouch), median(cpre), median(cconc));
	workset_free(&ws);
	memmap_free(&map);
	state_buf_free(&b);
	free(dirty);
}

int main(int argc, char **argv)
{
	layout(argc > 1 ? argv[1] : "/tmp", "pages", 4096);
	layout(argc > 1 ? argv[1] : "/tmp", "runs", 2u << 20);
	return 0;
}
EOF
cc -O2 -D_GNU_SOURCE -Isrc -I"$BUILD" -o "$BIN" "$DIR/snapshot-mem.c" "$BUILD/libkite.a" -pthread
"$BIN" "$DIR"
rm -f "$DIR"/*.mem "$DIR"/*.diff "$DIR"/*.ws
