# shellcheck shell=bash
# lib/artifacts.sh: builds (or takes from the cache) what the L2 tests boot, and stages it
# with the table, batch.sh and the hooks in $lab (= $out/stage/lab): the guest kernel
# (scripts/guest-kernel/build.sh), the L2 initramfs and its Debian-modules variant
# (scripts/guest-initramfs/build.sh), Debian's kernel, the seed demo and kite itself;
# with --bench-boot, also the benchmark's script, timer and virtio-blk initramfs (with
# --bench-snapshot: its script, timer and initramfs); the static helpers of the net and
# vsock tests (tests/lab/tools: tapctl where kite runs, vsock_helper in the L2 initramfs).
# Needs: $repo, $here, $out, $mode, $table, $kite, $only, $bench, $bench_kind, $budget; say,
# apt_install, find_debian_kernel (lib/common.sh); fail_all, summary (lib/protocol.sh).
# Sets: kdir idir didir (cache directories), dver (Debian kernel version, maybe empty),
# stage, lab.

# build_artifacts: the guest kernel and initramfs images. On failure every test FAILs
# ("lab setup: ...") and run ends here.
build_artifacts() {
	: >"$out/setup.log"
	local setup_failed=""
	say "guest kernel: scripts/guest-kernel/build.sh (cached; ~4-8 min when not)"
	kdir=$("$repo/scripts/guest-kernel/build.sh" 2>>"$out/setup.log") || setup_failed="guest kernel build failed (see $out/setup.log)"
	dver=$(find_debian_kernel) || { apt_install linux-image-amd64 && dver=$(find_debian_kernel); } ||
		say "no Debian kernel (linux-image-amd64): boot-debian will SKIP${mode/direct/}"
	# The vsock test's guest side (busybox has no AF_VSOCK): /bin/vsock_helper in both
	# initramfs variants. Without it (no static libc) the vsock test SKIPs in the guest.
	local extra=()
	if cc -static -O2 -Wall -Wextra -Werror -o "$out/vsock_helper" "$here/tools/vsock_helper.c" >>"$out/setup.log" 2>&1; then
		extra=(--extra "$out/vsock_helper")
	else
		say "cannot build tests/lab/tools/vsock_helper.c statically (see $out/setup.log): vsock will SKIP"
	fi
	if [[ -z $setup_failed ]]; then
		idir=$("$repo/scripts/guest-initramfs/build.sh" "${extra[@]}" 2>>"$out/setup.log") || setup_failed="guest initramfs build failed (see $out/setup.log)"
	fi
	if [[ -z $setup_failed && -n ${dver:-} ]]; then
		didir=$("$repo/scripts/guest-initramfs/build.sh" --modules "$dver" "${extra[@]}" 2>>"$out/setup.log") ||
			setup_failed="guest initramfs (Debian modules) build failed (see $out/setup.log)"
	fi
	if [[ -n $setup_failed ]]; then
		say "$setup_failed"
		tail -n 20 "$out/setup.log"
		fail_all "lab setup: $setup_failed"
		summary "setup"
		exit
	fi
}

# stage_lab: everything batch.sh needs, in $lab.
stage_lab() {
	stage="$out/stage"
	rm -rf "$stage"
	lab="$stage/lab"
	mkdir -p "$lab"
	cp "$table" "$lab/tests.txt"
	cp "$here/batch.sh" "$lab/"
	[[ -d $here/hooks ]] && cp -r "$here/hooks" "$lab/hooks" # per-test pre/post hooks (batch.sh)
	cp "$kdir/bzImage" "$lab/bzImage"
	objcopy --strip-all "$kdir/vmlinux" "$lab/vmlinux"
	objcopy --remove-section=.notes "$lab/vmlinux" "$lab/vmlinux-nopvh"
	cp "$idir/initramfs.cpio.gz" "$lab/initramfs.cpio.gz"
	cp "$idir/blob.sha256" "$lab/blob.sha256"
	if [[ -n ${dver:-} ]]; then
		cp "/boot/vmlinuz-$dver" "$lab/debian-vmlinuz"
		cp "$didir/initramfs.cpio.gz" "$lab/initramfs-debian.cpio.gz"
		cp "$didir/blob.sha256" "$lab/blob-debian.sha256"
	fi
	if [[ -f $repo/build/tests/guest/demo.bin ]]; then
		cp "$repo/build/tests/guest/demo.bin" "$lab/demo.bin"
	else
		# mov $0x3f8,%dx; add %bl,%al; add $'0',%al; out %al,(%dx); mov $'\n',%al; out; hlt
		printf '\xba\xf8\x03\x00\xd8\x04\x30\xee\xb0\x0a\xee\xf4' >"$lab/demo.bin"
	fi
	# The net tests' tap helper (hooks/net-lib.sh), static: it runs in L1 as it is.
	cc -static -O2 -Wall -Wextra -Werror -o "$lab/tapctl" "$here/tools/tapctl.c" >>"$out/setup.log" 2>&1 ||
		say "cannot build tests/lab/tools/tapctl.c statically (see $out/setup.log): net-* will SKIP"
	if [[ -x $kite ]]; then
		cp "$kite" "$lab/kite"
	else
		say "NOTE: no kite binary at $kite (build it: ninja -C build); tests using @KITE@ will SKIP"
	fi
	# jailer-linux's exec file: kite linked statically (the jailer execs it in a root
	# without libraries, as Firecracker's), named as the jailer's layout wants.
	local kb ks
	kb=$(dirname "$kite")
	ks=$kb/tests/integration/kite-static
	[[ -f $kb/build.ninja ]] && ninja -C "$kb" tests/integration/kite-static >>"$out/setup.log" 2>&1
	if [[ -x $ks ]]; then
		cp "$ks" "$lab/firecracker"
	else
		say "NOTE: no static kite at $ks (static libjansson/libseccomp/liburing?): jailer-linux will SKIP"
	fi
	[[ -n $only ]] && printf '%s\n' "$only" >"$lab/only"
	[[ -n $bench ]] && stage_bench
	echo "$budget" >"$lab/budget" # tier direct and --bench-boot; the L1 also gets kite.budget=
}

# stage_bench: --bench-boot N (or --bench-snapshot N, --bench-net N): the benchmark script and its timer
# (static: it runs in L1 as it is).
stage_bench() {
	local bidir
	[[ $bench =~ ^[1-9][0-9]*$ ]] || { echo "lab: --bench-$bench_kind needs a run count"; exit 2; }
	[[ -x $lab/kite ]] || { echo "lab: --bench-$bench_kind needs kite ($kite)"; exit 2; }
	cc -static -O2 -Wall -Wextra -o "$lab/boot_timer" "$repo/bench/boot_timer.c" >>"$out/setup.log" 2>&1 ||
		{ echo "lab: cannot build bench/boot_timer.c (see $out/setup.log)"; exit 1; }
	if [[ $bench_kind == net ]]; then
		# --bench-net N: bench/lab-net.sh; its guest is the lab initramfs with
		# bench/guest/net_bench.sh as the only test and bench/guest/netbench (static, also
		# L1's server) as /bin/netbench.
		cp "$repo/bench/lab-net.sh" "$lab/bench-net.sh"
		echo "$bench" >"$lab/bench-net"
		mkdir -p "$out/net-tests"
		cp "$repo/bench/guest/net_bench.sh" "$out/net-tests/"
		{ cc -static -O2 -Wall -Wextra -Werror -o "$lab/netbench" "$repo/bench/guest/netbench.c" >>"$out/setup.log" 2>&1 &&
			bidir=$("$repo/scripts/guest-initramfs/build.sh" --tests "$out/net-tests" --extra "$lab/netbench" 2>>"$out/setup.log") &&
			cp "$bidir/initramfs.cpio.gz" "$lab/initramfs-net.cpio.gz"; } ||
			say "cannot build bench/guest/netbench.c or its initramfs (see $out/setup.log)"
		: >"$out/bench.txt"
		return
	fi
	if [[ $bench_kind == snapshot ]]; then
		# --bench-snapshot N: bench/lab-snapshot.sh; its guest is the lab initramfs with
		# bench/guest/snap_beat.sh as the only test.
		cp "$repo/bench/lab-snapshot.sh" "$lab/bench-snapshot.sh"
		echo "$bench" >"$lab/bench-snapshot"
		mkdir -p "$out/snap-tests"
		cp "$repo/bench/guest/snap_beat.sh" "$out/snap-tests/"
		bidir=$("$repo/scripts/guest-initramfs/build.sh" --tests "$out/snap-tests" 2>>"$out/setup.log") &&
			cp "$bidir/initramfs.cpio.gz" "$lab/initramfs-snap.cpio.gz" ||
			say "cannot build the snapshot benchmark's initramfs (see $out/setup.log)"
		: >"$out/bench.txt"
		return
	fi
	cp "$repo/bench/lab-boot.sh" "$lab/bench-boot.sh"
	echo "$bench" >"$lab/bench-boot"
	# Its virtio-blk part boots the same initramfs plus /bin/blkjob (bench/guest/blkjob.c).
	{ cc -static -O2 -Wall -Wextra -Werror -o "$out/blkjob" "$repo/bench/guest/blkjob.c" >>"$out/setup.log" 2>&1 &&
		bidir=$("$repo/scripts/guest-initramfs/build.sh" --extra "$out/blkjob" 2>>"$out/setup.log") &&
		cp "$bidir/initramfs.cpio.gz" "$lab/initramfs-blk.cpio.gz"; } ||
		say "cannot build bench/guest/blkjob.c or its initramfs (see $out/setup.log): no virtio-blk figures"
	[[ -n ${KITE_LAB_BENCH_BLK:-} ]] && echo "$KITE_LAB_BENCH_BLK" >"$lab/bench-blk"
	[[ -n ${KITE_LAB_BENCH_SKIP:-} ]] && echo "$KITE_LAB_BENCH_SKIP" >"$lab/bench-skip"
	: >"$out/bench.txt"
}
