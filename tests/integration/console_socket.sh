#!/bin/bash
# --console-socket: the console's host end on a Unix socket. Output written
# before a client connects is replayed; input from the client reaches the
# guest; a second client takes over; a bad path is one clear error.
. "$(dirname "$0")/lib.sh"
need_kvm
command -v python3 >/dev/null || skip "python3 is needed for the socket client"
sock=$TMP/console.sock

client() { # send-after-seconds text expect-substring -> prints what it read
	python3 - "$sock" "$1" "$2" "$3" <<'PY'
import socket, sys, time
path, delay, text, want = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path); break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("no socket")
time.sleep(delay)
s.sendall(text.encode())
s.settimeout(20)
got = b""
while want.encode() not in got:
    d = s.recv(4096)
    if not d:
        break
    got += d
sys.stdout.write(got.decode(errors="replace"))
PY
}

# hvc0 (virtio-console) over the socket; "hvc ready" is printed before the
# client connects and must be replayed.
"$KITE" run --debug-exit --image "$GUEST_DIR/console_guest.bin" --mode long-user --load 0x100000 \
	--console virtio --console-socket "$sock" >"$TMP/k.out" 2>"$TMP/k.err" &
kpid=$!
sleep 1
got=$(client 0.2 'over the socket.' 'bytes')
wait $kpid
rc=$?
[ $rc -eq 0 ] && ok "socket: kite exit 0" || fail "socket: kite exit $rc: $(cat "$TMP/k.err")"
case $got in
"hvc ready"*"over the socket.echoed 16 bytes"*) ok "socket: replay and echo" ;;
*) fail "socket: client read '$got'" ;;
esac
[ ! -s "$TMP/k.out" ] && ok "socket: nothing on stdout" || fail "socket: stdout got $(cat "$TMP/k.out")"
[ ! -e "$sock" ] && ok "socket: removed at exit" || fail "socket: $sock left behind"

# The UART console over the socket, and a second client taking over.
"$KITE" run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user --load 0x100000 \
	--console-socket "$sock" >"$TMP/k2.out" 2>"$TMP/k2.err" &
kpid=$!
python3 - "$sock" <<'PY' &
import socket, sys, time
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.05)
s.sendall(b"first ")
time.sleep(5)
PY
first=$!
sleep 1.5
got=$(client 0.2 'second.' 'second.')
wait $kpid
rc=$?
kill $first 2>/dev/null
[ $rc -eq 0 ] && ok "takeover: kite exit 0" || fail "takeover: kite exit $rc: $(cat "$TMP/k2.err")"
case $got in
*"second."*) ok "takeover: the new client drives the console" ;;
*) fail "takeover: client read '$got'" ;;
esac

# Bad paths fail before the guest starts.
KITE_TIMEOUT=10 run_kite sock-bad run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user \
	--load 0x100000 --console-socket /nonexistent/dir/sock
expect_rc sock-bad 2
expect_err_line sock-bad "--console-socket /nonexistent/dir/sock"
: >"$TMP/exists"
KITE_TIMEOUT=10 run_kite sock-exists run --debug-exit --image "$GUEST_DIR/echo_user.bin" --mode long-user \
	--load 0x100000 --console-socket "$TMP/exists"
expect_rc sock-exists 2
expect_err_line sock-exists "Address already in use"
finish
