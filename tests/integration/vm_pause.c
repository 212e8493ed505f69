/* Whole-VM test of pause and resume: a CPL-3 guest on two vCPUs counts in
 * guest RAM and makes a PIO exit per count. vm_pause must bring every vCPU
 * out of KVM_RUN (PAUSED, the count frozen) and pause every device;
 * vm_resume must let the count move again; many quick pause/resume cycles
 * must neither hang nor lose a vCPU; and a stop must still end a paused VM.
 * Exit 77 (skip) without /dev/kvm. */
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
#include "vm_test.h"

static int all_paused(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_get_state(&vm->vcpus[i]) != VCPU_PAUSED)
			return 0;
	return 1;
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
	struct vm vm;
	pthread_t th;
	uint64_t a, b;
	int rc;

	(void)argc;
	(void)argv;
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("SKIP: /dev/kvm is not usable: whole-VM tests need KVM\n");
		return 77;
	}
	snprintf(image, sizeof(image), "%s/count_user.bin", guest_dir ? guest_dir : ".");
	/* Every kind of device: the board's, and a virtio device of each kind
	 * (the guest does not drive them: their state is the reset state). */
	char disk[] = "/tmp/kite-pause-disk-XXXXXX";
	int dfd = mkstemp(disk);
	char *args[] = {"kite", "run", "--image", image, "--mode", "long-user", "--load",
			"0x100000", "--cpus", "2", "--memory", "8M", "--debug-exit",
			"--disk", disk, "--rng", "--console", "virtio", NULL};
	if (dfd < 0 || ftruncate(dfd, 1 << 20) < 0) {
		printf("FAIL: cannot make a disk image\n");
		return 1;
	}
	close(dfd);
	if (config_parse(18, args, &cfg, &cmd, err, sizeof(err))) {
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
	pthread_create(&th, NULL, runner, &vm);
	CHECK(moves(&vm, 1000), "the guest counts (%llu)", (unsigned long long)count(&vm));

	rc = vm_pause(&vm);
	CHECK(rc == 0, "vm_pause: %d", rc);
	CHECK(all_paused(&vm), "every vCPU is PAUSED");
	a = count(&vm);
	ms(200);
	b = count(&vm);
	CHECK(a == b, "the count stays while paused (%llu, %llu)", (unsigned long long)a,
	      (unsigned long long)b);
	{
		struct state_buf sb;
		char msg[256] = "";

		state_buf_init(&sb);
		rc = device_list_save(&vm.devices, &sb);
		CHECK(rc == 0 && sb.len > 0, "every device saves while paused (%d, %zu bytes, %d "
		      "devices)", rc, sb.len, vm.devices.nr);
		rc = device_list_restore(&vm.devices, sb.data, sb.len, msg, sizeof(msg));
		CHECK(rc == 0, "and restores from its own sections (%d %s)", rc, msg);
		state_buf_free(&sb);
	}
	vm_resume(&vm);
	CHECK(moves(&vm, b), "the count moves again after resume");
	{
		struct state_buf sb;

		state_buf_init(&sb);
		CHECK(device_list_save(&vm.devices, &sb) == -EBUSY, "a running VM's devices "
		      "refuse to save");
		state_buf_free(&sb);
	}

	for (int i = 0; i < 200; i++) {
		if (vm_pause(&vm) || !all_paused(&vm)) {
			CHECK(0, "pause cycle %d", i);
			break;
		}
		vm_resume(&vm);
	}
	a = count(&vm);
	CHECK(moves(&vm, a), "200 quick pause/resume cycles: the guest still runs");

	rc = vm_pause(&vm);
	CHECK(rc == 0 && all_paused(&vm), "paused again");
	vm_request_stop(&vm, VM_STOP_USER, 0);
	pthread_join(th, NULL);
	CHECK(vm.stop_reason == VM_STOP_USER, "a stop ends a paused VM");
	for (int i = 0; i < vm.nr_vcpus; i++)
		CHECK(vcpu_get_state(&vm.vcpus[i]) == VCPU_EXITED, "vcpu%d EXITED", i);
	vm_destroy(&vm);
	vm_host_close(&host);
	hostio_detach(io);
	CHECK(ev_count(&loop) == 0, "the machine left nothing on the loop (%d)", ev_count(&loop));
	ev_free(&loop);
	hostio_close(io);
	unlink(disk);
	return failures ? 1 : 0;
}
