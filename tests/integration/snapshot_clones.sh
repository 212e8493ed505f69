#!/bin/bash
# Clones (issue 10): ten restores of one snapshot started at once each run
# on by themselves and each gets its own VM generation ID. The ID device
# exists only in machines booted with --kernel, so the guest is a minimal
# ELF64 "kernel" generated here: at 0x100000, `1: incq 0x101000; jmp 1b`,
# entered in long mode at CPL 0 (emulated on PVM hosts, which is fine for a
# two-instruction loop). The original is paused and snapshotted; ten
# `kite run --restore` processes start together; each answers GET / Running,
# is paused and snapshotted to its own files. From the memory files (RAM
# offset = guest-physical address below 3 GiB): the 16 ID bytes at 0xEF000
# are 11 different non-zero values, every clone's counter at 0x101000 went
# past the original's, and nothing else in RAM differs from the original.
# Each clone logs "generation N announced" once; the original memory file
# is unchanged. Measured and printed, not asserted: clones per second (first
# start to all answering Running) and each clone's RSS. Needs KVM.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v curl >/dev/null || skip "curl is absent (scripts/install-deps installs it)"
command -v python3 >/dev/null || skip "python3 is absent (scripts/install-deps installs it)"
N=10
ID_ADDR=$((0xEF000))
COUNTER_ADDR=$((0x101000))
. "$(dirname "$0")/api_lib.sh"

# snap SOCK SNAP MEM: pause and write a Full snapshot; sets $code, $body.
snap() {
	api "$1" PATCH /vm '{"state": "Paused"}'
	[ "$code" = 204 ] || return
	api "$1" PUT /snapshot/create "{\"snapshot_path\": \"$2\", \"mem_file_path\": \"$3\"}"
}

# memval FILE: "ID-HEX COUNTER" read from a memory file.
memval() {
	python3 - "$1" "$ID_ADDR" "$COUNTER_ADDR" <<'EOF'
import sys
with open(sys.argv[1], "rb") as f:
    f.seek(int(sys.argv[2])); gid = f.read(16)
    f.seek(int(sys.argv[3])); ctr = f.read(8)
print(gid.hex() if len(gid) == 16 else "short", int.from_bytes(ctr, "little") if len(ctr) == 8 else -1)
EOF
}

# rss PID: VmRSS, RssAnon, RssFile, and the guest RAM mapping's resident and
# private (copied-on-write) kB from smaps.
rss() {
	python3 - "$1" <<'EOF'
import sys
pid = sys.argv[1]
st = {}
for line in open("/proc/%s/status" % pid):
    k, _, v = line.partition(":")
    if k in ("VmRSS", "RssAnon", "RssFile"):
        st[k] = v.split()[0]
ram_rss = ram_anon = 0
cur = None
for line in open("/proc/%s/smaps" % pid):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
        cur = f[5] if len(f) > 5 else ""
    elif cur and cur.endswith(".mem") and f[0] == "Rss:":
        ram_rss += int(f[1])
    elif cur and cur.endswith(".mem") and f[0] == "Anonymous:":
        ram_anon += int(f[1])
print("VmRSS %s kB (RssAnon %s, RssFile %s); guest RAM mapping: %d kB resident, %d kB private" %
      (st.get("VmRSS", "?"), st.get("RssAnon", "n/a"), st.get("RssFile", "n/a"), ram_rss, ram_anon))
EOF
}

# ---- the kernel: one PT_LOAD at 1 MiB, 0x2000 bytes, the loop at its entry -----
python3 - "$TMP/tiny.elf" "$COUNTER_ADDR" <<'EOF' || fail "cannot write the test kernel"
import struct, sys
base, counter = 0x100000, int(sys.argv[2])
# incq counter(%rip); jmp back to the incq
code = b"\x48\xff\x05" + struct.pack("<i", counter - (base + 7)) + b"\xeb\xf7"
off = 64 + 56
ehdr = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # ELF64, LSB, version 1
ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base, 64, 0, 0, 64, 56, 1, 64, 0, 0)
phdr = struct.pack("<IIQQQQQQ", 1, 7, off, base, base, len(code), 0x2000, 0x1000)
open(sys.argv[1], "wb").write(ehdr + phdr + code)
EOF

# ---- the original ------------------------------------------------------------------
S=$TMP/orig.sock
"$KITE" run --kernel "$TMP/tiny.elf" --api-sock "$S" --memory 64M --log-level info \
	</dev/null >"$TMP/orig.out" 2>"$TMP/orig.err" &
pid=$!
pids+=("$pid")
wait_sock "$S" || fail "original: no API socket; stderr: $(head -c 400 "$TMP/orig.err")"
api "$S" GET /
echo "$body" | grep -q '"Running"' && ok "original (--kernel tiny ELF) is Running" ||
	fail "original: GET / -> $code $body; stderr: $(head -c 400 "$TMP/orig.err")"
sleep 0.5
snap "$S" "$TMP/orig.snap" "$TMP/orig.mem"
[ "$code" = 204 ] && ok "original paused and snapshotted" || fail "original snapshot -> $code $body"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ -s "$TMP/orig.snap" ] && [ -s "$TMP/orig.mem" ] || {
	fail "no snapshot files from the original: nothing to clone"
	finish
}
read -r id0 ctr0 < <(memval "$TMP/orig.mem")
[ "$id0" != 00000000000000000000000000000000 ] && [ "$id0" != short ] &&
	ok "original's generation ID at 0xEF000: $id0" || fail "original's generation ID is $id0"
[ "$ctr0" -gt 0 ] && ok "original's counter ran to $ctr0" || fail "original's counter is $ctr0: the kernel did not run"
n=$(grep -c 'generation [0-9]* announced' "$TMP/orig.err")
[ "$n" = 0 ] && ok "the booted original announced no new generation" ||
	fail "the original announced $n generations: $(grep announced "$TMP/orig.err" | head -3)"
sum0=$(md5sum <"$TMP/orig.mem")

# ---- ten clones at once --------------------------------------------------------------
t0=$(date +%s%N)
cpids=()
for i in $(seq $N); do
	"$KITE" run --restore "$TMP/orig.snap" --mem-file "$TMP/orig.mem" --api-sock "$TMP/c$i.sock" \
		--log-level info </dev/null >"$TMP/c$i.out" 2>"$TMP/c$i.err" &
	cpids+=($!)
	pids+=($!)
done
# Poll every socket with GET / until each says Running (30 s at most); prints
# each clone's ms from t0 to its first Running, or "-" if it never did.
ready=$(python3 - "$t0" "$TMP" "$N" <<'EOF'
import socket, sys, time
t0, tmp, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
done = {}
deadline = time.time() + 30
while len(done) < n and time.time() < deadline:
    for i in range(1, n + 1):
        if i in done:
            continue
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect("%s/c%d.sock" % (tmp, i))
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
            s.close()
            if b'"Running"' in data:
                done[i] = (time.time_ns() - t0) / 1e6
        except OSError:
            pass
    time.sleep(0.002)
print(" ".join("%.1f" % done[i] if i in done else "-" for i in range(1, n + 1)))
EOF
)
t1=$(date +%s%N)
read -ra ready_ms <<<"$ready"
nready=0
for v in "${ready_ms[@]}"; do [ "$v" != - ] && nready=$((nready + 1)); done
[ "$nready" = $N ] && ok "all $N clones answer GET / Running" || fail "only $nready of $N clones answered Running: $ready"
wall_ms=$(python3 -c "print('%.1f' % max([float(v) for v in '$ready'.split() if v != '-'] or [0]))")

sleep 0.5 # let every clone's counter move on
for i in $(seq $N); do
	p=${cpids[$((i - 1))]}
	api "$TMP/c$i.sock" GET /
	echo "$body" | grep -q '"Running"' || fail "clone $i: GET / -> $code $body; stderr: $(head -c 300 "$TMP/c$i.err")"
	rss_line[i]=$(rss "$p" 2>/dev/null || echo "process gone")
	snap "$TMP/c$i.sock" "$TMP/c$i.snap" "$TMP/c$i.mem"
	[ "$code" = 204 ] || fail "clone $i: pause/snapshot -> $code $body"
done
for p in "${cpids[@]}"; do kill -KILL "$p" 2>/dev/null; done
for p in "${cpids[@]}"; do wait "$p" 2>/dev/null; done

# ---- what each clone's memory says ---------------------------------------------------
declare -A seen=(["$id0"]=orig)
distinct=1 advanced=0 announced=0
for i in $(seq $N); do
	if [ ! -s "$TMP/c$i.mem" ]; then
		fail "clone $i: no memory file"
		continue
	fi
	read -r id ctr < <(memval "$TMP/c$i.mem")
	echo "  clone $i: ID $id, counter $ctr"
	if [ "$id" = 00000000000000000000000000000000 ] || [ "$id" = short ]; then
		fail "clone $i: generation ID is $id"
	elif [ -n "${seen[$id]:-}" ]; then
		fail "clone $i: generation ID $id is the same as ${seen[$id]}'s"
	else
		seen[$id]="clone $i"
		distinct=$((distinct + 1))
	fi
	[ "$ctr" -gt "$ctr0" ] && advanced=$((advanced + 1)) ||
		fail "clone $i: counter $ctr did not move past the snapshot's $ctr0"
	n=$(grep -c 'vmgenid0: info: generation [0-9]* announced' "$TMP/c$i.err")
	[ "$n" = 1 ] && announced=$((announced + 1)) ||
		fail "clone $i: 'generation N announced' logged $n times; stderr: $(head -c 400 "$TMP/c$i.err")"
done
[ $distinct = $((N + 1)) ] && ok "$N clones and the original: $distinct different generation IDs" ||
	fail "$distinct different generation IDs among $N clones and the original"
[ $advanced = $N ] && ok "every clone's counter went on past the original's $ctr0" ||
	fail "$advanced of $N clones' counters went on"
[ $announced = $N ] && ok "every clone logged one 'generation N announced' ($(grep -ho 'generation [0-9]* announced on GSI [0-9]*' "$TMP/c1.err"))" ||
	fail "$announced of $N clones logged their generation once"

# Apart from the ID and the counter, each clone's RAM is the original's.
msg=$(python3 - "$TMP" "$N" "$ID_ADDR" "$COUNTER_ADDR" <<'EOF'
import sys
tmp, n, gid, ctr = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(p):
    b = bytearray(open(p, "rb").read())
    b[gid:gid + 16] = bytes(16)
    b[ctr:ctr + 8] = bytes(8)
    return b
orig = load(tmp + "/orig.mem")
bad = []
for i in range(1, n + 1):
    try:
        c = load("%s/c%d.mem" % (tmp, i))
    except OSError:
        continue
    if len(c) != len(orig):
        bad.append("clone %d: %d bytes, original %d" % (i, len(c), len(orig)))
    elif c != orig:
        pages = [p for p in range(0, len(c), 4096) if c[p:p + 4096] != orig[p:p + 4096]]
        bad.append("clone %d: pages %s differ" % (i, " ".join("0x%x" % p for p in pages[:8])))
print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
) && ok "each clone's RAM is the original's but for the ID and the counter" || fail "clone RAM differs: $msg"

[ "$(md5sum <"$TMP/orig.mem")" = "$sum0" ] && ok "the original memory file is unchanged after $N clones ran" ||
	fail "the clones' writes reached the original memory file"

# ---- measurements (printed, not checked) -----------------------------------------------
echo "  $N clones: $wall_ms ms from the first start until all answered Running" \
	"($(python3 -c "w=float('$wall_ms'); print('%.1f clones/s' % ($N * 1000 / w) if w else 'n/a')"));" \
	"per clone ms: $ready; poll ended after $(((t1 - t0) / 1000000)) ms"
for i in $(seq $N); do echo "  clone $i RSS: ${rss_line[i]}"; done
finish
