#!/bin/sh
# bench/lab-boot.sh: the "boot to init" benchmark inside the nested lab's L1 (started by
# tests/lab/l1-init.sh when tests/lab/run --bench-boot N staged it as /lab/bench-boot.sh),
# or on a host with vmx/svm (LAB= the staging directory). POSIX sh + busybox.
#
# N interleaved pairs (after one untimed warm-up of each): kite, then QEMU microvm on
# L1's KVM, both with the same bzImage, initramfs and command line, each timed by
# $LAB/boot_timer (bench/boot_timer.c) from exec to the first console line containing
# KITE-GUEST-INIT (printed by the guest's /init right after its mounts). Prints on stdout:
#   KITE-BENCH info <text>
#   KITE-BENCH boot vmm=kite|qemu run=<i> ms=<exec to marker> first_output_ms=<..>
#     guest_uptime_s=<the guest kernel's uptime in that line>
#   KITE-BENCH-FAIL vmm=<..> run=<i> <boot_timer's line>   (+ KITE-BENCH-LOG lines)
#   KITE-BENCH-DONE runs=N ok=0|1
LAB=${LAB:-/lab}
n=${KITE_BENCH_BOOT:-$(cat "$LAB/bench-boot" 2>/dev/null || echo 5)}
qemu=${KITE_BENCH_QEMU:-/usr/bin/qemu-system-x86_64}
cmdline="console=ttyS0 kite.test=boot"
# In the nested lab kite hides XSAVE from its guest (QEMU 7.2's nested SVM does not apply
# the XSETBV intercept, see tests/lab/README.md); QEMU gets the same CPU, minus XSAVE.
cpu=host
[ "${KITE_LAB_TIER:-direct}" = nested ] && cpu=host,-xsave
cpu=${KITE_BENCH_QEMU_CPU:-$cpu}
W=$(mktemp -d "${TMPDIR:-/tmp}/kite-bench.XXXXXX") || exit 1

kite_cmd() {
	"$LAB/boot_timer" -t 120 -o "$W/log" KITE-GUEST-INIT -- "$LAB/kite" run \
		--kernel "$LAB/bzImage" --initrd "$LAB/initramfs.cpio.gz" --cmdline "$cmdline" \
		--memory 256M --cpus 1
}
qemu_cmd() {
	"$LAB/boot_timer" -t 120 -o "$W/log" KITE-GUEST-INIT -- "$qemu" -accel kvm -cpu "$cpu" \
		-M microvm -m 256M -smp 1 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$LAB/initramfs.cpio.gz" \
		-append "$cmdline"
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
if one kite 0 && one qemu 0; then
	i=1
	while [ $i -le "$n" ]; do
		one kite $i
		one qemu $i
		i=$((i + 1))
	done
fi
echo "KITE-BENCH-DONE runs=$n ok=$ok"
rm -rf "$W"
