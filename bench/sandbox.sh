#!/bin/bash
# bench/sandbox.sh: what the seccomp filters cost, --seccomp on against
# --seccomp off in one run, interleaved (on, off, on, off, ...) so that the
# shared machine's load hits both alike. Prints medians and on/off ratios;
# the aim (issue 12) is at most 5% anywhere. No pass/fail: a benchmark.
#
#   bench/sandbox.sh [-n RUNS] [-b BLK_RUNS]    (KITE=path, default build/kite)
#
# start-up: exec to the guest's first instruction, by bench/harness (the
#   boot-timestamp write that is bench_stamp.s's first instruction, to its
#   line on kite's stderr), as bench/run measures it; also exec to exit.
# virtio-blk: tests/guest/bench_blk.c (the CPL-3 polling driver of
#   bench/run's blk group) on a 64 MiB image in the page cache: sequential
#   1 MiB reads (QD 8) and random 4 KiB reads and writes (QD 32), timed
#   between the guest's two boot-timestamp writes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
KITE=${KITE:-$ROOT/build/kite}
GUESTS=${GUEST_DIR:-$(dirname "$KITE")/tests/guest}
RUNS=20
BLK_RUNS=5
while getopts n:b: o; do
	case $o in
	n) RUNS=$OPTARG ;;
	b) BLK_RUNS=$OPTARG ;;
	*) echo "usage: $0 [-n RUNS] [-b BLK_RUNS]" >&2; exit 2 ;;
	esac
done
for f in "$KITE" "$GUESTS/bench_stamp.bin" "$GUESTS/bench_blk.bin"; do
	[ -e "$f" ] || { echo "not run: $f is missing (meson setup build && ninja -C build)" >&2; exit 2; }
done
[ -c /dev/kvm ] || { echo "not run: no /dev/kvm" >&2; exit 77; }
OUT=$(mktemp -d /tmp/kite-bench-sandbox.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -static -o "$OUT/harness" "$HERE/harness.c" 2>/dev/null ||
	cc -O2 -o "$OUT/harness" "$HERE/harness.c" || exit 1

median() { sort -g | awk '{a[NR] = $1} END {if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
# row NAME UNIT FILE_ON FILE_OFF: medians, ratio on/off, and the cost in %
# (for times: on slower = cost; for rates: on lower = cost).
row() {
	local on off
	on=$(median <"$3")
	off=$(median <"$4")
	awk -v n="$1" -v u="$2" -v a="$on" -v b="$off" 'BEGIN {
		r = a / b; cost = (u == "ms") ? (r - 1) * 100 : (1 - r) * 100
		printf "%-44s %-5s %10.2f %10.2f %7.3f %+7.1f%%%s\n", n, u, a, b, r, cost,
			(cost > 5 ? "  ABOVE 5%" : "") }'
}

# --- start-up ---
stamp=(run --debug-exit --image "$GUESTS/bench_stamp.bin" --mode real --load 0x1000
	--reg rax=2 --reg rbx=2 --timestamps)
for i in $(seq "$RUNS"); do
	for sc in on off; do
		"$OUT/harness" run -n 1 -t 30 -e "$OUT/err" -- "$KITE" "${stamp[@]}" --seccomp $sc >"$OUT/line" ||
			{ echo "harness failed" >&2; exit 1; }
		grep -q "status=0 " "$OUT/line" || { echo "start-up run failed: $(cat "$OUT/line" "$OUT/err")" >&2; exit 1; }
		sed -E 's/.*stamp_ms=([-0-9.]+).*/\1/' "$OUT/line" >>"$OUT/stamp.$sc"
		sed -E 's/.*exit_ms=([-0-9.]+).*/\1/' "$OUT/line" >>"$OUT/exit.$sc"
		: >"$OUT/err"
	done
done

# --- virtio-blk ---
img=$OUT/blk.img
truncate -s 64M "$img"
# blk MODE SIZE COUNT QD SECCOMP: seconds between the guest's stamps 1 and 2.
blk() {
	"$OUT/harness" run -n 1 -t 120 -e "$OUT/err" -- "$KITE" run --debug-exit \
		--image "$GUESTS/bench_blk.bin" --mode long-user --load 0x100000 --disk "$img" \
		--timestamps --reg rdi="$1" --reg rsi="$2" --reg rdx="$3" --reg rcx="$4" \
		--seccomp "$5" >"$OUT/line" || return 1
	grep -q "status=0 " "$OUT/line" || { echo "blk run failed: $(cat "$OUT/line" "$OUT/err")" >&2; return 1; }
	awk '/boot-timestamp port: value 1 at/ {a = $(NF - 1)} /boot-timestamp port: value 2 at/ {b = $(NF - 1)}
		END {if (b > a) printf "%.6f\n", (b - a) / 1000; else exit 1}' "$OUT/err"
	local rc=$?
	: >"$OUT/err"
	return $rc
}
# The guest's sequential write stamps every 4 KiB block (the reads check them).
blk 2 $((1 << 20)) 64 8 off >/dev/null || exit 1
jobs=("seq-read-1M-QD8 1 $((1 << 20)) 64 8 MB/s"
	"rand-read-4K-QD32 3 4096 16384 32 IOPS"
	"rand-write-4K-QD32 4 4096 16384 32 IOPS")
for j in "${jobs[@]}"; do
	set -- $j
	blk "$2" "$3" 16 "$5" on >/dev/null || exit 1 # warm-up
	for i in $(seq "$BLK_RUNS"); do
		for sc in on off; do
			t=$(blk "$2" "$3" "$4" "$5" $sc) || exit 1
			if [ "$6" = MB/s ]; then
				awk -v t="$t" -v n="$4" -v s="$3" 'BEGIN {printf "%.3f\n", n * s / t / 1e6}'
			else
				awk -v t="$t" -v n="$4" 'BEGIN {printf "%.1f\n", n / t}'
			fi >>"$OUT/blk.$1.$sc"
		done
	done
done

echo "kite: $KITE; $RUNS start-up runs and $BLK_RUNS virtio-blk runs each way, interleaved"
printf "%-44s %-5s %10s %10s %7s %8s\n" figure unit "seccomp on" off "on/off" cost
row "start-up: exec to first instruction" ms "$OUT/stamp.on" "$OUT/stamp.off"
row "start-up: exec to exit" ms "$OUT/exit.on" "$OUT/exit.off"
for j in "${jobs[@]}"; do
	set -- $j
	row "virtio-blk $1" "$6" "$OUT/blk.$1.on" "$OUT/blk.$1.off"
done
