#!/bin/bash
# The filters in force: while a CPL-3 guest runs with a virtio disk and the
# API socket (two vCPUs in Firecracker mode), every thread of kite shows
# "Seccomp: 2" (a filter), "NoNewPrivs: 1" and exactly one filter (no role
# inherited another's); the same with the disk's thread pool (kite-seccomp-hook's
# KITE_TEST_DISK_POOL), and in Firecracker mode. --seccomp off and
# --no-seccomp leave every thread unfiltered. First, the command line:
# --seccomp and kite seccomp export/list, their errors and output.
. "$(dirname "$0")/../integration/lib.sh"

# The command line first (no KVM needed): bad values end with status 2 and
# a message; export writes a BPF program (8 bytes per instruction).
cli() { # NAME WANT_RC WANT_STDERR args...
	local name=$1 want=$2 msg=$3
	shift 3
	"$KITE" "$@" >"$TMP/cli.out" 2>"$TMP/cli.err"
	local rc=$?
	[ "$rc" -eq "$want" ] && grep -q -- "$msg" "$TMP/cli.err" && ok "$name: exit $rc, '$msg'" ||
		fail "$name: exit $rc (want $want): $(cat "$TMP/cli.err")"
}
cli bad-mode 2 "expected on, log or off" run --image x --seccomp maybe
cli bad-role 2 "unknown role 'bogus'" seccomp export bogus "$TMP/x.bpf"
cli bad-path 2 "No such file or directory" seccomp export main "$TMP/no/dir/x.bpf"
cli no-args 2 "usage: kite seccomp" seccomp
cli fc-bad-mode 153 "on, log or off" firecracker --seccomp maybe
cli fc-both 153 "cannot be used together" firecracker --no-seccomp --seccomp on
"$KITE" seccomp list >"$TMP/roles" && [ "$(tr '\n' ' ' <"$TMP/roles")" = "main main-restart vcpu disk-worker prefetch " ] &&
	ok "seccomp list: $(tr '\n' ' ' <"$TMP/roles")" || fail "seccomp list: $(cat "$TMP/roles")"
for role in $(cat "$TMP/roles"); do
	"$KITE" seccomp export "$role" "$TMP/$role.bpf"
	size=$(stat -c %s "$TMP/$role.bpf" 2>/dev/null || echo 0)
	[ "$size" -gt 0 ] && [ $((size % 8)) -eq 0 ] && ok "export $role: $((size / 8)) instructions" ||
		fail "export $role: $size bytes"
done

need_kvm
HOOK=${KITE_HOOK:-}
guest=(--image "$GUEST_DIR/hello_user.bin" --mode long-user --load 0x100000)
dd if=/dev/zero of="$TMP/disk.img" bs=1M count=1 status=none

# The guest's line arrived: with two vCPUs both print it and the letters
# interleave (across lines too), so the letters of "ring 3" in order count.
ran() { tr -d "\n" <"$TMP/$1.out" 2>/dev/null | grep -q "r.*i.*n.*g.* .*3"; }

# check NAME PID WANT_SECCOMP WANT_MIN_THREADS: every thread's status.
check() {
	local name=$1 pid=$2 want=$3 min=$4 n=0 bad="" t
	for _ in $(seq 300); do ran "$name" && break; sleep 0.05; done
	ran "$name" || fail "$name: the guest did not run: $(cat "$TMP/$name.err")"
	for t in /proc/$pid/task/*; do
		local comm sc nnp nf
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		sc=$(awk '/^Seccomp:/ {print $2}' "$t/status")
		nnp=$(awk '/^NoNewPrivs:/ {print $2}' "$t/status")
		nf=$(awk '/^Seccomp_filters:/ {print $2}' "$t/status")
		n=$((n + 1))
		if [ "$want" = 2 ]; then
			[ "$sc" = 2 ] && [ "$nnp" = 1 ] && [ "${nf:-1}" = 1 ] || bad="$bad [$comm: Seccomp $sc NoNewPrivs $nnp filters ${nf:-?}]"
		else
			[ "$sc" = 0 ] || bad="$bad [$comm: Seccomp $sc]"
		fi
		echo "  $name: thread '$comm' Seccomp $sc NoNewPrivs $nnp filters ${nf:-?}"
	done
	[ "$n" -ge "$min" ] || fail "$name: $n threads, expected at least $min"
	[ -z "$bad" ] && ok "$name: $n threads, each Seccomp $want" || fail "$name:$bad"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
}

# io_uring disk, API socket: main + the vCPU (io_uring's own
# workers, if any, are the kernel's).
"$KITE" run "${guest[@]}" --disk "$TMP/disk.img" --rng --api-sock "$TMP/a.sock" \
	>"$TMP/uring.out" 2>"$TMP/uring.err" &
check uring $! 2 2

if [ -n "$HOOK" ]; then
	KITE_TEST_DISK_POOL=1 "$HOOK" run "${guest[@]}" --disk "$TMP/disk.img" \
		--api-sock "$TMP/b.sock" >"$TMP/pool.out" 2>"$TMP/pool.err" &
	pid=$!
	for _ in $(seq 200); do
		workers=$(grep -lx "kite-disk" /proc/$pid/task/*/comm 2>/dev/null | wc -l)
		[ "$workers" -eq 2 ] && break
		sleep 0.05
	done
	[ "$workers" -eq 2 ] && ok "pool: two disk workers" || fail "pool: $workers kite-disk threads"
	check pool $pid 2 4
else
	echo "note: no kite-seccomp-hook (-Dseccomp_test_hook=false): disk workers not checked"
fi

# Firecracker mode: the machine is built at InstanceStart (a config file).
cat >"$TMP/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST_DIR/hello_user.bin",
                 "kite": {"mode": "long-user", "load_addr": "0x100000"}},
 "drives": [{"drive_id": "d", "path_on_host": "$TMP/disk.img", "is_root_device": false, "is_read_only": false}],
 "machine-config": {"vcpu_count": 2, "mem_size_mib": 64}}
JSON
"$KITE" firecracker --api-sock "$TMP/fc.sock" --config-file "$TMP/vm.json" >"$TMP/fc.out" 2>"$TMP/fc.err" &
check fc $! 2 3

"$KITE" run "${guest[@]}" --seccomp off >"$TMP/off.out" 2>"$TMP/off.err" &
check off $! 0 2
"$KITE" firecracker --no-api --config-file "$TMP/vm.json" --no-seccomp >"$TMP/fcoff.out" 2>"$TMP/fcoff.err" &
check fcoff $! 0 2
finish
