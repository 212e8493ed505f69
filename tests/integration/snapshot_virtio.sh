#!/bin/bash
# Snapshots (issue 10) of a VM whose virtio devices are busy: a CPL-3 guest
# (snap_virtio_guest.bin) writes the blocks of a 4 MiB image in batches of
# 16 requests in flight at once, reads them back and verifies them, takes
# entropy from virtio-rng and reports each verified batch on virtio-console
# as "BLK k". It is paused and snapshotted through the API mid-run, killed,
# and restored in a new process (which reopens the disk path the snapshot
# recorded): the BLK lines go on with no gap or repeat, the guest reports no
# verification failure, and the image holds, host-side, the pattern of the
# last block written at every position. A restore whose disk is shorter or
# gone is refused with status 2. With a rate-limited disk the snapshot holds
# requests not yet taken from the ring, and the restored kite serves them.
# Twenty pause/snapshot/resume rounds on one kite each give a snapshot that
# restores and runs on. Needs this host's KVM (CPL-3 guests only).
. "$(dirname "$0")/lib.sh"
need_kvm
command -v curl >/dev/null || skip "curl is absent (scripts/install-deps installs it)"
command -v python3 >/dev/null || skip "python3 is absent (scripts/install-deps installs it)"
GUEST=$GUEST_DIR/snap_virtio_guest.bin
# The guest's limit (rsi, in blocks) for the first scenario: 1.5 passes over
# the 1024-block disk, so that the final image holds blocks last written
# before the snapshot (from 512 up to where the snapshot caught the guest,
# about 720) as well as after it (the rest).
LIMIT=1536
. "$(dirname "$0")/api_lib.sh"

# blk_lines FILE: the number of BLK lines in FILE.
blk_lines() { grep -c '^BLK [0-9]*$' "$1" 2>/dev/null; }

# wait_blk FILE N: up to 20 s for N BLK lines.
wait_blk() {
	for _ in $(seq 400); do [ "$(blk_lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done
	return 1
}

# boot NAME SOCK DISK LIMIT: kite with the API and the guest started at once
# (DISK: --disk's argument).
boot() {
	local name=$1 s=$2 img=$3 limit=$4
	"$KITE" run --api-sock "$s" --image "$GUEST" --mode long-user --load 0x100000 --memory 64M \
		--disk "$img" --rng --console virtio --debug-exit --reg "rsi=$limit" \
		</dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	pids+=("$pid")
	wait_sock "$s" || fail "$name: no API socket; stderr: $(head -c 300 "$TMP/$name.err")"
}

# snap SOCK SNAP MEM: pause and snapshot; fails the check named by the caller
# unless both answer 204.
snap() {
	api "$1" PATCH /vm '{"state": "Paused"}'
	[ "$code" = 204 ] || return 1
	api "$1" PUT /snapshot/create "{\"snapshot_path\": \"$2\", \"mem_file_path\": \"$3\"}"
	[ "$code" = 204 ]
}

# seq_check NAME FILE...: the files' lines, concatenated, are the guest's
# "snapvirt ready blocks 1024", then "BLK 0", "BLK 16", ... with none missing
# or repeated, then (if present) "DONE n rng m" with n the next batch and m
# one rng request per batch; no FAIL line. A last line cut short by a kill
# is ignored. Prints the number of BLK lines in each file.
seq_check() {
	local name=$1 msg
	shift
	msg=$(python3 - "$@" <<'EOF'
import sys
lines, per_file = [], []
for i, path in enumerate(sys.argv[1:]):
    data = open(path, "rb").read().decode("ascii", "replace")
    ls = data.split("\n")
    tail = ls.pop()
    if tail and i == len(sys.argv) - 2:
        pass  # a line still being written when the last process was stopped
    elif tail:
        print("%s ends in a partial line %r" % (path, tail[:30])); sys.exit(1)
    per_file.append(sum(1 for l in ls if l.startswith("BLK ")))
    lines += ls
bad = [l for l in lines if "FAIL" in l]
if bad:
    print("the guest reported %r" % bad[0][:120]); sys.exit(1)
if not lines or lines[0] != "snapvirt ready blocks 1024":
    print("first line %r" % (lines[:1],)); sys.exit(1)
k = 0
for n, l in enumerate(lines[1:], 2):
    if l == "BLK %d" % k:
        k += 16
        continue
    if l == "DONE %d rng %d" % (k, k // 16) and n == len(lines):
        break
    print("line %d is %r, expected 'BLK %d'" % (n, l[:40], k)); sys.exit(1)
print("BLK lines per process %s" % "+".join(map(str, per_file)))
EOF
) && ok "$name: $msg, in order, none missing or repeated" || fail "$name: $msg"
}

# image_check IMG N: every block of IMG holds the pattern of the last block
# number k < N written at its position (k mod blocks), sector by sector, as
# the guest computes it; prints how many positions were last written below
# and at or above SPLIT (the first block of the restored process's batches).
image_check() {
	python3 - "$@" <<'EOF'
import struct, sys
img, n, split = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(img, "rb").read()
M = (1 << 64) - 1
nb = len(data) // 4096
def mix(k, s, i):
    x = (((k * 8 + s) * 0x9e3779b97f4a7c15) & M) ^ ((i * 0xbf58476d1ce4e5b9) & M)
    x ^= x >> 31
    x = (x * 0x94d049bb133111eb) & M
    return x ^ (x >> 29)
def sector(k, s):
    w = [0x50414e5345544b49, k, s] + [mix(k, s, i) for i in range(3, 63)]
    c = 0xcbf29ce484222325
    for v in w:
        c = ((c ^ v) * 0x100000001b3) & M
    return struct.pack("<64Q", *(w + [c]))
before = after = 0
for b in range(nb):
    k = b + (n - 1 - b) // nb * nb if n > b else None
    for s in range(8):
        got = data[(b * 8 + s) * 512:(b * 8 + s + 1) * 512]
        want = sector(k, s) if k is not None else bytes(512)
        if got != want:
            w = struct.unpack("<3Q", got[:24])
            print("block %d sector %d: expected block number %s, found words %x %d %d"
                  % (b, s, k, w[0], w[1], w[2]))
            sys.exit(1)
    if k is not None:
        if k < split: before += 1
        else: after += 1
print("%d blocks checked: %d last written before the snapshot, %d after" % (nb, before, after))
EOF
}

# caught MEM...: from snapshots' memory files (guest RAM by offset), how
# many caught the guest waiting for its blk batch (its phase word at
# 0x262000), how many had blk requests the device had not yet completed in
# the ring (avail idx at 0x201002 ahead of used idx at 0x202002) and how many
# an rng request (0x205002, 0x206002), for the ring layout the guest uses.
caught() {
	python3 - "$@" <<'EOF'
import sys
waiting = ring = rng = 0
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        def u(addr, n=2):
            f.seek(addr)
            return int.from_bytes(f.read(n), "little")
        waiting += u(0x262000, 8) != 0
        ring += u(0x201002) != u(0x202002)
        rng += u(0x205002) != u(0x206002)
print("%d %d %d" % (waiting, ring, rng))
EOF
}

# ---- blk, rng and console busy: snapshot, kill, restore in a new process -------------
IMG=$TMP/disk.img
truncate -s 4M "$IMG"
S=$TMP/a.sock
boot a "$S" "$IMG" $LIMIT
wait_blk "$TMP/a.out" 45 || fail "a: the guest does not report progress: $(head -c 300 "$TMP/a.out") $(head -c 300 "$TMP/a.err")"
snap "$S" "$TMP/a.snap" "$TMP/a.mem" && ok "pause and snapshot of the busy VM -> 204" ||
	fail "pause or snapshot -> $code $body"
sleep 0.3 # let the output already sent reach the file before the kill
kill -KILL "$pid"
wait "$pid" 2>/dev/null
n1=$(blk_lines "$TMP/a.out")
grep -q DONE "$TMP/a.out" && fail "the guest finished before the snapshot: raise LIMIT"
timeout -k 2 30 "$KITE" run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" </dev/null \
	>"$TMP/r.out" 2>"$TMP/r.err"
rc=$?
[ $rc = 0 ] && ok "the restored guest ran to its limit and ended with status 0" ||
	fail "restore: exit $rc; guest: $(grep FAIL "$TMP/r.out" | head -n 1); stderr: $(head -c 400 "$TMP/r.err"); output: $(tail -c 200 "$TMP/r.out")"
n2=$(blk_lines "$TMP/r.out")
[ "$n2" -gt 0 ] && [ "$n1" -gt 0 ] && ok "both processes verified batches ($n1 before, $n2 after)" ||
	fail "$n1 batches before the snapshot, $n2 after"
seq_check "blk across the restore" "$TMP/a.out" "$TMP/r.out"
grep -qx "DONE $LIMIT rng $((LIMIT / 16))" "$TMP/r.out" &&
	ok "the restored guest counted $LIMIT blocks and $((LIMIT / 16)) rng requests, none lost or repeated" ||
	fail "no 'DONE $LIMIT rng $((LIMIT / 16))' line: $(tail -n 2 "$TMP/r.out")"
# The first block of the restored process's first reported batch: the
# batch in flight at the snapshot.
split=$(sed -n 's/^BLK //p' "$TMP/r.out" | head -n 1)
msg=$(image_check "$IMG" $LIMIT "${split:-0}") && ok "host side: $msg" || fail "host side: $msg"
[ "$(stat -c %s "$IMG")" = $((4 << 20)) ] && ok "the image is still 4 MiB" || fail "the image is $(stat -c %s "$IMG") bytes"

# ---- the disk changed under the snapshot ----------------------------------------------
# The snapshot's guest believes the disk has 8192 sectors; a shorter one
# (or none) at the recorded path must stop the restore, not run it.
mv "$IMG" "$TMP/keep.img"
truncate -s 1M "$IMG"
run_kite short run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem"
expect_rc "restore with the disk replaced by a 1 MiB one" 2
grep -q "had 8192 sectors, its image now has 2048" "$err" && ok "the short disk's capacity is named: $(head -n 1 "$err")" ||
	fail "short disk: stderr does not give the capacity: $(head -c 300 "$err")"
[ "$(stat -c %s "$IMG")" = $((1 << 20)) ] && cmp -s "$IMG" <(head -c 1M /dev/zero) &&
	ok "the short disk is left as it was" || fail "the refused restore changed the short disk"
rm -f "$IMG"
run_kite gone run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem"
expect_rc "restore with the disk deleted" 2
grep -q "disk.img" "$err" && ok "the missing disk is named: $(head -n 1 "$err")" ||
	fail "missing disk: stderr does not name it: $(head -c 300 "$err")"
[ ! -e "$IMG" ] && ok "the refused restore created no disk" || fail "a refused restore created $IMG"
mv "$TMP/keep.img" "$IMG"

# ---- requests still in the ring at the snapshot -----------------------------------------
# A pause completes what the disk has started, so the rings above are
# usually empty at the snapshot. With the disk limited to 50 requests a
# second (a batch of 16 writes and 16 reads then takes 0.64 s once the
# bucket's first 50 are spent, which 4 batches do), the requests the limiter
# holds back stay in the avail ring and the restored kite must take them
# from there.
IMG=$TMP/slow.img
truncate -s 4M "$IMG"
S=$TMP/s.sock
boot s "$S" "$IMG,iops=50" 0
wait_blk "$TMP/s.out" 4 || fail "s: the guest does not report progress"
snap "$S" "$TMP/s.snap" "$TMP/s.mem" || fail "slow disk: pause or snapshot -> $code $body"
sleep 0.3
kill -KILL "$pid"
wait "$pid" 2>/dev/null
read -r waiting ring rng < <(caught "$TMP/s.mem")
[ "$ring" = 1 ] && ok "slow disk: the snapshot holds blk requests not yet completed" ||
	fail "slow disk: no requests left in the ring ($waiting $ring $rng)"
timeout -k 2 5 "$KITE" run --restore "$TMP/s.snap" --mem-file "$TMP/s.mem" </dev/null \
	>"$TMP/sr.out" 2>"$TMP/sr.err"
rc=$?
n=$(blk_lines "$TMP/sr.out")
[ $rc = 124 ] && [ "$n" -ge 2 ] && ok "slow disk: the restored guest runs on ($n batches)" ||
	fail "slow disk: restore exit $rc, $n batches; guest: $(grep FAIL "$TMP/sr.out" | head -n 1); stderr: $(head -c 300 "$TMP/sr.err")"
seq_check "slow disk across the restore" "$TMP/s.out" "$TMP/sr.out"

# ---- twenty pause/snapshot/resume rounds on one kite ------------------------------------
IMG=$TMP/loop.img
truncate -s 4M "$IMG"
S=$TMP/l.sock
boot l "$S" "$IMG" 0
wait_blk "$TMP/l.out" 5 || fail "l: the guest does not report progress"
good=0
for i in $(seq 20); do
	if ! snap "$S" "$TMP/l$i.snap" "$TMP/l$i.mem"; then
		fail "round $i: pause or snapshot -> $code $body"
		break
	fi
	sleep 0.1 # the output sent before the pause reaches the file
	# A snapshot does not hold the disk, and this kite writes on after
	# it: keep the image as it is now (paused, so nothing in flight) for
	# this snapshot's restore, as a user who snapshots a VM must.
	cp "$IMG" "$TMP/l$i.img"
	size[i]=$(stat -c %s "$TMP/l.out")
	head -c "${size[i]}" "$TMP/l.out" >"$TMP/l$i.before"
	api "$S" PATCH /vm '{"state": "Resumed"}'
	[ "$code" = 204 ] || { fail "round $i: resume -> $code $body"; break; }
	n=$(blk_lines "$TMP/l.out")
	wait_blk "$TMP/l.out" $((n + 2)) || { fail "round $i: no progress after resume"; break; }
	good=$i
done
[ $good = 20 ] && ok "20 rounds of pause, snapshot, resume: each answered 204 and the guest went on" ||
	fail "only $good of 20 rounds completed"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
seq_check "the snapshotted kite's own output" "$TMP/l.out"
restored=0
for i in $(seq "$good"); do
	cp "$TMP/l$i.img" "$IMG"
	timeout -k 2 1.5 "$KITE" run --restore "$TMP/l$i.snap" --mem-file "$TMP/l$i.mem" </dev/null \
		>"$TMP/l$i.out" 2>"$TMP/l$i.err"
	rc=$?
	n=$(blk_lines "$TMP/l$i.out")
	if [ $rc != 124 ] || [ "$n" -lt 3 ]; then
		fail "round $i: restore exit $rc (expected 124, stopped by timeout), $n batches; guest: $(grep FAIL "$TMP/l$i.out" | head -n 1); stderr: $(head -c 300 "$TMP/l$i.err")"
		continue
	fi
	seq_check "round $i restored" "$TMP/l$i.before" "$TMP/l$i.out" >"$TMP/l$i.check"
	grep -q '^ok:' "$TMP/l$i.check" && restored=$((restored + 1)) || cat "$TMP/l$i.check"
done
[ $restored = 20 ] && ok "all 20 snapshots restored and continued their own sequence" ||
	fail "$restored of 20 snapshots restored and continued"
# The guest spends most of its time waiting for its writes: if no snapshot
# caught it waiting, the restores above did not test requests in flight.
mems=("$TMP/a.mem")
for i in $(seq "$good"); do mems+=("$TMP/l$i.mem"); done
read -r waiting ring rng < <(caught "${mems[@]}")
[ "${waiting:-0}" -gt 0 ] &&
	ok "of ${#mems[@]} snapshots, $waiting caught the guest waiting for a blk batch, $ring with requests still in the ring (avail ahead of used), $rng with an rng request pending" ||
	fail "no snapshot caught the guest waiting for blk requests (${waiting:-?} $ring $rng)"
finish
