#!/bin/sh
# /init of the L1 lab VM (packed by tests/lab/run into the L1 initramfs together with
# busybox, the kvm modules, kite and the L2 artifacts under /lab).
# Loads irqbypass/ccp/kvm/kvm-amd (order in /lab/modules/load.order), checks /dev/kvm,
# runs the L2 test batch (/lab/batch.sh) and powers off. Everything it reports goes to the
# serial console as KITE-L1 / KITE-LAB* lines, parsed by tests/lab/run on the host.
# /lab/only (optional): extended regex, run only the matching tests (or kite.only= on the
# kernel command line).
# /lab/bench-boot (optional, from tests/lab/run --bench-boot N): run the boot-to-init
# benchmark /lab/bench-boot.sh (bench/lab-boot.sh) instead of the batch; /lab/bench-snapshot
# (--bench-snapshot N): the snapshot-restore benchmark /lab/bench-snapshot.sh
# (bench/lab-snapshot.sh); /lab/bench-net (--bench-net N): the virtio-net one
# /lab/bench-net.sh (bench/lab-net.sh).
export PATH=/bin
# "/" must be a mount with a parent for pivot_root(2) (kite run --jail, the jail-linux test):
# the initramfs itself (rootfs) is not one, and pivot_root fails there with EINVAL. So this
# script first re-runs itself chrooted into a bind mount of the initramfs moved onto "/",
# as switch_root does with a new file system, but without copying the image (switch_root
# would also delete the initramfs it is run from). Costs about 60-70 ms in L1.
if [ -z "${KITE_L1_ROOT:-}" ]; then
	mkdir -p /.root
	if mount -o bind / /.root && cd /.root && mount -o move . /; then
		KITE_L1_ROOT=bind exec chroot . /init
	fi
	cd /
	KITE_L1_ROOT="none: the bind mount of / failed, kite run --jail cannot pivot_root"
fi
export KITE_L1_ROOT
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
up() { cut -d' ' -f1 /proc/uptime; }
echo "KITE-L1 init uptime=$(up) kernel=$(uname -r) cpus=$(nproc) memtotal_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) root=$KITE_L1_ROOT"

err=""
if ! grep -qw svm /proc/cpuinfo && ! grep -qw vmx /proc/cpuinfo; then
	err="L1 CPU has no svm/vmx flag (QEMU too old for nested SVM under TCG?)"
fi
while read -r m; do
	[ -n "$m" ] || continue
	case $m in
	kvm-amd.ko) opts="nested=1" ;;
	*) opts="" ;;
	esac
	if ! insmod "/lab/modules/$m" $opts 2>/tmp/insmod.err; then
		grep -q 'File exists' /tmp/insmod.err || echo "KITE-L1 insmod $m failed: $(cat /tmp/insmod.err)"
	fi
done </lab/modules/load.order
if [ -z "$err" ] && [ ! -c /dev/kvm ]; then
	err="no /dev/kvm after loading kvm-amd: $(dmesg | grep -i -E 'kvm|svm' | tail -n 3 | tr '\n' ' ')"
fi

# kite.only= and kite.budget= on the L1 command line (tests/lab/run, when it restarts a
# hung L1 for the tests left) take precedence over the files.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^kite\.$1=//p" | tail -n 1; }
only=$(arg only)
[ -n "$only" ] || only=$(cat /lab/only 2>/dev/null)
KITE_LAB_BUDGET=$(arg budget)
[ -n "$KITE_LAB_BUDGET" ] || KITE_LAB_BUDGET=$(cat /lab/budget 2>/dev/null || echo 900)
export KITE_LAB_BUDGET

bench=""
[ -f /lab/bench-boot ] && bench=boot
[ -f /lab/bench-snapshot ] && bench=snapshot
[ -f /lab/bench-net ] && bench=net
if [ -n "$bench" ]; then
	# tests/lab/run --bench-boot N: the boot-to-init benchmark (bench/lab-boot.sh), or
	# --bench-snapshot N: the snapshot-restore one (bench/lab-snapshot.sh), instead of
	# the test batch; KITE-BENCH lines on the console.
	if [ -n "$err" ]; then
		echo "KITE-BENCH-DONE runs=0 ok=0 error=$err"
	else
		echo "KITE-L1 kvm-ready uptime=$(up) kvm_amd.nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
		LAB=/lab KITE_LAB_TIER=nested sh "/lab/bench-$bench.sh"
	fi
elif [ -n "$err" ]; then
	echo "KITE-L1 error: $err"
	LAB=/lab KITE_LAB_ONLY=$only KITE_LAB_SKIP_ALL="lab: $err" sh /lab/batch.sh
else
	echo "KITE-L1 kvm-ready uptime=$(up) kvm_amd.nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
	LAB=/lab KITE_LAB_ONLY=$only KITE_LAB_TIER=nested sh /lab/batch.sh
fi
echo "KITE-L1 done uptime=$(up)"
sync
poweroff -f
