#!/bin/bash
# A violation, end to end, with kite-seccomp-hook (a test-only kite whose
# thread of role $KITE_TEST_SECCOMP_VIOLATE calls getpgrp, which no role
# allows, right after loading its filter): status 148 and one line naming
# the thread and the call; with --seccomp log kite goes on. The kite binary
# has no hook: the variable does nothing there and its name is not in it.
. "$(dirname "$0")/../integration/lib.sh"
need_kvm
HOOK=${KITE_HOOK:-}
REAL_KITE=$KITE
[ -n "$HOOK" ] && [ -x "$HOOK" ] || skip "no kite-seccomp-hook (built with -Dseccomp_test_hook=true)"
demo=(run --image "$GUEST_DIR/demo.bin" --mode real --load 0x1000 --reg rax=2 --reg rbx=2)
dd if=/dev/zero of="$TMP/disk.img" bs=1M count=1 status=none

# violate NAME ROLE THREAD [env...] -- kite args
violate() {
	local name=$1 role=$2 thread=$3
	shift 3
	KITE_TEST_SECCOMP_VIOLATE=$role run_kite "$name" "$@"
	expect_rc "$name" 148
	if grep -qx "kite: seccomp: thread '$thread' made a forbidden system call 111 (getpgrp); exiting with status 148" "$err"; then
		ok "$name: the report names thread '$thread' and getpgrp"
	else
		fail "$name: report: $(cat "$err")"
	fi
}
KITE=$HOOK
violate vcpu vcpu "vcpu 0" "${demo[@]}"
violate main main kite-seccomp-ho "${demo[@]}"
cat >"$TMP/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST_DIR/hello_user.bin",
                 "kite": {"mode": "long-user", "load_addr": "0x100000"}},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 64}}
JSON
violate fc-vcpu vcpu "fc_vcpu 0" firecracker --no-api --config-file "$TMP/vm.json"
KITE_TEST_DISK_POOL=1 violate disk disk-worker kite-disk "${demo[@]}" --disk "$TMP/disk.img"
# --on-reboot restart: the main thread loads main-restart, the hook fires too.
violate restart main kite-seccomp-ho "${demo[@]}" --on-reboot restart

# log: the kernel logs the call, kite goes on and the guest finishes.
KITE_TEST_SECCOMP_VIOLATE=vcpu run_kite log-vcpu "${demo[@]}" --seccomp log
expect_rc log-vcpu 0
expect_out log-vcpu '4\n'
KITE_TEST_SECCOMP_VIOLATE=main run_kite log-main "${demo[@]}" --seccomp log
expect_rc log-main 0
# off: no filter, the call is harmless.
KITE_TEST_SECCOMP_VIOLATE=vcpu run_kite off "${demo[@]}" --seccomp off
expect_rc off 0

# The default binary: no hook.
KITE=$REAL_KITE
KITE_TEST_SECCOMP_VIOLATE=vcpu run_kite nohook "${demo[@]}"
expect_rc nohook 0
expect_out nohook '4\n'
if grep -q "KITE_TEST_SECCOMP_VIOLATE\|KITE_TEST_DISK_POOL" "$REAL_KITE"; then
	fail "the kite binary holds the test hook's variable names"
else
	ok "the kite binary has no test hook"
fi
grep -q "KITE_TEST_SECCOMP_VIOLATE" "$HOOK" && ok "the hook binary has it" || fail "hook binary lacks the hook"
finish
