#!/bin/bash
# virtio-vsock end to end with Firecracker's hybrid Unix-socket protocol: a
# polling CPL-3 driver (vsock_guest.bin) connects to a host listener at
# PATH_7000 and gets its line echoed, then serves an echo on guest port
# 1234; vsock_host.py (python3) sends CONNECT to a port nobody listens on
# (closed without OK), then opens three connections (CONNECT/connect),
# checks OK <port>, round-trips messages up to 60000 bytes on all three
# interleaved, and closes them, after which the guest exits 0. Then flow
# control (vsock_flow.py): 256 KiB sent to a guest sink that offers 16 KiB
# of credit and consumes only once the data stopped (kite must stop at the
# credit and resume, nothing lost or reordered, its threads idle meanwhile
# but for the vCPU), a host peer closing while
# the guest streams to it (the guest sees RST or SHUTDOWN), and a new
# connection that still echoes. Also the option's errors and the socket
# file's life.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v python3 >/dev/null || skip "python3 is needed for the host side"
sock=$TMP/v.sock
bg=() # background processes, gone whatever way the test ends
trap 'for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
guest=(run --debug-exit --image "$GUEST_DIR/vsock_guest.bin" --mode long-user --load 0x100000)

python3 "$(dirname "$0")/vsock_host.py" "$sock" 7000 3 >"$TMP/host.out" 2>&1 &
host=$!
bg+=($host)
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

# --- credit exhaustion, a peer closing mid-stream, and a connection after ---
fsock=$TMP/f.sock
"$KITE" "${guest[@]}" --vsock "cid=9,uds=$fsock" --reg rdi=9 --reg rsi=3 </dev/null \
	>"$TMP/f.out" 2>"$TMP/f.err" &
fpid=$!
bg+=($fpid)
timeout 60 python3 "$(dirname "$0")/vsock_flow.py" "$fsock" $fpid >"$TMP/flow.out" 2>&1
hrc=$?
cat "$TMP/flow.out"
[ $hrc -eq 0 ] && ok "flow: host side" || fail "flow: host side exit $hrc"
for _ in $(seq 100); do kill -0 $fpid 2>/dev/null || break; sleep 0.1; done
kill -KILL $fpid 2>/dev/null
wait $fpid
rc=$?
[ $rc -eq 0 ] && ok "flow: guest exit 0" ||
	fail "flow: guest exit $rc: $(grep FAIL "$TMP/f.out") $(head -c 400 "$TMP/f.err")"
grep -qx 'sink: sink got 262144 stalls [0-9]*' "$TMP/f.out" && ok "flow: the sink got it all" ||
	fail "flow: sink: $(grep sink "$TMP/f.out")"
grep -qx 'source: host ended it (\(RST\|SHUTDOWN\)) after [0-9]* bytes' "$TMP/f.out" &&
	ok "flow: $(grep '^source:' "$TMP/f.out")" || fail "flow: the guest never saw the source end"
grep -qx 'served 3 connections' "$TMP/f.out" && ok "flow: served 3 connections" ||
	fail "flow: $(head -c 400 "$TMP/f.out")"

# --- snapshot and restore ---
# A live connection when the machine is snapshotted; kite killed; the
# restored kite binds the socket again (the dead one's file removed first,
# as after any kill -9), the guest gets TRANSPORT_RESET, forgets the old
# connection and serves a new one.
if command -v curl >/dev/null; then
	sock2=$TMP/s.sock
	api=$TMP/api.sock
	"$KITE" "${guest[@]}" --api-sock "$api" --vsock "cid=8,uds=$sock2" --reg rdi=8 --reg rsi=1 \
		--reg rcx=1 </dev/null >"$TMP/a.out" 2>"$TMP/a.err" &
	apid=$!
	bg+=($apid)
	python3 "$(dirname "$0")/vsock_echo.py" "$sock2" before hold >"$TMP/p1.out" 2>&1 &
	p1=$!
	bg+=($p1)
	for _ in $(seq 200); do grep -qs echoed "$TMP/p1.out" && break; sleep 0.05; done
	grep -q echoed "$TMP/p1.out" && ok "snapshot: connection live before" ||
		fail "snapshot: no echo before: $(cat "$TMP/p1.out") $(head -c 300 "$TMP/a.err")"
	c1=$(curl -sS --max-time 30 --unix-socket "$api" -o /dev/null -w '%{http_code}' -X PATCH \
		http://localhost/vm -d '{"state": "Paused"}')
	c2=$(curl -sS --max-time 30 --unix-socket "$api" -o /dev/null -w '%{http_code}' -X PUT \
		http://localhost/snapshot/create \
		-d "{\"snapshot_path\": \"$TMP/v.snap\", \"mem_file_path\": \"$TMP/v.mem\"}")
	[ "$c1 $c2" = "204 204" ] && ok "snapshot: paused and written" || fail "snapshot: API $c1 $c2"
	kill -KILL $apid
	wait $apid 2>/dev/null
	wait $p1
	grep -qx eof "$TMP/p1.out" && ok "snapshot: the old connection ended with kite" ||
		fail "snapshot: old client saw $(tail -1 "$TMP/p1.out")"
	rm -f "$sock2" "$api"
	timeout -k 5 30 "$KITE" run --restore "$TMP/v.snap" --mem-file "$TMP/v.mem" </dev/null \
		>"$TMP/r.out" 2>"$TMP/r.err" &
	rpid=$!
	bg+=($rpid)
	python3 "$(dirname "$0")/vsock_echo.py" "$sock2" after >"$TMP/p2.out" 2>&1
	wait $rpid
	rc=$?
	grep -q echoed "$TMP/p2.out" && ok "restore: a new connection echoes" ||
		fail "restore: $(cat "$TMP/p2.out")"
	[ $rc -eq 0 ] && ok "restore: guest exit 0" ||
		fail "restore: exit $rc: $(grep FAIL "$TMP/r.out") $(head -c 400 "$TMP/r.err")"
	grep -qx 'transport reset' "$TMP/r.out" && ok "restore: the guest got TRANSPORT_RESET" ||
		fail "restore: no 'transport reset' in: $(head -c 300 "$TMP/r.out")"
	grep -qx 'served 1 connections' "$TMP/r.out" && ok "restore: served the new connection" ||
		fail "restore: $(head -c 300 "$TMP/r.out")"
	# A clone while the snapshot's socket path is taken (a file left there):
	# refused without --vsock-uds, served on the new path with it.
	: >"$sock2"
	timeout -k 5 30 "$KITE" run --restore "$TMP/v.snap" --mem-file "$TMP/v.mem" </dev/null \
		>"$TMP/r2.out" 2>"$TMP/r2.err"
	rc=$?
	[ $rc -eq 2 ] && ok "restore onto a taken socket path: exit 2" ||
		fail "restore onto a taken socket path: exit $rc $(head -c 300 "$TMP/r2.err")"
	timeout -k 5 30 "$KITE" run --restore "$TMP/v.snap" --mem-file "$TMP/v.mem" \
		--vsock-uds "$TMP/clone.sock" </dev/null >"$TMP/r3.out" 2>"$TMP/r3.err" &
	rpid=$!
	bg+=($rpid)
	python3 "$(dirname "$0")/vsock_echo.py" "$TMP/clone.sock" after >"$TMP/p3.out" 2>&1
	wait $rpid
	rc=$?
	grep -q echoed "$TMP/p3.out" && [ $rc -eq 0 ] &&
		ok "restore with --vsock-uds: served on the new socket" ||
		fail "--vsock-uds: exit $rc, $(cat "$TMP/p3.out") $(head -c 300 "$TMP/r3.err")"
	rm -f "$sock2"
else
	echo "skip: snapshot part (curl is absent)"
fi

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
