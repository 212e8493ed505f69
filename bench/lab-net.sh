#!/bin/sh
# bench/lab-net.sh: the virtio-net benchmark (issue 11) inside the nested lab's L1 (started
# by tests/lab/l1-init.sh when tests/lab/run --bench-net N staged it as /lab/bench-net.sh),
# or on a host with vmx/svm (LAB= the staging directory). POSIX sh + busybox, as
# bench/lab-boot.sh.
#
# The same guest under kite and under QEMU microvm on L1's KVM: the lab's small kernel
# ($LAB/bzImage), $LAB/initramfs-net.cpio.gz (the lab initramfs with
# bench/guest/net_bench.sh as its only test and bench/guest/netbench as /bin/netbench),
# 1 vCPU, 256 MiB, one virtio-net device on the same persistent tap kb0 in L1 (made by
# $LAB/tapctl, address 10.0.9.1/24; the guest is 10.0.9.2):
#   kite  --net tap=kb0,mac=M
#   QEMU  -netdev tap,id=n0,ifname=kb0,script=no,downscript=no,vhost=off
#         -device virtio-net-device,netdev=n0,mac=M
# L1 runs `netbench server 5201`. In the guest: ping RTT (20 pings, 0.2 s apart), TCP
# throughput guest -> L1 (tx) and L1 -> guest (rx) of $KITE_BENCH_NET_MIB (default 16) MiB,
# and $KITE_BENCH_NET_RR (default 500) 1-byte request/response round trips (rr), each
# timed in the guest by netbench. N interleaved pairs after one untimed warm-up of each
# (the first run is when TCG translates L1's paths). Each VM gets at most 100 s (the lab's
# silence watchdog is 180 s). Prints on stdout:
#   KITE-BENCH info <text>
#   KITE-BENCH net vmm=kite|qemu run=<i> job=ping|tx|rx|rr <netbench's fields>
#   KITE-BENCH-FAIL net vmm=<..> run=<i> <why>   (+ KITE-BENCH-LOG lines)
#   KITE-BENCH net-median job=<job> metric=<m> kite=<v> qemu=<v> ratio=<kite/qemu>
#     pair_ratio=<median over the pairs of kite/QEMU within a pair>
#   KITE-BENCH-DONE runs=N ok=0|1
LAB=${LAB:-/lab}
n=${KITE_BENCH_NET:-$(cat "$LAB/bench-net" 2>/dev/null || echo 3)}
qemu=${KITE_BENCH_QEMU:-/usr/bin/qemu-system-x86_64}
mib=${KITE_BENCH_NET_MIB:-16}
rr=${KITE_BENCH_NET_RR:-500}
initrd=$LAB/initramfs-net.cpio.gz
tap=kb0
mac=02:4b:49:54:45:09
cmdline="console=ttyS0 kite.test=net_bench kite.net_ip=10.0.9.2/24 kite.net_peer=10.0.9.1 kite.nb_mib=$mib kite.nb_rr=$rr"
# As lab-boot.sh: in the nested lab QEMU gets the CPU kite gives its guest, minus XSAVE.
cpu=host
[ "${KITE_LAB_TIER:-direct}" = nested ] && cpu=host,-xsave
cpu=${KITE_BENCH_QEMU_CPU:-$cpu}
W=$(mktemp -d "${TMPDIR:-/tmp}/kite-netbench.XXXXXX") || exit 1
ok=1

done_fail() { # why
	echo "KITE-BENCH-DONE runs=0 ok=0 error=$*"
	rm -rf "$W"
	exit 1
}

kite_cmd() {
	"$LAB/boot_timer" -t 100 -o "$W/log" KITE-GUEST-DONE -- "$LAB/kite" run \
		--kernel "$LAB/bzImage" --initrd "$initrd" --cmdline "$cmdline" \
		--memory 256M --cpus 1 --net "tap=$tap,mac=$mac"
}
qemu_cmd() {
	"$LAB/boot_timer" -t 100 -o "$W/log" KITE-GUEST-DONE -- "$qemu" -accel kvm -cpu "$cpu" \
		-M microvm -m 256M -smp 1 -nodefaults -no-user-config -display none \
		-serial stdio -no-reboot -kernel "$LAB/bzImage" -initrd "$initrd" \
		-append "$cmdline" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off" \
		-device "virtio-net-device,netdev=n0,mac=$mac"
}

one() { # vmm run
	out=$("${1}_cmd")
	rc=$?
	if [ $rc = 0 ] && grep -q '^KITE-RESULT net_bench PASS' "$W/log" &&
		[ "$(grep -c '^KITE-NETBENCH ' "$W/log")" = 4 ]; then
		grep '^KITE-NETBENCH ' "$W/log" | sed "s/^KITE-NETBENCH /KITE-BENCH net vmm=$1 run=$2 /" | tee -a "$W/all"
		return 0
	fi
	ok=0
	echo "KITE-BENCH-FAIL net vmm=$1 run=$2 $out"
	tail -n 15 "$W/log" | cut -c 1-200 | sed 's/^/KITE-BENCH-LOG | /'
	return 1
}

# median JOB METRIC VMM: of the timed runs' lines in $W/all.
median() {
	grep " vmm=$3 " "$W/all" | grep -v ' run=0 ' | grep " job=$1 " |
		sed -n "s/.* $2=\([0-9.]*\).*/\1/p" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

[ -f "$initrd" ] || done_fail "no $initrd (tests/lab/run --bench-net builds it)"
[ -x "$LAB/netbench" ] && [ -x "$LAB/tapctl" ] || done_fail "no $LAB/netbench or $LAB/tapctl"
"$LAB/tapctl" del $tap >/dev/null 2>&1
"$LAB/tapctl" add $tap && ip addr add 10.0.9.1/24 dev $tap && ip link set dev $tap up ||
	done_fail "cannot make tap $tap"
"$LAB/netbench" server 5201 &
spid=$!
echo "KITE-BENCH info cpus=$(nproc) kernel=$(uname -r) runs=$n mib=$mib rr=$rr cmdline=\"$cmdline\""
echo "KITE-BENCH info qemu=\"$("$qemu" --version 2>&1 | head -n 1)\" cpu=$cpu" \
	"net=\"-netdev tap,ifname=$tap,vhost=off -device virtio-net-device\" kite=\"--net tap=$tap\""
: >"$W/all"
if one kite 0 && one qemu 0; then
	i=1
	while [ $i -le "$n" ]; do
		one kite $i
		one qemu $i
		i=$((i + 1))
	done
fi
# pair_ratio JOB METRIC: the median over the timed pairs of kite's value / QEMU's in the same
# pair (the machine's load drifts between pairs much more than within one).
pair_ratio() {
	for i in $(seq 1 "$n"); do
		k=$(grep " vmm=kite run=$i job=$1 " "$W/all" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p")
		q=$(grep " vmm=qemu run=$i job=$1 " "$W/all" | sed -n "s/.* $2=\([0-9.]*\).*/\1/p")
		[ -n "$k" ] && [ -n "$q" ] && awk -v k="$k" -v q="$q" 'BEGIN { if (q > 0) printf "%.4f\n", k / q }'
	done | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; else print "?" }'
}

for jm in ping:avg_ms ping:min_ms tx:mbps rx:mbps rr:us; do
	j=${jm%%:*} m=${jm#*:}
	k=$(median "$j" "$m" kite) q=$(median "$j" "$m" qemu)
	r=$(awk -v k="$k" -v q="$q" 'BEGIN { if (k != "" && q > 0) printf "%.2f", k / q; else print "?" }')
	echo "KITE-BENCH net-median job=$j metric=$m kite=${k:-?} qemu=${q:-?} ratio=$r pair_ratio=$(pair_ratio "$j" "$m")"
done
kill $spid 2>/dev/null
"$LAB/tapctl" del $tap >/dev/null 2>&1
echo "KITE-BENCH-DONE runs=$n ok=$ok"
rm -rf "$W"
