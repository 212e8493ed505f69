#!/bin/bash
# virtio-vsock end to end with Firecracker's hybrid Unix-socket protocol: a
# polling CPL-3 driver (vsock_guest.bin) connects to a host listener at
# PATH_7000 and gets its line echoed, then serves an echo on guest port
# 1234; vsock_host.py (python3) sends CONNECT to a port nobody listens on
# (closed without OK), then opens three connections (CONNECT/connect),
# checks OK <port>, round-trips messages up to 60000 bytes on all three
# interleaved, and closes them, after which the guest exits 0. Also the
# option's errors and the socket file's life.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v python3 >/dev/null || skip "python3 is needed for the host side"
sock=$TMP/v.sock
guest=(run --debug-exit --image "$GUEST_DIR/vsock_guest.bin" --mode long-user --load 0x100000)

python3 "$(dirname "$0")/vsock_host.py" "$sock" 7000 3 >"$TMP/host.out" 2>&1 &
host=$!
for _ in $(seq 100); do grep -q listening "$TMP/host.out" && break; sleep 0.05; done
timeout -k 5 30 "$KITE" "${guest[@]}" --vsock "cid=7,uds=$sock" --reg rdi=7 --reg rsi=3 \
	--reg rdx=7000 </dev/null >"$TMP/kite.out" 2>"$TMP/kite.err"
rc=$?
wait $host
hrc=$?
grep '^ok: \|^FAIL' "$TMP/host.out"
[ $hrc -eq 0 ] && ok "host side: all checks" || fail "host side exit $hrc: $(tail -3 "$TMP/host.out")"
if [ $rc -eq 0 ]; then ok "guest: exit 0"; else
	fail "guest: exit $rc; guest said: $(grep FAIL "$TMP/kite.out"); stderr: $(head -c 600 "$TMP/kite.err")"
fi
for l in 'vsock ready cid 7' 'OK guest-connect' 'OK guest-refused' 'served 3 connections'; do
	grep -qx "$l" "$TMP/kite.out" && ok "guest: '$l'" || fail "guest: no '$l' in: $(head -c 400 "$TMP/kite.out")"
done
[ -e "$sock" ] && fail "the socket file outlived kite" || ok "socket file removed at exit"

# Bad options: one line, status 2.
run_kite bad-cid "${guest[@]}" --vsock "cid=2,uds=$sock"
expect_rc bad-cid 2
expect_err_line bad-cid "cid=2"
run_kite no-uds "${guest[@]}" --vsock "cid=3"
expect_rc no-uds 2
expect_err_line no-uds "expected cid=N,uds=PATH"
: >"$TMP/exists"
run_kite uds-exists "${guest[@]}" --vsock "cid=3,uds=$TMP/exists"
expect_rc uds-exists 2
expect_err_line uds-exists "the path exists"
[ -f "$TMP/exists" ] && ok "uds-exists: the file was left alone" || fail "uds-exists: file removed"
finish
