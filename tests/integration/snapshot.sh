#!/bin/bash
# Snapshots (issue 10) on whole VMs with CPL-3 guests: a guest printing a
# sequence is paused, snapshotted through the API, killed, and restored in a
# new process (kite run --restore, and PUT /snapshot/load into a fresh kite):
# the sequence goes on with no number missing or repeated. Also: the memory
# file is sparse; Full, then Diff, then `kite snapshot merge` restores the
# later state; ten clones restored at once each run on; and every refusal
# (a running VM, a damaged or truncated file, a wrong memory file, a Diff
# without dirty tracking, load after configuring) is a clear error with
# nothing else touched. Needs this host's KVM (CPL-3 guests only).
. "$(dirname "$0")/lib.sh"
need_kvm
command -v curl >/dev/null || skip "curl is absent (scripts/install-deps installs it)"
command -v python3 >/dev/null || skip "python3 is absent (scripts/install-deps installs it)"
SEQ=$GUEST_DIR/seq_user.bin
BOOT='"kite": {"mode": "long-user", "load_addr": "0x100000"}'
. "$(dirname "$0")/api_lib.sh"

# lines FILE: the number of whole sequence lines in FILE.
lines() { grep -c '^[0-9a-f]\{8\}$' "$1" 2>/dev/null; }

# wait_lines FILE N: up to 10 s for N lines.
wait_lines() {
	for _ in $(seq 200); do [ "$(lines "$1")" -ge "$2" ] && return 0; sleep 0.05; done
	return 1
}

# seq_ok NAME FILE...: the files' bytes, concatenated, are "00000000\n",
# "00000001\n", ... with nothing missing, repeated or torn (a line may be cut
# at the end of one file and go on at the start of the next).
seq_ok() {
	local name=$1 msg
	shift
	msg=$(cat "$@" | python3 -c '
import sys
data = sys.stdin.read()
lines = data.split("\n")
if lines and lines[-1] == "":
    lines.pop()
elif lines:
    lines.pop()  # a line still being printed
for i, l in enumerate(lines):
    if l != "%08x" % i:
        print("line %d is %r" % (i, l[:20])); sys.exit(1)
print(len(lines))
') && ok "$name: $msg numbers in order, none missing or repeated" || fail "$name: $msg"
}

# run_for SECS NAME ARGS...: kite for SECS seconds (a guest that runs forever is
# ended by the timeout); sets $rc, $out, $err.
run_for() {
	local secs=$1 name=$2
	shift 2
	out=$TMP/$name.out
	err=$TMP/$name.err
	timeout -k 2 "$secs" "$KITE" "$@" </dev/null >"$out" 2>"$err"
	rc=$?
}

# boot NAME SOCK SERIAL [MACHINE-CONFIG]: kite with the API, the sequence guest started.
boot() {
	local name=$1 s=$2 serial=$3 mc=${4:-'{"vcpu_count": 1, "mem_size_mib": 64}'}
	"$KITE" run --api-sock "$s" --serial-out "$serial" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	pids+=("$pid")
	wait_sock "$s" || fail "$name: no API socket"
	api "$s" PUT /machine-config "$mc"
	api "$s" PUT /boot-source "{\"kernel_image_path\": \"$SEQ\", $BOOT}"
	api "$s" PUT /actions '{"action_type": "InstanceStart"}'
	[ "$code" = 204 ] || fail "$name: InstanceStart -> $code $body"
}

# snap SOCK SNAP MEM [TYPE]: pause (if running) and snapshot; sets $code.
snap() {
	api "$1" PATCH /vm '{"state": "Paused"}'
	api "$1" PUT /snapshot/create "{\"snapshot_path\": \"$2\", \"mem_file_path\": \"$3\"${4:+, \"snapshot_type\": \"$4\"}}"
}

# ---- create, kill, restore from the command line -----------------------------
S=$TMP/a.sock
boot a "$S" "$TMP/a.serial"
wait_lines "$TMP/a.serial" 20 || fail "a: the guest does not print"
api "$S" PUT /snapshot/create "{\"snapshot_path\": \"$TMP/x\", \"mem_file_path\": \"$TMP/x.mem\"}"
[ "$code" = 400 ] && echo "$body" | grep -q "Paused" && ok "snapshot of a running VM: 400 naming the pause" ||
	fail "snapshot of a running VM -> $code $body"
[ ! -e "$TMP/x" ] && [ ! -e "$TMP/x.mem" ] && ok "a refused snapshot writes no file" || fail "a refused snapshot left files"
snap "$S" "$TMP/a.snap" "$TMP/a.mem"
[ "$code" = 204 ] && ok "PUT /snapshot/create (Full) -> 204" || fail "PUT /snapshot/create -> $code $body"
sleep 0.3
n1=$(lines "$TMP/a.serial")
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -s "$TMP/a.snap" ] && [ -s "$TMP/a.mem" ] && ok "state and memory files written" || fail "snapshot files missing"
size=$(stat -c %s "$TMP/a.mem")
used=$(($(stat -c %b "$TMP/a.mem") * $(stat -c %B "$TMP/a.mem")))
[ "$size" = $((64 << 20)) ] && ok "memory file is the guest's 64 MiB" || fail "memory file is $size bytes"
[ "$used" -lt $((4 << 20)) ] && ok "memory file is sparse ($((used >> 10)) KiB on disk of $((size >> 20)) MiB)" ||
	fail "memory file uses $used bytes on disk: zero pages were written"
run_for 3 restore run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem"
[ "$rc" = 124 ] && ok "kite run --restore ran until stopped" || fail "kite run --restore: exit $rc"
n2=$(lines "$out")
[ "$n2" -gt 10 ] && ok "kite run --restore: the guest runs on ($n2 more lines)" ||
	fail "kite run --restore: $n2 lines; stderr: $(head -c 400 "$err")"
seq_ok "restored sequence" "$TMP/a.serial" "$out"
[ "$n1" -gt 0 ] || fail "no output before the snapshot"

# ---- working set: recorded by one restore, prefetched by the next ------------
run_for 2 wsrec run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" --record-working-set=300 \
	--log-level info
[ -s "$TMP/a.snap.ws" ] && grep -q "working set recorded" "$err" &&
	ok "--record-working-set wrote a.snap.ws" || fail "no working set: $(head -c 300 "$err")"
run_for 2 wsuse run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" --log-level info
grep -q "prefetching the working set" "$err" && ok "the next restore prefetches it" ||
	fail "no prefetch: $(head -c 300 "$err")"
seq_ok "restored with a prefetch" "$TMP/a.serial" "$out"
run_for 2 wsno run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" --log-level info --no-prefetch
grep -q "prefetching" "$err" && fail "--no-prefetch prefetched" || ok "--no-prefetch: none"
printf 'KITEWSET junk' >"$TMP/a.snap.ws"
run_for 2 wsbad run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem"
grep -q "working set not used" "$err" && [ "$(lines "$out")" -gt 5 ] &&
	ok "a damaged working set is ignored with a warning, the restore runs" ||
	fail "damaged working set: $(head -c 300 "$err")"
rm -f "$TMP/a.snap.ws"

# ---- inspect -------------------------------------------------------------------
"$KITE" snapshot inspect "$TMP/a.snap" >"$TMP/inspect.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q machine "$TMP/inspect.out" && grep -q cpu "$TMP/inspect.out" &&
	grep -q devices "$TMP/inspect.out" && ok "kite snapshot inspect: exit 0, lists the sections" ||
	fail "inspect: exit $rc $(head -c 300 "$TMP/inspect.out")"

# ---- refusals: damaged files ------------------------------------------------------
cp "$TMP/a.snap" "$TMP/bad.snap"
len=$(stat -c %s "$TMP/bad.snap")
printf '\xff' | dd of="$TMP/bad.snap" bs=1 seek=$((len - 20)) conv=notrunc status=none
run_kite corrupt run --restore "$TMP/bad.snap" --mem-file "$TMP/a.mem"
expect_rc "a flipped byte in the state file" 2
grep -qi "checksum" "$err" && ok "a flipped byte: the checksum names it" || fail "flipped byte: $(head -c 300 "$err")"
"$KITE" snapshot inspect "$TMP/bad.snap" >/dev/null 2>&1
[ $? = 2 ] && ok "inspect of a damaged file: exit 2" || fail "inspect of a damaged file: exit $?"
# Sound files whose header says something else: another host, another format.
PATCH=$(dirname "$0")/snap_patch.py
python3 "$PATCH" "$TMP/a.snap" "$TMP/host.snap" cpuid_crc 0x12345678
run_kite otherhost run --restore "$TMP/host.snap" --mem-file "$TMP/a.mem"
expect_rc "a snapshot from a host with another CPUID" 2
grep -q "another host.*CPUID" "$err" && ok "another host: the CPUID is named" ||
	fail "another host: $(head -c 300 "$err")"
python3 "$PATCH" "$TMP/a.snap" "$TMP/xsave.snap" xsave_size 0x2b00
run_kite otherxsave run --restore "$TMP/xsave.snap" --mem-file "$TMP/a.mem"
expect_rc "a snapshot from a host with another XSAVE size" 2
grep -qi "xsave" "$err" && ok "another XSAVE size is named" || fail "xsave: $(head -c 300 "$err")"
python3 "$PATCH" "$TMP/a.snap" "$TMP/v2.snap" version 2
run_kite version run --restore "$TMP/v2.snap" --mem-file "$TMP/a.mem"
expect_rc "a snapshot of another format version" 2
grep -q "version 2" "$err" && ok "another format version is named" || fail "version: $(head -c 300 "$err")"
"$KITE" snapshot inspect "$TMP/host.snap" >"$TMP/inspect-host.out" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "does not match" "$TMP/inspect-host.out" &&
	ok "inspect of another host's snapshot: a sound file (0) that does not match this host" ||
	fail "inspect other host: exit $rc $(grep -i match "$TMP/inspect-host.out")"
head -c $((len / 2)) "$TMP/a.snap" >"$TMP/short.snap"
run_kite truncated run --restore "$TMP/short.snap" --mem-file "$TMP/a.mem"
expect_rc "a truncated state file" 2
printf 'NOTASNAPSHOT' >"$TMP/junk.snap"
run_kite junk run --restore "$TMP/junk.snap" --mem-file "$TMP/a.mem"
expect_rc "not a snapshot" 2
truncate -s 1M "$TMP/small.mem"
run_kite smallmem run --restore "$TMP/a.snap" --mem-file "$TMP/small.mem"
expect_rc "a memory file smaller than the guest's RAM" 2
grep -q "small.mem" "$err" && ok "the small memory file is named" || fail "small mem: $(head -c 300 "$err")"
run_kite nomem run --restore "$TMP/a.snap" --mem-file "$TMP/absent.mem"
expect_rc "a missing memory file" 2
run_kite both run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" --memory 128M
expect_rc "--restore with a guest option" 2
run_kite nomemopt run --restore "$TMP/a.snap"
expect_rc "--restore without --mem-file" 2
ls "$TMP" | grep -qE '\.(snap|mem)\.[A-Za-z0-9]{6}$' && fail "a temporary file was left behind" ||
	ok "no temporary files left"

# ---- PUT /snapshot/load into a fresh kite, paused, then resumed -------------------
S=$TMP/b.sock
"$KITE" run --api-sock "$S" </dev/null >"$TMP/b.out" 2>"$TMP/b.err" &
pid=$!
pids+=("$pid")
wait_sock "$S"
api "$S" PUT /snapshot/load "{\"snapshot_path\": \"$TMP/a.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$TMP/a.mem\"}}"
[ "$code" = 204 ] && ok "PUT /snapshot/load -> 204" || fail "PUT /snapshot/load -> $code $body"
api "$S" GET /
echo "$body" | grep -q '"Paused"' && ok "loaded without resume_vm: Paused" || fail "after load: $body"
sleep 0.3
[ "$(lines "$TMP/b.out")" = 0 ] && ok "a paused restored VM prints nothing" || fail "paused restored VM printed"
api "$S" PATCH /vm '{"state": "Resumed"}'
[ "$code" = 204 ] && ok "PATCH /vm Resumed after load -> 204" || fail "resume after load -> $code $body"
wait_lines "$TMP/b.out" 10 && ok "the loaded guest runs after resume" || fail "loaded guest silent"
seq_ok "loaded sequence" "$TMP/a.serial" "$TMP/b.out"
# A snapshot of a restored VM, restored again.
snap "$S" "$TMP/b.snap" "$TMP/b.mem"
[ "$code" = 204 ] && ok "a snapshot of a restored VM -> 204" || fail "snapshot of restored VM -> $code $body"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
run_for 2 again run --restore "$TMP/b.snap" --mem-file "$TMP/b.mem"
seq_ok "snapshot of a restored VM, restored" "$TMP/a.serial" "$TMP/b.out" "$out"

# ---- load refusals ---------------------------------------------------------------
S=$TMP/c.sock
"$KITE" run --api-sock "$S" </dev/null >"$TMP/c.out" 2>"$TMP/c.err" &
pid=$!
pids+=("$pid")
wait_sock "$S"
api "$S" PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 64}'
api "$S" PUT /snapshot/load "{\"snapshot_path\": \"$TMP/a.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$TMP/a.mem\"}}"
[ "$code" = 400 ] && echo "$body" | grep -q "after configuring" && ok "load after configuring: 400" ||
	fail "load after configuring -> $code $body"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
S=$TMP/d.sock
"$KITE" run --api-sock "$S" </dev/null >"$TMP/d.out" 2>"$TMP/d.err" &
pid=$!
pids+=("$pid")
wait_sock "$S"
api "$S" PUT /snapshot/load "{\"snapshot_path\": \"$TMP/bad.snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$TMP/a.mem\"}}"
[ "$code" = 400 ] && ok "load of a damaged snapshot: 400 ($(echo "$body" | head -c 120))" || fail "damaged load -> $code $body"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid"
rc=$?
[ $rc = 2 ] && ok "a failed load ends kite with status 2" || fail "failed load: kite exit $rc"
[ ! -e "$S" ] && ok "the socket is removed after a failed load" || fail "socket left after failed load"

# ---- Diff needs track_dirty_pages; Full, Diff, merge --------------------------------
S=$TMP/e.sock
boot e "$S" "$TMP/e.serial"
wait_lines "$TMP/e.serial" 5
snap "$S" "$TMP/e.snap" "$TMP/e.mem" Diff
[ "$code" = 400 ] && echo "$body" | grep -q track_dirty_pages && ok "Diff without track_dirty_pages: 400" ||
	fail "Diff without tracking -> $code $body"
kill -KILL "$pid"; wait "$pid" 2>/dev/null
S=$TMP/f.sock
boot f "$S" "$TMP/f.serial" '{"vcpu_count": 1, "mem_size_mib": 64, "track_dirty_pages": true}'
wait_lines "$TMP/f.serial" 5
snap "$S" "$TMP/f.snap" "$TMP/f.mem" Full
[ "$code" = 204 ] && ok "Full with tracking -> 204" || fail "Full with tracking -> $code $body"
api "$S" PATCH /vm '{"state": "Resumed"}'
n=$(lines "$TMP/f.serial")
wait_lines "$TMP/f.serial" $((n + 20)) && ok "after a snapshot the original resumes and runs on" ||
	fail "the original did not run on after its snapshot and resume"
snap "$S" "$TMP/g.snap" "$TMP/g.mem" Diff
if [ "$code" = 204 ]; then
	ok "Diff -> 204"
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
	d=$(($(stat -c %b "$TMP/g.mem") * $(stat -c %B "$TMP/g.mem")))
	f=$(($(stat -c %b "$TMP/f.mem") * $(stat -c %B "$TMP/f.mem")))
	[ "$d" -gt 0 ] && [ "$d" -lt "$f" ] && ok "the Diff memory file is smaller on disk ($((d >> 10)) KiB vs Full $((f >> 10)) KiB)" ||
		fail "Diff $d bytes on disk, Full $f"
	"$KITE" snapshot merge "$TMP/f.mem" "$TMP/g.mem" >"$TMP/merge.out" 2>&1 &&
		ok "kite snapshot merge: exit 0" || fail "merge: $(head -c 300 "$TMP/merge.out")"
	run_for 2 diff run --restore "$TMP/g.snap" --mem-file "$TMP/f.mem"
	seq_ok "Full + Diff merged, restored" "$TMP/f.serial" "$out"
else
	fail "Diff -> $code $body"
	kill -KILL "$pid"; wait "$pid" 2>/dev/null
fi

# ---- ten clones at once ---------------------------------------------------------------
sum0=$(md5sum <"$TMP/a.mem")
cpids=()
for i in $(seq 10); do
	timeout -k 2 3 "$KITE" run --restore "$TMP/a.snap" --mem-file "$TMP/a.mem" \
		</dev/null >"$TMP/clone$i.out" 2>"$TMP/clone$i.err" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
good=0
for i in $(seq 10); do
	[ "$(lines "$TMP/clone$i.out")" -gt 5 ] && good=$((good + 1))
	seq_ok "clone $i" "$TMP/a.serial" "$TMP/clone$i.out" >/dev/null || fail "clone $i: sequence broken"
done
[ $good = 10 ] && ok "10 clones of one snapshot at once all run on" || fail "only $good of 10 clones ran"
[ "$(md5sum <"$TMP/a.mem")" = "$sum0" ] && ok "the memory file is unchanged by its clones' writes" ||
	fail "the clones' writes reached the memory file"

[ $failures -eq 0 ] || exit 1
