#!/bin/bash
# bench/sandbox.sh: what the sandbox costs (issue 12: "at most 5%
# anywhere"), each figure taken with and without it in one run,
# interleaved (every configuration once per round) so that the shared
# machine's load hits all alike. No pass/fail: a benchmark.
#
#   bench/sandbox.sh [-n RUNS] [-b BLK_RUNS] [-N NET_RUNS] [-c NET_FRAMES] [-J]
#                                        (KITE=path, default build/kite)
#
# Four configurations: seccomp on without the jail, nothing (seccomp off,
# no jail), the jail alone (seccomp off, --jail DIR --uid N --gid N) and
# the whole sandbox (seccomp on and the jail). Three dimensions, each
# against nothing: seccomp, jail, seccomp+jail. The jail needs root (as
# does the network figure: a namespace and a tap); without it those rows
# say "not run". -J leaves the jail out.
#
# start-up: exec to the guest's first instruction, by bench/harness (the
#   boot-timestamp write that is bench_stamp.s's first instruction, to its
#   line on kite's stderr), as bench/run measures it; also exec to exit.
#   The jail's own set-up (mount namespace, pivot_root, a tmpfs /dev, the
#   drop, Landlock) happens inside that span: that is its cost.
# virtio-blk: tests/guest/bench_blk.c (the CPL-3 polling driver of
#   bench/run's blk group) on a 64 MiB image in tmpfs (/dev/shm): sequential
#   1 MiB reads (QD 8) and random 4 KiB reads and writes (QD 32), timed
#   between the guest's two boot-timestamp writes.
# virtio-net: bench/net-pps's guest (tests/guest/bench_net.c) against a tap
#   in a network namespace this script makes and removes: TX sends
#   NET_FRAMES frames of 60 and 1514 bytes, RX counts NET_FRAMES frames
#   that bench/net_floor.c injects, frames per second between the guest's
#   stamps. Without the jail kite runs under `ip netns exec`; jailed, it
#   joins the namespace itself (--netns).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KITE=${KITE:-$ROOT/build/kite}
GUESTS=${GUEST_DIR:-$(dirname "$KITE")/tests/guest}
RUNS=20
BLK_RUNS=5
NET_RUNS=5
NET_FRAMES=100000
JAIL_WANTED=1
usage() {
	echo "usage: $0 [-n RUNS] [-b BLK_RUNS] [-N NET_RUNS] [-c NET_FRAMES] [-J]" >&2
	exit 2
}
while getopts n:b:N:c:J o; do
	case $o in
	n) RUNS=$OPTARG ;;
	b) BLK_RUNS=$OPTARG ;;
	N) NET_RUNS=$OPTARG ;;
	c) NET_FRAMES=$OPTARG ;;
	J) JAIL_WANTED=0 ;;
	*) usage ;;
	esac
done
for f in "$KITE" "$GUESTS/bench_stamp.bin" "$GUESTS/bench_blk.bin" "$GUESTS/bench_net.bin"; do
	[ -e "$f" ] || { echo "not run: $f is missing (meson setup build && ninja -C build)" >&2; exit 2; }
done
[ -c /dev/kvm ] || { echo "not run: no /dev/kvm" >&2; exit 77; }
OUT=$(mktemp -d /tmp/kite-bench-sandbox.XXXXXX)
NS=
IMGDIR=
cleanup() {
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	[ -n "$IMGDIR" ] && rm -rf "$IMGDIR"
	rm -rf "$OUT"
}
trap cleanup EXIT
cc -O2 -static -o "$OUT/harness" "$HERE/harness.c" 2>/dev/null ||
	cc -O2 -o "$OUT/harness" "$HERE/harness.c" || exit 1
t0=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# Configurations: seccomp on/off, jailed or not (the jail's arguments).
CONFS="sc none"
notes=()
JAIL=()
if [ $JAIL_WANTED = 0 ]; then
	notes+=("jail rows: not run (-J)")
elif [ "$(id -u)" -ne 0 ]; then
	notes+=("jail rows: not run (the jail needs root; running as $(id -un))")
else
	ID=4242
	while getent passwd "$ID" >/dev/null || getent group "$ID" >/dev/null; do ID=$((ID + 1)); done
	mkdir "$OUT/jail"
	JAIL=(--jail "$OUT/jail" --uid "$ID" --gid "$ID")
	CONFS="sc none jail both"
fi
# conf_args CONF: kite's options for it.
conf_args() {
	case $1 in
	sc) echo "--seccomp on" ;;
	none) echo "--seccomp off" ;;
	jail) echo "--seccomp off ${JAIL[*]}" ;;
	both) echo "--seccomp on ${JAIL[*]}" ;;
	esac
}

median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# row NAME UNIT FILE_WITH FILE_WITHOUT: medians, ratio with/without, and the
# cost in % (for times: slower with = cost; for rates: lower with = cost).
row() {
	local on off
	[ -s "$3" ] && [ -s "$4" ] || return 0
	on=$(median <"$3")
	off=$(median <"$4")
	awk -v n="$1" -v u="$2" -v a="$on" -v b="$off" 'BEGIN {
		r = a / b; cost = (u == "ms") ? (r - 1) * 100 : (1 - r) * 100
		f = (a >= 1000 ? "%11.0f %11.0f" : "%11.2f %11.2f")
		printf "%-44s %-8s " f " %7.3f %+7.1f%%%s\n", n, u, a, b, r, cost,
			(cost > 5 ? "  ABOVE 5%" : "") }'
}

# --- start-up ---
stamp=(run --debug-exit --image "$GUESTS/bench_stamp.bin" --mode real --load 0x1000
	--reg rax=2 --reg rbx=2 --timestamps)
for _ in $(seq "$RUNS"); do
	for c in $CONFS; do
		# shellcheck disable=SC2046 # conf_args: words, no globbing
		"$OUT/harness" run -n 1 -t 30 -e "$OUT/err" -- "$KITE" "${stamp[@]}" $(conf_args $c) >"$OUT/line" ||
			{ echo "harness failed" >&2; exit 1; }
		grep -q "status=0 " "$OUT/line" || { echo "start-up run ($c) failed: $(cat "$OUT/line" "$OUT/err")" >&2; exit 1; }
		sed -E 's/.*stamp_ms=([-0-9.]+).*/\1/' "$OUT/line" >>"$OUT/stamp.$c"
		sed -E 's/.*exit_ms=([-0-9.]+).*/\1/' "$OUT/line" >>"$OUT/exit.$c"
		: >"$OUT/err"
	done
done

# Seconds between the guest's boot-timestamp writes 1 and 2 in FILE.
stamps() {
	awk '/boot-timestamp port: value 1 at/ {a = $(NF - 1)} /boot-timestamp port: value 2 at/ {b = $(NF - 1)}
		END {if (b > a) printf "%.6f\n", (b - a) / 1000; else exit 1}' "$1"
}

# --- virtio-blk ---
# On tmpfs where there is one: on this host's ext4, random 4 KiB writes
# through the page cache run at ~1,000 IOPS whatever the VMM, which would
# hide what the sandbox costs (tmpfs: ~150,000).
IMGDIR=$OUT
[ -d /dev/shm ] && IMGDIR=$(mktemp -d /dev/shm/kite-bench-sandbox.XXXXXX 2>/dev/null) || IMGDIR=$OUT
img=$IMGDIR/blk.img
truncate -s 64M "$img"
# blk MODE SIZE COUNT QD CONF: seconds between the guest's stamps 1 and 2.
blk() {
	# shellcheck disable=SC2046
	"$OUT/harness" run -n 1 -t 120 -e "$OUT/err" -- "$KITE" run --debug-exit \
		--image "$GUESTS/bench_blk.bin" --mode long-user --load 0x100000 --disk "$img" \
		--timestamps --reg rdi="$1" --reg rsi="$2" --reg rdx="$3" --reg rcx="$4" \
		$(conf_args "$5") >"$OUT/line" || return 1
	grep -q "status=0 " "$OUT/line" || { echo "blk run ($5) failed: $(cat "$OUT/line" "$OUT/err")" >&2; return 1; }
	stamps "$OUT/err"
	local rc=$?
	: >"$OUT/err"
	return $rc
}
# The guest's sequential write stamps every 4 KiB block (the reads check them).
blk 2 $((1 << 20)) 64 8 none >/dev/null || exit 1
jobs=("seq-read-1M-QD8 1 $((1 << 20)) 64 8 MB/s"
	"rand-read-4K-QD32 3 4096 16384 32 IOPS"
	"rand-write-4K-QD32 4 4096 16384 32 IOPS")
for j in "${jobs[@]}"; do
	set -- $j
	blk "$2" "$3" 16 "$5" sc >/dev/null || exit 1 # warm-up
	for _ in $(seq "$BLK_RUNS"); do
		for c in $CONFS; do
			t=$(blk "$2" "$3" "$4" "$5" $c) || exit 1
			if [ "$6" = MB/s ]; then
				awk -v t="$t" -v n="$4" -v s="$3" 'BEGIN {printf "%.3f\n", n * s / t / 1e6}'
			else
				awk -v t="$t" -v n="$4" 'BEGIN {printf "%.1f\n", n / t}'
			fi >>"$OUT/blk.$1.$c"
		done
	done
done

# --- virtio-net ---
NET=0
if [ "$(id -u)" -ne 0 ]; then
	notes+=("virtio-net rows: not run (a network namespace and a tap need root)")
elif [ ! -e /dev/net/tun ] || ! command -v ip >/dev/null; then
	notes+=("virtio-net rows: not run (no /dev/net/tun or no ip(8))")
elif ! cc -O2 -o "$OUT/net_floor" "$HERE/net_floor.c"; then
	notes+=("virtio-net rows: not run (bench/net_floor.c does not compile)")
else
	NS=kbsbx$$
	TAP=kbtap0
	if ip netns add "$NS" && ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1 &&
		ip -n "$NS" tuntap add dev $TAP mode tap && ip -n "$NS" link set $TAP up; then
		NET=1
	else
		notes+=("virtio-net rows: not run (cannot make namespace $NS with tap $TAP)")
	fi
fi
# net MODE LEN CONF: frames per second (mode 0 TX, 1 RX).
net() {
	local pre=(ip netns exec "$NS") extra=()
	case $3 in jail | both)
		pre=()
		extra=(--netns "/var/run/netns/$NS")
		;;
	esac
	# shellcheck disable=SC2046
	timeout 60 "${pre[@]}" "$KITE" run --debug-exit --timestamps --image "$GUESTS/bench_net.bin" \
		--mode long-user --load 0x100000 --net tap=$TAP,mac=02:00:00:00:00:01 \
		--reg rdi="$1" --reg rsi="$NET_FRAMES" --reg rdx="$2" $(conf_args "$3") "${extra[@]}" \
		>"$OUT/net.out" 2>"$OUT/net.err"
	local rc=$? t
	if [ $rc -ne 0 ] || ! grep -q "bench_net done" "$OUT/net.out" || ! t=$(stamps "$OUT/net.err"); then
		echo "net run ($1 $2 $3) failed: exit $rc; $(tail -3 "$OUT/net.err")" >&2
		return 1
	fi
	awk -v t="$t" -v n="$NET_FRAMES" 'BEGIN {printf "%.0f\n", n / t}'
}
# The same injector for every RX run, running across them.
inj=
stop_inj() {
	[ -n "$inj" ] && kill -9 "$inj" 2>/dev/null && wait "$inj" 2>/dev/null
	inj=
}
if [ $NET = 1 ]; then
	for dir in tx rx; do
		for len in 60 1514; do
			mode=0
			if [ $dir = rx ]; then
				mode=1
				ip netns exec "$NS" "$OUT/net_floor" inject $TAP $len >/dev/null 2>"$OUT/inj.err" &
				inj=$!
				sleep 0.1
				kill -0 $inj 2>/dev/null || { echo "the injector ended: $(cat "$OUT/inj.err")" >&2; exit 1; }
			fi
			net $mode $len sc >/dev/null || { stop_inj; exit 1; } # warm-up
			for _ in $(seq "$NET_RUNS"); do
				for c in $CONFS; do
					net $mode $len $c >>"$OUT/net.$dir$len.$c" || { stop_inj; exit 1; }
				done
			done
			stop_inj
		done
	done
fi

echo "kite: $KITE; $RUNS start-up, $BLK_RUNS virtio-blk and $NET_RUNS virtio-net runs per configuration, interleaved"
echo "load average: $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end ($(nproc) CPUs); $(($(date +%s) - t0)) s"
for n in "${notes[@]}"; do echo "$n"; done
# dimension LABEL CONF: every figure, CONF against nothing.
dimension() {
	local c=$2 j
	[ -s "$OUT/stamp.$c" ] || return 0
	echo
	printf "%-44s %-8s %11s %11s %7s %8s\n" "$1" unit with without ratio cost
	row "start-up: exec to first instruction" ms "$OUT/stamp.$c" "$OUT/stamp.none"
	row "start-up: exec to exit" ms "$OUT/exit.$c" "$OUT/exit.none"
	for j in "${jobs[@]}"; do
		set -- $j
		row "virtio-blk $1" "$6" "$OUT/blk.$1.$c" "$OUT/blk.$1.none"
	done
	for d in tx rx; do
		for len in 60 1514; do
			row "virtio-net ${d^^} $len-byte frames" frames/s "$OUT/net.$d$len.$c" "$OUT/net.$d$len.none"
		done
	done
}
dimension "seccomp (on vs off, no jail)" sc
dimension "jail (jailed vs not, seccomp off)" jail
dimension "sandbox (seccomp on + jail vs neither)" both
