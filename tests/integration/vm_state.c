/* Whole-VM test of the KVM half of a snapshot (vm_save_cpu_state,
 * vm_restore_cpu_state): a CPL-3 guest on one vCPU counts in guest RAM; it
 * is paused, its VM and vCPU sections and its RAM are saved, the machine is
 * destroyed, a second machine is built from the same config in the same
 * process, RAM is copied in and the sections restored before start. The
 * guest must continue where it was: the same registers, a count that goes
 * on from the saved value. Every truncation of the saved blob and a flipped
 * byte in its size fields must be refused with a message, leaving the
 * second machine unstarted and unrestored. Exit 77 (skip) without /dev/kvm. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hostio.h"
#include "vm.h"
#include "vm_test.h"

#define ENTRY 0x100000ull

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Offset just past one framed section (u8 name length, name, u32 version,
 * u32 payload length, payload) at off. */
static size_t skip_frame(const uint8_t *d, size_t off)
{
	size_t nl = d[off];

	return off + 1 + nl + 4 + 4 + rd32(d + off + 1 + nl + 4);
}

static int untouched(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_get_state(&vm->vcpus[i]) != VCPU_CREATED)
			return 0;
	return !vm->cpu_restored && vm->nr_started == 0;
}

/* A blob with one byte changed must be refused. */
static void refuse_flip(struct vm *vm, const uint8_t *blob, size_t len, size_t off,
			const char *what)
{
	uint8_t *c = malloc(len);
	char err[256] = "";
	int rc;

	memcpy(c, blob, len);
	c[off] ^= 0x40;
	rc = vm_restore_cpu_state(vm, c, len, err, sizeof(err));
	CHECK(rc != 0 && err[0] && untouched(vm), "a flipped byte in the %s is refused (%s)", what,
	      err);
	free(c);
}

int main(int argc, char **argv)
{
	const char *guest_dir = getenv("GUEST_DIR");
	char image[4096], err[512];
	struct vm_config cfg;
	enum config_cmd cmd;
	struct timespec t0;
	struct vm_host host;
	struct evloop loop;
	struct error e = {0};
	struct hostio *io;
	struct vm vm, vm2;
	struct kvm_regs regs1, regs2;
	struct state_buf sb;
	pthread_t th;
	uint64_t saved, after;
	uint8_t *ram;
	size_t ram_size, vcpu_off;
	int rc, bad;

	(void)argc;
	(void)argv;
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm is not usable: whole-VM tests need KVM\n");
		return 77;
	}
	snprintf(image, sizeof(image), "%s/count_user.bin", guest_dir ? guest_dir : ".");
	char *args[] = {"kite", "run", "--image", image, "--mode", "long-user", "--load",
			"0x100000", "--cpus", "1", "--memory", "8M", "--debug-exit", NULL};
	if (config_parse(13, args, &cfg, &cmd, err, sizeof(err))) {
		printf("FAIL: config: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (hostio_open(&io, &(struct hostio_opts){0}, err, sizeof(err)) || ev_init(&loop) ||
	    hostio_attach(io, &loop, &(struct vm_stopper){0}, err, sizeof(err)) ||
	    vm_host_open(&host, &cfg, io, &e) || vm_create(&vm, &cfg, &host, &loop, &t0, &e)) {
		printf("FAIL: set-up: %s%s\n", err, e.msg);
		return 1;
	}
	state_buf_init(&sb);
	pthread_create(&th, NULL, runner, &vm);
	CHECK(moves(&vm, 1000), "the guest counts (%llu)", (unsigned long long)count(&vm));
	rc = vm_pause(&vm);
	CHECK(rc == 0, "vm_pause: %d", rc);
	saved = count(&vm);
	rc = vm_save_cpu_state(&vm, &sb);
	CHECK(rc == 0 && sb.len > 0, "the VM and vCPU sections save while paused (%d, %zu bytes)",
	      rc, sb.len);
	CHECK(ioctl(vm.vcpus[0].fd, KVM_GET_REGS, &regs1) == 0 && regs1.rip != ENTRY,
	      "the paused vCPU is inside the loop (rip %#llx)", (unsigned long long)regs1.rip);
	ram_size = vm.gm.size;
	ram = malloc(ram_size);
	memcpy(ram, vm.gm.base, ram_size);
	vm_request_stop(&vm, VM_STOP_USER, 0);
	pthread_join(th, NULL);
	vm_destroy(&vm);
	if (rc || !sb.len) {
		printf("FAIL: nothing saved, stopping here\n");
		return 1;
	}

	if (getenv("KITE_STATE_DUMP")) {
		/* A seed for fuzz_vcpu_state: the blob as saved. */
		FILE *f = fopen(getenv("KITE_STATE_DUMP"), "wb");

		if (f) {
			fwrite(sb.data, 1, sb.len, f);
			fclose(f);
		}
	}
	if (vm_create(&vm2, &cfg, &host, &loop, &t0, &e)) {
		printf("FAIL: second machine: %s\n", e.msg);
		return 1;
	}
	CHECK(vm2.gm.size == ram_size, "the second machine has the same RAM size");
	/* Refusals first, on the untouched second machine. */
	vcpu_off = skip_frame(sb.data, 0) + 4;
	bad = 0;
	for (size_t l = 0; l < sb.len; l++) {
		char m[256] = "";

		rc = vm_restore_cpu_state(&vm2, sb.data, l, m, sizeof(m));
		if (rc == 0 || !m[0] || !untouched(&vm2)) {
			if (!bad++)
				printf("  truncated to %zu: rc %d '%s'\n", l, rc, m);
		}
		if (l == vcpu_off + 20)
			printf("  e.g. truncated to %zu: %s\n", l, m);
	}
	CHECK(bad == 0, "every truncation of the blob (%zu of them, vCPU section from %zu) is "
	      "refused with a message, the machine untouched", sb.len, vcpu_off);
	/* vcpu frame: u8 4, "vcpu", u32 version, u32 length; payload: u32
	 * flags, u32 mp_state, u32 regs size ... */
	refuse_flip(&vm2, sb.data, sb.len, vcpu_off + 1 + 4 + 4 + 1, "vCPU payload length");
	refuse_flip(&vm2, sb.data, sb.len, vcpu_off + 13 + 8, "regs size field");
	refuse_flip(&vm2, sb.data, sb.len, vcpu_off + 1 + 4, "vCPU section version");
	refuse_flip(&vm2, sb.data, sb.len, skip_frame(sb.data, 0), "vCPU count");
	{
		uint8_t *c = malloc(sb.len + 1);

		memcpy(c, sb.data, sb.len);
		c[sb.len] = 0;
		rc = vm_restore_cpu_state(&vm2, c, sb.len + 1, err, sizeof(err));
		CHECK(rc != 0 && untouched(&vm2), "a byte too many is refused (%s)", err);
		free(c);
	}

	memcpy(vm2.gm.base, ram, ram_size);
	rc = vm_restore_cpu_state(&vm2, sb.data, sb.len, err, sizeof(err));
	CHECK(rc == 0 && vm2.cpu_restored, "the sections restore into the second machine (%d %s)",
	      rc, rc ? err : "");
	rc = vm_restore_cpu_state(&vm2, sb.data, sb.len, err, sizeof(err));
	CHECK(rc == -EBUSY, "a second restore is refused (%s)", err);
	CHECK(ioctl(vm2.vcpus[0].fd, KVM_GET_REGS, &regs2) == 0 && regs2.rip == regs1.rip &&
	      regs2.rbx == regs1.rbx && regs2.rax == regs1.rax && regs2.rflags == regs1.rflags,
	      "the restored registers are the saved ones (rip %#llx rbx %#llx)",
	      (unsigned long long)regs2.rip, (unsigned long long)regs2.rbx);
	pthread_create(&th, NULL, runner, &vm2);
	after = count(&vm2);
	CHECK(after >= saved, "right after start the count is not below the saved one (%llu >= "
	      "%llu)", (unsigned long long)after, (unsigned long long)saved);
	CHECK(moves(&vm2, saved + 1000), "the count goes on past the saved one (%llu -> %llu)",
	      (unsigned long long)saved, (unsigned long long)count(&vm2));
	CHECK(!vm_stopping(&vm2), "the restored guest runs without a stop (%d)", vm2.stop_reason);
	vm_request_stop(&vm2, VM_STOP_USER, 0);
	pthread_join(th, NULL);
	CHECK(vm2.stop_reason == VM_STOP_USER, "it stopped only when asked");
	vm_destroy(&vm2);
	free(ram);
	state_buf_free(&sb);
	vm_host_close(&host);
	hostio_detach(io);
	ev_free(&loop);
	hostio_close(io);
	return failures ? 1 : 0;
}
