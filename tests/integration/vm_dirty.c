/* Whole-VM test of dirty-page tracking (vm_dirty.c), the base of Diff
 * snapshots. A CPL-3 guest (dirty_user.s) writes every other page of
 * [0x300000, 0x320000) once and then counts at 0x200000. Checked: without
 * track_dirty_pages a collect is refused with the message; before start a
 * collect returns every page (nothing saved yet); after a run and a pause,
 * the pages the guest wrote and a page kite marked are in the bitmap and
 * the pages it did not write are not; the next collect holds only what ran
 * since (the counter), and after a reset with nothing run, nothing. A
 * collect while running is refused. A machine with RAM above 4 GiB gets
 * each slot's log at its RAM offsets. Exit 77 (skip) without /dev/kvm or
 * when this host's KVM cannot log dirty pages (said on stdout). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hostio.h"
#include "vm.h"
#include "vm_dirty.h"
#include "vm_test.h"

#define STRIPE 0x300u /* first page the guest writes; 16 of them, 2 apart */
#define COUNTER (VM_TEST_COUNTER_GPA / 4096)
#define KITE_PAGE 0x700u /* marked by the test, as a device would */

static int is_set(const uint64_t *bm, uint64_t page)
{
	return (int)(bm[page / 64] >> (page % 64) & 1);
}

static uint64_t nr_set(const uint64_t *bm, size_t n)
{
	uint64_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += (uint64_t)__builtin_popcountll(bm[i]);
	return k;
}

/* The set pages, for the log (at most 24). */
static void show(const char *what, const uint64_t *bm, size_t n)
{
	int k = 0;

	printf("  %s: %llu pages:", what, (unsigned long long)nr_set(bm, n));
	for (uint64_t p = 0; p < n * 64 && k < 24; p++)
		if (is_set(bm, p))
			printf(" %#llx", (unsigned long long)p), k++;
	printf("%s\n", k == 24 ? " ..." : "");
}

/* The stripe's written pages all set (want 1) or all clear (want 0); the
 * pages between them always clear. */
static int stripe_is(const uint64_t *bm, int want)
{
	for (unsigned int i = 0; i < 16; i++)
		if (is_set(bm, STRIPE + 2 * i) != want || is_set(bm, STRIPE + 2 * i + 1))
			return 0;
	return 1;
}

/* Nothing set in [from, to) but `except`. */
static int clean(const uint64_t *bm, uint64_t from, uint64_t to, uint64_t except)
{
	for (uint64_t p = from; p < to; p++)
		if (p != except && is_set(bm, p))
			return 0;
	return 1;
}

static int skip(const char *why, const char *msg)
{
	printf("SKIP: this host's KVM cannot log dirty pages (%s: %s)\n", why, msg);
	return 77;
}

static void untracked(struct vm_config *cfg, struct vm_host *host, struct evloop *loop,
		      const struct timespec *t0)
{
	struct error e = {0};
	struct vm vm;
	uint64_t *bm = (uint64_t *)1;
	size_t n = 1;
	char err[256] = "";
	int rc;

	cfg->track_dirty_pages = 0;
	if (vm_create(&vm, cfg, host, loop, t0, &e)) {
		CHECK(0, "machine without tracking: %s", e.msg);
		return;
	}
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	CHECK(rc == -ENOTSUP && !bm && !n && strstr(err, "track_dirty_pages"),
	      "without track_dirty_pages a collect is refused (%d: %s)", rc, err);
	CHECK(vm_dirty_reset(&vm) == -ENOTSUP, "and so is a reset");
	vm_destroy(&vm);
}

/* Two memory slots: 3 GiB below the hole, 4 MiB above 4 GiB. The guest
 * writes the last page below the hole and the second page above 4 GiB
 * (RAM offsets 3 GiB - 4 KiB and 3 GiB + 4 KiB): KVM's log of slot 1 must
 * land at its RAM offset, not its guest address. */
static void across_hole(const struct vm_config *base, struct vm_host *host,
			struct evloop *loop, const struct timespec *t0)
{
	struct vm_config cfg = *base;
	uint64_t low = GM_MMIO_HOLE_START / 4096, *bm;
	struct timespec a, b;
	struct error e = {0};
	char err[256] = "";
	struct vm vm;
	pthread_t th;
	size_t n;
	int rc;

	cfg.memory = GM_MMIO_HOLE_START + (4u << 20);
	cfg.regs[GPR_RSI] = GM_HIGH_START + 4096;
	cfg.regs[GPR_R8] = GM_MMIO_HOLE_START - 4096;
	cfg.regs_set |= 1u << GPR_RSI | 1u << GPR_R8;
	if (vm_create(&vm, &cfg, host, loop, t0, &e)) {
		CHECK(0, "a 3 GiB + 4 MiB machine: %s", e.msg);
		return;
	}
	CHECK(vm.gm.nr_regions == 2, "the machine has RAM on both sides of the hole");
	rc = vm_dirty_reset(&vm);
	CHECK(rc == 0, "reset before start: %d", rc);
	pthread_create(&th, NULL, runner, &vm);
	CHECK(moves(&vm, 1000), "the guest counts (%llu)", (unsigned long long)count(&vm));
	rc = vm_pause(&vm);
	CHECK(rc == 0, "vm_pause: %d", rc);
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(rc == 0, "collect of %llu MiB in %.2f ms (%d%s%s)",
	      (unsigned long long)(cfg.memory >> 20),
	      (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6, rc,
	      rc ? ": " : "", rc ? err : "");
	if (!rc) {
		show("across the hole", bm, n);
		CHECK(is_set(bm, low - 1) && !is_set(bm, low) && is_set(bm, low + 1) &&
		      !is_set(bm, low + 2) && stripe_is(bm, 1) && is_set(bm, COUNTER),
		      "the pages written either side of the hole are dirty at their RAM offsets "
		      "(%#llx, %#llx), their neighbours not", (unsigned long long)(low - 1),
		      (unsigned long long)(low + 1));
		free(bm);
	}
	vm_resume(&vm);
	vm_request_stop(&vm, VM_STOP_USER, 0);
	pthread_join(th, NULL);
	vm_destroy(&vm);
}

int main(void)
{
	const char *image = getenv("DIRTY_GUEST");
	char err[512] = "";
	struct vm_config cfg;
	enum config_cmd cmd;
	struct timespec t0;
	struct vm_host host;
	struct evloop loop;
	struct error e = {0};
	struct hostio *io;
	struct vm vm;
	pthread_t th;
	uint64_t *bm, ram_pages, seen;
	size_t n;
	int rc;

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm is not usable: whole-VM tests need KVM\n");
		return 77;
	}
	char *args[] = {"kite", "run", "--image", (char *)(image ? image : "dirty_user.bin"),
			"--mode", "long-user", "--load", "0x100000", "--cpus", "1", "--memory",
			"8M", "--debug-exit", NULL};
	if (config_parse(13, args, &cfg, &cmd, err, sizeof(err))) {
		printf("FAIL: config: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hostio_open(&io, &(struct hostio_opts){0}, err, sizeof(err)) || ev_init(&loop) ||
	    hostio_attach(io, &loop, &(struct vm_stopper){0}, err, sizeof(err)) ||
	    vm_host_open(&host, &cfg, io, &e)) {
		printf("FAIL: set-up: %s%s\n", err, e.msg);
		return 1;
	}
	untracked(&cfg, &host, &loop, &t0);

	cfg.track_dirty_pages = 1;
	if (vm_create(&vm, &cfg, &host, &loop, &t0, &e)) {
		if (strstr(e.msg, "KVM_SET_USER_MEMORY_REGION"))
			return skip("KVM_MEM_LOG_DIRTY_PAGES refused", e.msg);
		printf("FAIL: machine with tracking: %s\n", e.msg);
		return 1;
	}
	ram_pages = vm.gm.size / 4096;
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	if (rc && strstr(err, "KVM_GET_DIRTY_LOG"))
		return skip("KVM_GET_DIRTY_LOG failed", err);
	CHECK(rc == 0 && n == (ram_pages + 63) / 64 && nr_set(bm, n) == ram_pages,
	      "before start, a collect returns every page: nothing was saved yet (%d, %llu of "
	      "%llu)", rc, rc ? 0ull : (unsigned long long)nr_set(bm, n),
	      (unsigned long long)ram_pages);
	free(bm);

	pthread_create(&th, NULL, runner, &vm);
	CHECK(moves(&vm, 1000), "the guest counts (%llu)", (unsigned long long)count(&vm));
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	CHECK(rc == -EBUSY && !bm, "a collect while running is refused (%s)", err);
	rc = vm_pause(&vm);
	CHECK(rc == 0, "vm_pause: %d", rc);
	gm_mark_dirty(&vm.gm, KITE_PAGE * 4096 + 100, 8);

	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	if (rc && strstr(err, "KVM_GET_DIRTY_LOG"))
		return skip("KVM_GET_DIRTY_LOG failed", err);
	CHECK(rc == 0, "collect while paused (%d%s%s)", rc, rc ? ": " : "", rc ? err : "");
	if (rc)
		return 1;
	show("first collect", bm, n);
	CHECK(stripe_is(bm, 1), "the 16 pages the guest wrote are dirty, the 16 between them not");
	CHECK(is_set(bm, COUNTER), "the counter's page is dirty");
	CHECK(is_set(bm, KITE_PAGE), "the page kite marked is dirty");
	CHECK(!is_set(bm, 0x100) && clean(bm, 0x400, ram_pages, KITE_PAGE),
	      "the code page and every page above 4 MiB but kite's are clean");
	free(bm);

	seen = count(&vm);
	vm_resume(&vm);
	CHECK(moves(&vm, seen + 1000), "the guest counts on after resume");
	rc = vm_pause(&vm);
	CHECK(rc == 0, "vm_pause again: %d", rc);
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	CHECK(rc == 0, "second collect (%d%s%s)", rc, rc ? ": " : "", rc ? err : "");
	if (rc)
		return 1;
	show("second collect", bm, n);
	seen = nr_set(bm, n);
	CHECK(is_set(bm, COUNTER) && stripe_is(bm, 0) && !is_set(bm, KITE_PAGE) && seen <= 8,
	      "the second holds only what ran since: the counter, not the stripe nor kite's page "
	      "(%llu pages)", (unsigned long long)seen);
	free(bm);

	rc = vm_dirty_reset(&vm);
	CHECK(rc == 0, "reset while paused: %d", rc);
	rc = vm_dirty_collect(&vm, &bm, &n, err, sizeof(err));
	CHECK(rc == 0 && nr_set(bm, n) == 0, "after a reset with nothing run, nothing is dirty "
	      "(%llu)", rc ? 0ull : (unsigned long long)nr_set(bm, n));
	free(bm);

	vm_resume(&vm);
	vm_request_stop(&vm, VM_STOP_USER, 0);
	pthread_join(th, NULL);
	vm_destroy(&vm);
	across_hole(&cfg, &host, &loop, &t0);
	vm_host_close(&host);
	hostio_detach(io);
	ev_free(&loop);
	hostio_close(io);
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
