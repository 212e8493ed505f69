#!/bin/bash
# Firecracker mode: `kite firecracker` and the `firecracker` link; --version,
# the API under --id, --no-api --config-file with a raw CPL-3 guest, vCPU
# thread names, metrics (FlushMetrics lines whose counters add up to
# GET /kite/metrics, Prometheus text) and Firecracker-format log lines from
# --log-path and PUT /logger.
. "$(dirname "$0")/lib.sh"
FIRECRACKER=${FIRECRACKER:?FIRECRACKER must point at the firecracker link}

# --version needs no KVM.
first=$("$KITE" firecracker --version | head -1)
second=$("$KITE" firecracker --version | sed -n 2p)
[ "$first" = "Firecracker v1.16.0" ] && ok "kite firecracker --version: $first" ||
	fail "kite firecracker --version first line: '$first'"
case "$second" in kite\ *) ok "--version second line: $second" ;;
*) fail "--version second line: '$second'" ;; esac
first=$("$FIRECRACKER" --version | head -1)
[ "$first" = "Firecracker v1.16.0" ] && ok "firecracker link --version" ||
	fail "firecracker link --version: '$first'"
"$FIRECRACKER" --bogus >/dev/null 2>&1
rc=$?
[ $rc -eq 153 ] && ok "unknown option: exit 153" || fail "unknown option: exit $rc, expected 153"
"$FIRECRACKER" --level Loud >/dev/null 2>&1
rc=$?
[ $rc -eq 152 ] && ok "bad --level: exit 152" || fail "bad --level: exit $rc, expected 152"

need_kvm

wait_for() { # wait_for FILE-TEST PATH
	for _ in $(seq 100); do
		test "$1" "$2" && return 0
		sleep 0.05
	done
	return 1
}

stop() { # stop PID: SIGTERM, returns kite's status
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# 1. The link with --api-sock and --id serves GET / with that id.
sock=$TMP/api.sock
"$FIRECRACKER" --api-sock "$sock" --id fc-test-1 >"$TMP/1.out" 2>"$TMP/1.err" &
pid=$!
if wait_for -S "$sock"; then
	reply=$(api "$sock" GET /)
	case "$reply" in
	200\ *'"id":"fc-test-1"'*'"state":"Not started"'*) ok "GET / names the --id" ;;
	*) fail "GET /: $reply" ;;
	esac
else
	fail "no API socket at $sock: $(cat "$TMP/1.err")"
fi
stop $pid
rc=$?
[ $rc -eq 143 ] && ok "SIGTERM: exit 143" || fail "SIGTERM: exit $rc"
[ -e "$sock" ] && fail "the API socket outlived kite"

# 2. --no-api --config-file: a raw CPL-3 guest boots, its output on stdout,
# vCPU threads named "fc_vcpu N".
cat >"$TMP/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST_DIR/hello_user.bin",
                 "kite": {"mode": "long-user", "load_addr": "0x100000"}},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 64}}
JSON
"$KITE" firecracker --no-api --config-file "$TMP/vm.json" --no-seccomp >"$TMP/2.out" 2>"$TMP/2.err" &
pid=$!
for _ in $(seq 100); do grep -q "hello from ring 3" "$TMP/2.out" && break; sleep 0.05; done
grep -q "hello from ring 3" "$TMP/2.out" && ok "config-file guest output" ||
	fail "no guest output: $(cat "$TMP/2.out" "$TMP/2.err")"
if cat /proc/$pid/task/*/comm 2>/dev/null | grep -qx "fc_vcpu 0"; then
	ok "vCPU thread named 'fc_vcpu 0'"
else
	fail "thread names: $(cat /proc/$pid/task/*/comm 2>/dev/null | tr '\n' ,)"
fi
stop $pid

# 3. Metrics and logs from the command line, with the API.
sock=$TMP/api3.sock
: >"$TMP/metrics"
: >"$TMP/log"
"$FIRECRACKER" --api-sock "$sock" --id fc3 --config-file "$TMP/vm.json" \
	--metrics-path "$TMP/metrics" --log-path "$TMP/log" --level Info --show-level \
	--show-log-origin --seccomp-filter "$TMP/none.bpf" >"$TMP/3.out" 2>"$TMP/3.err" &
pid=$!
wait_for -S "$sock" || fail "no API socket: $(cat "$TMP/3.err")"
for _ in $(seq 100); do grep -q "hello from ring 3" "$TMP/3.out" && break; sleep 0.05; done
r1=$(api "$sock" PUT /actions '{"action_type": "FlushMetrics"}')
r2=$(api "$sock" PUT /actions '{"action_type": "FlushMetrics"}')
[ "${r1%% *}" = 204 ] && [ "${r2%% *}" = 204 ] && ok "FlushMetrics: 204" || fail "FlushMetrics: $r1 / $r2"
api "$sock" GET /kite/metrics "" "$TMP/prom.type" >"$TMP/prom"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/prom.type" &&
	ok "/kite/metrics: Content-Type is Prometheus text" ||
	fail "/kite/metrics: Content-Type $(cat "$TMP/prom.type")"
stop $pid
python3 - "$TMP/metrics" "$TMP/prom" <<'PY' && ok "metrics lines: JSON, deltas add up to /kite/metrics, Prometheus text" || fail "metrics: see above"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 3, f"expected two FlushMetrics lines and the last one, got {len(lines)}"
objs = [json.loads(l) for l in lines]
for o in objs:
    assert list(o)[0] == "utc_timestamp_ms", list(o)[:3]
    assert "vcpu" in o and "kite_vcpu0" in o and "logger" in o, list(o)
first = objs[0]["kite_vcpu0"]["exit_io_out"]
assert first >= 19, f"the guest wrote 19 bytes out, first line counts {first}"
assert objs[1]["kite_vcpu0"]["exit_io_out"] == 0, "a spinning guest adds no exits"
hist = objs[0]["kite_vcpu0"]["exit_handling_ns_log2"]
assert sum(hist) == sum(v for k, v in objs[0]["kite_vcpu0"].items() if k.startswith("exit_") and isinstance(v, int) and k != "exit_handling_ns_sum"), "histogram counts every exit"
status, _, text = open(sys.argv[2]).read().partition(" ")
assert status == "200", status
samples = {}
for l in text.strip().splitlines():
    if l.startswith("#"):
        assert re.match(r"# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram)$", l), l
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\d+)$', l)
    assert m, f"not Prometheus text: {l!r}"
    samples[m.group(1) + (m.group(2) or "")] = int(m.group(3))
prom = samples['kite_vcpu_exits_total{vcpu="0",reason="io_out"}']
summed = sum(o["kite_vcpu0"]["exit_io_out"] for o in objs[:2])
assert prom == summed, f"/kite/metrics io_out {prom}, lines add up to {summed}"
PY
if grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} \[fc3:[^]:]+:INFO:src/[a-z_/]+\.c:[0-9]+\] Running Firecracker v1\.16\.0' "$TMP/log"; then
	ok "--log-path: Firecracker-format lines"
else
	fail "log lines: $(head -3 "$TMP/log")"
fi
grep -q "seccomp-filter is accepted and ignored" "$TMP/log" && ok "ignored option logged" ||
	fail "no line for --seccomp-filter: $(cat "$TMP/log")"

# 4. PUT /logger and PUT /metrics through the API take effect.
sock=$TMP/api4.sock
: >"$TMP/log4"
mkfifo "$TMP/metrics4.fifo"
"$FIRECRACKER" --api-sock "$sock" --id fc4 >"$TMP/4.out" 2>"$TMP/4.err" &
pid=$!
wait_for -S "$sock" || fail "no API socket: $(cat "$TMP/4.err")"
r=$(api "$sock" PUT /logger "{\"log_path\": \"$TMP/log4\", \"level\": \"Info\", \"show_level\": true}")
[ "${r%% *}" = 204 ] || fail "PUT /logger: $r"
r=$(api "$sock" PUT /metrics "{\"metrics_path\": \"$TMP/metrics4.fifo\"}")
[ "${r%% *}" = 204 ] || fail "PUT /metrics: $r"
# A FIFO without a reader: the flush must neither block nor fail kite.
r=$(api "$sock" PUT /actions '{"action_type": "FlushMetrics"}')
[ "${r%% *}" = 204 ] && ok "FlushMetrics to a FIFO nobody reads yet" || fail "FlushMetrics: $r"
line=$(timeout 5 head -1 "$TMP/metrics4.fifo")
case "$line" in '{"utc_timestamp_ms":'*) ok "metrics FIFO line" ;; *) fail "FIFO line: '$line'" ;; esac
stop $pid
grep -Eq '\[fc4:[^]:]+:INFO\] Running Firecracker' "$TMP/log4" && ok "PUT /logger: Firecracker-format lines" ||
	fail "PUT /logger log: $(cat "$TMP/log4")"
finish
