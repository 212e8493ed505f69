#!/bin/bash
# The Firecracker-compatible API (issue 9) on whole VMs, CPL-3 raw guests
# booted through boot-source's documented "kite" extension: the
# getting-started sequence with curl, the Firecracker Go SDK's order and
# Kata Containers' flow replayed by api_client.py (Python standard library
# over AF_UNIX), bodies checked against the spec's definitions, pause and
# resume against a guest printing a sequence, connection limits and
# malformed requests, the socket's path rules, and 1,000 pause/resume pairs
# with kite's fds and RSS flat. Needs this host's KVM (CPL-3 guests only).
. "$(dirname "$0")/lib.sh"
need_kvm
command -v python3 >/dev/null || skip "python3 is absent (scripts/install-deps installs it)"
CLIENT=$(dirname "$0")/api_client.py
SEQ=$GUEST_DIR/seq_user.bin
BOOT='"kite": {"mode": "long-user", "load_addr": "0x100000"}'

# py SCENARIO ARGS...: runs a client scenario; its "ok X" / "fail X" lines
# become lib.sh's ok:/FAIL: lines.
py() {
	local line
	while IFS= read -r line; do
		case $line in
		ok\ *) ok "${line#ok }" ;;
		fail\ *) fail "${line#fail }" ;;
		*) echo "$line" ;;
		esac
	done < <(timeout -k 5 60 python3 "$CLIENT" "$@" 2>&1)
}

# start_kite NAME ARGS...: kite in the background; sets $pid.
start_kite() {
	local name=$1
	shift
	"$KITE" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
}

# stop_kite NAME SOCK [SIGNAL]: the signal ends kite within 15 s, with
# 128+SIG, and the socket file is gone.
stop_kite() {
	local name=$1 sock=$2 sig=${3:-TERM} t=0 code
	kill -"$sig" "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $t -lt 150 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name: SIG$sig did not end kite within 15 s"
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		return
	fi
	wait "$pid"
	code=$?
	ok "$name: SIG$sig ended kite in $((t * 100)) ms"
	[ $code -eq $((128 + $(kill -l "$sig"))) ] && ok "$name: exit $code" ||
		fail "$name: exit $code after SIG$sig; stderr: $(head -c 400 "$TMP/$name.err")"
	[ ! -e "$sock" ] && ok "$name: socket removed at exit" || fail "$name: $sock left behind"
}

# ---- the socket's path -----------------------------------------------------
touch "$TMP/exists"
KITE_TIMEOUT=10 run_kite exists run --api-sock "$TMP/exists"
expect_rc "--api-sock on an existing file" 2
expect_err_line "--api-sock on an existing file" "$TMP/exists.*exists"
[ -f "$TMP/exists" ] && ok "--api-sock leaves the existing file alone" ||
	fail "--api-sock removed or replaced $TMP/exists"

# ---- getting started, with curl ---------------------------------------------
if ! command -v curl >/dev/null; then
	fail "curl is absent (scripts/install-deps installs it)"
else
	S=$TMP/gs.sock
	start_kite gs run --api-sock "$S" --serial-out "$TMP/gs.serial"
	py wait "$S"
	perm=$(stat -c %a "$S" 2>/dev/null)
	[ "$perm" = 600 ] && ok "the socket is mode 0600" || fail "the socket is mode '$perm'"
	C=(curl -sS --max-time 5 --unix-socket "$S" -o "$TMP/gs.body" -w '%{http_code}')
	code=$("${C[@]}" -X PUT http://localhost/machine-config -H 'Accept: application/json' \
		-H 'Content-Type: application/json' -d '{"vcpu_count": 1, "mem_size_mib": 64}')
	[ "$code" = 204 ] && ok "curl: PUT /machine-config -> 204" || fail "curl: PUT /machine-config -> $code $(cat "$TMP/gs.body")"
	code=$("${C[@]}" -X PUT http://localhost/boot-source -H 'Content-Type: application/json' \
		-d "{\"kernel_image_path\": \"$SEQ\", $BOOT}")
	[ "$code" = 204 ] && ok "curl: PUT /boot-source -> 204" || fail "curl: PUT /boot-source -> $code $(cat "$TMP/gs.body")"
	code=$("${C[@]}" -X PUT http://localhost/actions -H 'Content-Type: application/json' \
		-d '{"action_type": "InstanceStart"}')
	[ "$code" = 204 ] && ok "curl: InstanceStart -> 204" || fail "curl: InstanceStart -> $code $(cat "$TMP/gs.body")"
	code=$("${C[@]}" http://localhost/)
	if [ "$code" = 200 ] && grep -q '"state": *"Running"' "$TMP/gs.body"; then
		ok "curl: GET / shows Running"
	else
		fail "curl: GET / -> $code $(cat "$TMP/gs.body")"
	fi
	msg=$(python3 "$CLIENT" validate InstanceInfo <"$TMP/gs.body") &&
		ok "curl: GET / matches InstanceInfo" || fail "curl: GET /: $msg"
	code=$("${C[@]}" http://localhost/machine-config)
	msg=$(python3 "$CLIENT" validate MachineConfiguration <"$TMP/gs.body") &&
		grep -q '"mem_size_mib": *64' "$TMP/gs.body" && ok "curl: GET /machine-config matches MachineConfiguration" ||
		fail "curl: GET /machine-config -> $code $(cat "$TMP/gs.body") $msg"
	code=$("${C[@]}" http://localhost/vm/config)
	msg=$(python3 "$CLIENT" validate FullVmConfiguration <"$TMP/gs.body") &&
		ok "curl: GET /vm/config matches FullVmConfiguration" || fail "curl: GET /vm/config -> $code: $msg"
	code=$("${C[@]}" -X PUT http://localhost/boot-source -d "{\"kernel_image_path\": \"$SEQ\"}")
	msg=$(python3 "$CLIENT" validate Error <"$TMP/gs.body") && [ "$code" = 400 ] &&
		grep -q 'not supported after starting' "$TMP/gs.body" &&
		ok "curl: PUT /boot-source after boot -> 400 Error" || fail "curl: PUT /boot-source after boot -> $code $(cat "$TMP/gs.body") $msg"
	[ -s "$TMP/gs.serial" ] && ok "curl: the guest prints" || fail "curl: no guest output"
	stop_kite gs "$S"
fi

# ---- the Go SDK's order, pause/resume, connections, the soak ----------------
S=$TMP/sdk.sock
truncate -s 1M "$TMP/rootfs.img"
start_kite sdk run --api-sock "$S" --id sdk_vm --serial-out "$TMP/sdk.serial"
py presdk "$S"
# The Go SDK creates the log and metrics files (FIFOs) before PUTting them:
# Firecracker (and kite) open an existing path only.
: >"$TMP/sdk.log"; : >"$TMP/sdk.metrics"
py sdk "$S" "$SEQ" "$TMP/rootfs.img" "$TMP/sdk.log" "$TMP/sdk.metrics"
py pause "$S" "$TMP/sdk.serial" "$pid"
py conns "$S" 51200
# ASan keeps freed memory in quarantine: RSS may grow there without a leak.
margin=2048
grep -q 'libasan\|libclang_rt.asan' "/proc/$pid/maps" 2>/dev/null && margin=65536
py soak "$S" "$TMP/sdk.serial" "$pid" 1000 "$margin"
# SIGTERM must end a paused machine too.
py call "$S" PATCH /vm '{"state": "Paused"}' >/dev/null
stop_kite sdk "$S"

# ---- Kata Containers' flow ---------------------------------------------------
S=$TMP/kata.sock
mkfifo "$TMP/kata.log.fifo" "$TMP/kata.metrics.fifo"
# Readers in the background, as Kata's; kite may not open the FIFOs yet
# (the logger and metrics writers are other work), so they time out.
timeout 30 cat "$TMP/kata.log.fifo" >"$TMP/kata.log" 2>/dev/null &
r1=$!
timeout 30 cat "$TMP/kata.metrics.fifo" >"$TMP/kata.metrics" 2>/dev/null &
r2=$!
truncate -s 1M "$TMP/kata-root.img"
drives="{\"drive_id\": \"rootfs\", \"path_on_host\": \"$TMP/kata-root.img\", \"is_root_device\": true, \"is_read_only\": true}"
for i in 0 1 2 3 4 5 6 7; do
	truncate -s 512K "$TMP/drive_$i.img"
	drives="$drives, {\"drive_id\": \"drive_$i\", \"path_on_host\": \"$TMP/drive_$i.img\", \"is_root_device\": false, \"is_read_only\": false}"
done
cat >"$TMP/kata.json" <<EOF
{
  "boot-source": {"kernel_image_path": "$SEQ", $BOOT},
  "drives": [$drives],
  "machine-config": {"vcpu_count": 1, "mem_size_mib": 64, "smt": false},
  "logger": {"log_path": "$TMP/kata.log.fifo", "level": "Debug", "show_level": true, "show_log_origin": true},
  "metrics": {"metrics_path": "$TMP/kata.metrics.fifo"}
}
EOF
start_kite kata run --config-file "$TMP/kata.json" --api-sock "$S" --serial-out "$TMP/kata.serial"
py kata "$S" 10
stop_kite kata "$S"
kill "$r1" "$r2" 2>/dev/null
wait "$r1" "$r2" 2>/dev/null
# What reached the FIFOs must parse: metrics one JSON object per line.
if [ -s "$TMP/kata.metrics" ]; then
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]' \
		"$TMP/kata.metrics" && ok "kata: metrics lines parse as JSON" || fail "kata: metrics lines do not parse"
else
	echo "note: nothing was written to the metrics FIFO (metrics are not written yet)"
fi
finish
