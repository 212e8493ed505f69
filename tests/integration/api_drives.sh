#!/bin/bash
# PATCH /drives/{id} after boot, on this host's KVM (tier: fast, a raw CPL-3
# guest): kite started with --api-sock only, configured through the API
# (boot-source with the kite extension, a drive), InstanceStart; then the
# drive is swapped for a bigger file (204) and the guest (cap_user, which
# prints the capacity it reads from the config space) sees the new size;
# a swap to a missing file is refused (400) and the drive keeps its file;
# PATCH before InstanceStart and for an unknown drive are refused too.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v curl >/dev/null || skip "curl is not installed"

SOCK=$TMP/api.sock
truncate -s 1M "$TMP/small.img"
truncate -s 3M "$TMP/big.img"

# api METHOD PATH [BODY]: sets $code and $body.
api() {
	local data=()
	[ $# -ge 3 ] && data=(-H 'Content-Type: application/json' --data "$3")
	body=$(curl -s --max-time 10 --unix-socket "$SOCK" -X "$1" "${data[@]}" \
		-w '\n%{http_code}' "http://localhost$2")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
}

expect_code() {
	if [ "$code" = "$2" ]; then ok "$1: $code"; else fail "$1: HTTP $code, expected $2: $body"; fi
}

# wait_for PATTERN: until the guest's output has it (10 s at most).
wait_for() {
	for _ in $(seq 100); do
		grep -q -- "$1" "$TMP/kite.out" && return 0
		sleep 0.1
	done
	return 1
}

${KITE_WRAP:-} "$KITE" run --api-sock "$SOCK" >"$TMP/kite.out" 2>"$TMP/kite.err" </dev/null &
pid=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { fail "the API socket never appeared: $(cat "$TMP/kite.err")"; kill $pid; finish; }

api PUT /boot-source "{\"kernel_image_path\": \"$GUEST_DIR/cap_user.bin\",
	\"kite\": {\"mode\": \"long-user\", \"load_addr\": \"0x100000\"}}"
expect_code "PUT /boot-source" 204
api PUT /machine-config '{"vcpu_count": 1, "mem_size_mib": 16}'
expect_code "PUT /machine-config" 204
api PUT /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/small.img\",
	\"is_root_device\": false, \"is_read_only\": false}"
expect_code "PUT /drives/data" 204
api PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/big.img\"}"
expect_code "PATCH before InstanceStart" 400
grep -q "not supported before starting" <<<"$body" || fail "PATCH before boot: $body"
api PUT /actions '{"action_type": "InstanceStart"}'
expect_code "InstanceStart" 204
if wait_for "cap=00000800"; then ok "the guest sees 1 MiB (0x800 sectors)"; else
	fail "the guest never printed its 1 MiB capacity: $(cat "$TMP/kite.out")"; fi

api PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/big.img\"}"
expect_code "PATCH to a bigger file" 204
if wait_for "cap=00001800"; then ok "the guest sees 3 MiB (0x1800 sectors)"; else
	fail "the guest never saw the new capacity: $(cat "$TMP/kite.out")"; fi
api GET /vm/config
grep -q "big.img" <<<"$body" && ok "GET /vm/config names the new file" ||
	fail "GET /vm/config: $body"

api PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/missing.img\"}"
expect_code "PATCH to a missing file" 400
grep -q "missing.img" <<<"$body" && ok "the error names the file" || fail "error: $body"
api GET /vm/config
grep -q "big.img" <<<"$body" && ok "the drive keeps its file" || fail "GET /vm/config: $body"
api PATCH /drives/data '{"drive_id": "data", "rate_limiter": {"ops": {"size": 100, "refill_time": 1000}}}'
expect_code "PATCH the rate limiter" 204
api PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/big.img\"}"
expect_code "PATCH to the same file" 204
api PATCH /drives/nope '{"drive_id": "nope"}'
expect_code "PATCH an unknown drive" 400
api PATCH /drives/data '{"drive_id": "other"}'
expect_code "PATCH with mismatched ids" 400
api GET /
grep -q '"Running"' <<<"$body" && ok "still running" || fail "GET /: $body"
truncate -s 2M "$TMP/small.img"
api PATCH /drives/data "{\"drive_id\": \"data\", \"path_on_host\": \"$TMP/small.img\"}"
expect_code "PATCH back to the first file, grown" 204
if wait_for "cap=00001000"; then ok "the guest sees 2 MiB"; else
	fail "the guest never saw 2 MiB: $(cat "$TMP/kite.out")"; fi

kill -TERM $pid
wait $pid
rc=$?
[ "$rc" -eq 143 ] || [ "$rc" -eq 0 ] && ok "kite ended on SIGTERM (status $rc)" ||
	fail "kite ended with status $rc: $(cat "$TMP/kite.err")"
if grep -qi "AddressSanitizer\|runtime error" "$TMP/kite.err"; then
	fail "sanitizer report: $(head -c 2000 "$TMP/kite.err")"
fi
finish
