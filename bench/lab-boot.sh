#!/bin/sh
# bench/lab-boot.sh: the "boot to init" and virtio-blk benchmarks inside the nested lab's
# L1 (started by tests/lab/l1-init.sh when tests/lab/run --bench-boot N staged it as
# /lab/bench-boot.sh), or on a host with vmx/svm (LAB= the staging directory). POSIX sh +
# busybox.
#
# N interleaved pairs (after one untimed warm-up of each): kite, then QEMU microvm on
# L1's KVM, both with the same bzImage, initramfs and command line, each timed by
# $LAB/boot_timer (bench/boot_timer.c) from exec to the first console line containing
# KITE-GUEST-INIT (printed by the guest's /init right after its mounts). Prints on stdout:
#   KITE-BENCH info <text>
#   KITE-BENCH boot vmm=kite|qemu run=<i> ms=<exec to marker> first_output_ms=<..>
#     guest_uptime_s=<the guest kernel's uptime in that line>
#   KITE-BENCH-FAIL vmm=<..> run=<i> <boot_timer's line>   (+ KITE-BENCH-LOG lines)
# Then (if the boots worked and $LAB/initramfs-blk.cpio.gz is there: the same initramfs
# plus /bin/blkjob, bench/guest/blkjob.c) the virtio-blk part: a 256 MiB image of random
# data in L1's /tmp, and after a short untimed warm-up (run 0) of each, $KITE_BENCH_BLK
# (else $LAB/bench-blk, else N) interleaved pairs of one boot each with that image as the
# guest's /dev/vda (kite --disk; QEMU virtio-blk-device on microvm with QEMU's default cache
# and aio), the guest running tests/lab/guest/blk_bench.sh: seqread, seqwrite (1 MiB, QD 8,
# 512 requests), randread, randwrite (4 KiB, QD 32, 16,384 requests), O_DIRECT, timed
# inside the guest by blkjob. Prints
#   KITE-BENCH blk vmm=kite|qemu run=<i> job=<job> value=<v> unit=MB/s|IOPS bs=.. qd=..
#     ios=.. ns=..
#   KITE-BENCH-FAIL blk vmm=<..> run=<i> <why>   (+ KITE-BENCH-LOG lines)
#   KITE-BENCH-BLK-DONE runs=M ok=0|1 [error=<why>]
# and last, whatever happened to the virtio-blk part (ok= says whether every boot worked):
#   KITE-BENCH-DONE runs=N ok=0|1
# With $KITE_BENCH_SKIP (else $LAB/bench-skip) = boot, only the virtio-blk part runs
# (bench/linux.py's second attempt after an L1 hang), and KITE-BENCH-DONE says runs=0.
LAB=${LAB:-/lab}
n=${KITE_BENCH_BOOT:-$(cat "$LAB/bench-boot" 2>/dev/null || echo 5)}
skip=${KITE_BENCH_SKIP:-$(cat "$LAB/bench-skip" 2>/dev/null)}
qemu=${KITE_BENCH_QEMU:-/usr/bin/qemu-system-x86_64}
cmdline="console=ttyS0 kite.test=boot"
# In the nested lab kite hides XSAVE from its guest (QEMU 7.2's nested SVM does not apply
# the XSETBV intercept, see tests/lab/README.md); QEMU gets the same CPU, minus XSAVE.
cpu=host
[ "${KITE_LAB_TIER:-direct}" = nested ] && cpu=host,-xsave
cpu=${KITE_BENCH_QEMU_CPU:-$cpu}
W=$(mktemp -d "${TMPDIR:-/tmp}/kite-bench.XXXXXX") || exit 1
# Time limits per VM (boot_timer -t): a boot takes 4-12 s here and a virtio-blk run 10-20 s,
# and one line comes at least every 90 s, so bench/linux.py can set tests/lab/run's silence
# watchdog (KITE_LAB_SILENCE) to 100 s: an L1 that wedges costs 100 s, not 180.

kite_cmd() {
	"$LAB/boot_timer" -t 60 -o "$W/log" KITE-GUEST-INIT -- "$LAB/kite" run \
		--kernel "$LAB/bzImage" --initrd "$LAB/initramfs.cpio.gz" --cmdline "$cmdline" \
		--memory 256M --cpus 1
}
qemu_cmd() {
	"$LAB/boot_timer" -t 60 -o "$W/log" KITE-GUEST-INIT -- "$qemu" -accel kvm -cpu "$cpu" \
		-M microvm -m 256M -smp 1 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$LAB/initramfs.cpio.gz" \
		-append "$cmdline"
}

# --- virtio-blk ---------------------------------------------------------------------------
blk_initrd=$LAB/initramfs-blk.cpio.gz
blk_n=${KITE_BENCH_BLK:-$(cat "$LAB/bench-blk" 2>/dev/null || echo "$n")}
blk_seq_ios=${KITE_BENCH_BLK_SEQ_IOS:-512}
blk_rand_ios=${KITE_BENCH_BLK_RAND_IOS:-16384}
blk_timeout=${KITE_BENCH_BLK_TIMEOUT:-90}
blk_cmdline="console=ttyS0 kite.test=blk_bench kite.blk_seq_ios=$blk_seq_ios kite.blk_rand_ios=$blk_rand_ios"
# The untimed warm-up (run 0) of each: a short job, so that the first timed run is not the
# one in which TCG first translates L1's I/O paths.
blk_warm_cmdline="console=ttyS0 kite.test=blk_bench kite.blk_seq_ios=32 kite.blk_rand_ios=1024"
img=$W/blk.img

kite_blk_cmd() {
	"$LAB/boot_timer" -t "$blk_timeout" -o "$W/log" KITE-GUEST-DONE -- "$LAB/kite" run \
		--kernel "$LAB/bzImage" --initrd "$blk_initrd" --cmdline "$blk_cmdline" \
		--memory 256M --cpus 1 --disk "$img"
}
qemu_blk_cmd() {
	"$LAB/boot_timer" -t "$blk_timeout" -o "$W/log" KITE-GUEST-DONE -- "$qemu" -accel kvm -cpu "$cpu" \
		-M microvm -m 256M -smp 1 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$blk_initrd" \
		-append "$blk_cmdline" \
		-drive "file=$img,format=raw,if=none,id=d0" -device virtio-blk-device,drive=d0
}

blk_ok=1
blk() { # vmm run
	out=$("${1}_blk_cmd")
	rc=$?
	jobs=$(grep -c '^KITE-BLKJOB ' "$W/log")
	if [ $rc = 0 ] && [ "$jobs" = 4 ] && grep -q '^KITE-RESULT blk_bench PASS' "$W/log"; then
		[ "$2" = 0 ] && grep -m 1 '^KITE-BLKINFO ' "$W/log" | sed "s/^KITE-BLKINFO/KITE-BENCH info blk vmm=$1/"
		grep '^KITE-BLKJOB ' "$W/log" | awk -v vmm="$1" -v run="$2" '{
			for (i = 2; i <= NF; i++) {
				eq = index($i, "=")
				f[substr($i, 1, eq - 1)] = substr($i, eq + 1)
			}
			if (f["job"] ~ /^seq/) { unit = "MB/s"; v = f["mbps"] } else { unit = "IOPS"; v = f["iops"] }
			printf "KITE-BENCH blk vmm=%s run=%s job=%s value=%s unit=%s bs=%s qd=%s ios=%s ns=%s\n",
				vmm, run, f["job"], v, unit, f["bs"], f["qd"], f["ios"], f["ns"]
		}'
		return 0
	fi
	blk_ok=0
	echo "KITE-BENCH-FAIL blk vmm=$1 run=$2 $out jobs=$jobs"
	tail -n 15 "$W/log" | sed 's/^/KITE-BENCH-LOG | /'
	return 1
}

blk_all() {
	if [ ! -f "$blk_initrd" ]; then
		echo "KITE-BENCH-BLK-DONE runs=0 ok=0 error=no $blk_initrd (tests/lab/run --bench-boot builds it)"
		return
	fi
	t=$(date +%s)
	# Random data, written in full: holes would read as zeros without a copy.
	if ! dd if=/dev/urandom of="$img" bs=1M count=256 2>"$W/dd.err"; then
		echo "KITE-BENCH-BLK-DONE runs=0 ok=0 error=cannot write $img: $(tail -n 1 "$W/dd.err")"
		return
	fi
	echo "KITE-BENCH info blk image=$img bytes=$(wc -c <"$img") filled_s=$(($(date +%s) - t)) runs=$blk_n" \
		"seq_ios=$blk_seq_ios rand_ios=$blk_rand_ios cmdline=\"$blk_cmdline\""
	echo "KITE-BENCH info blk kite=\"--disk $img\" (raw backend, page cache, io_uring)" \
		"qemu=\"-drive file=$img,format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0\"" \
		"(QEMU's defaults: cache=writeback, aio=threads)"
	full=$blk_cmdline
	blk_cmdline=$blk_warm_cmdline
	blk kite 0 && blk qemu 0 || blk_n=0
	blk_cmdline=$full
	i=1
	while [ $i -le "$blk_n" ]; do
		blk kite $i || break
		blk qemu $i || break
		i=$((i + 1))
	done
	echo "KITE-BENCH-BLK-DONE runs=$blk_n ok=$blk_ok seconds=$(($(date +%s) - t))"
	rm -f "$img"
}

ok=1
one() { # vmm run
	out=$("${1}_cmd")
	rc=$?
	if [ $rc = 0 ]; then
		# The guest's own uptime at the marker (its /init prints it): the rest of
		# the time is the VMM's start-up, firmware and kernel decompression.
		up=$(grep -m 1 KITE-GUEST-INIT "$W/log" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p')
		echo "KITE-BENCH boot vmm=$1 run=$2 ${out#boot_timer } guest_uptime_s=${up:-?}"
	else
		ok=0
		echo "KITE-BENCH-FAIL vmm=$1 run=$2 $out"
		tail -n 15 "$W/log" | sed 's/^/KITE-BENCH-LOG | /'
	fi
	return $rc
}

echo "KITE-BENCH info cpus=$(nproc) kernel=$(uname -r) cmdline=\"$cmdline\" runs=$n marker=KITE-GUEST-INIT"
echo "KITE-BENCH info qemu=\"$("$qemu" --version 2>&1 | head -n 1)\" cpu=$cpu"
# Warm-up (untimed): the first run of each also shows whether it can boot at all.
if [ "$skip" = boot ]; then
	# A second attempt after an L1 hang (bench/linux.py) that has the boot pairs already.
	echo "KITE-BENCH info boot pairs skipped (bench-skip=boot)"
	n=0
	blk_all
elif one kite 0 && one qemu 0; then
	i=1
	while [ $i -le "$n" ]; do
		one kite $i
		one qemu $i
		i=$((i + 1))
	done
	blk_all
else
	echo "KITE-BENCH-BLK-DONE runs=0 ok=0 error=the warm-up boots failed"
fi
echo "KITE-BENCH-DONE runs=$n ok=$ok"
rm -rf "$W"
