# Shared helpers for whole-VM tests. Each test is a script that exits 0
# (pass), 1 (fail) or 77 (skip, with the reason on stdout), as meson expects.
set -u
KITE=${KITE:?KITE must point at the kite binary}
GUEST_DIR=${GUEST_DIR:?GUEST_DIR must point at the built test guests}
TMP=$(mktemp -d /tmp/kite-it.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failures=0

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

need_kvm() {
	[ -c /dev/kvm ] || skip "/dev/kvm is absent: whole-VM tests need KVM"
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "/dev/kvm is not accessible to $(id -un)"
}

# True on hosts whose KVM emulates CPL-0 guest code (PVM, no vmx/svm).
kvm_is_emulated() {
	! grep -qwE 'vmx|svm' /proc/cpuinfo
}

# run_kite NAME [args...]: runs kite with a timeout; sets $rc, $out (stdout
# file) and $err (stderr file). stdin comes from $STDIN_FILE or /dev/null.
run_kite() {
	local name=$1
	shift
	out=$TMP/$name.out
	err=$TMP/$name.err
	timeout -k 5 "${KITE_TIMEOUT:-30}" ${KITE_WRAP:-} "$KITE" "$@" <"${STDIN_FILE:-/dev/null}" >"$out" 2>"$err"
	rc=$?
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		fail "$name: kite hung (timeout)"
	fi
}

expect_rc() {
	if [ "$rc" -eq "$2" ]; then ok "$1: exit $rc"; else fail "$1: exit $rc, expected $2; stderr: $(head -c 600 "$err")"; fi
}

expect_out() {
	printf '%b' "$2" >"$TMP/expected"
	if cmp -s "$out" "$TMP/expected"; then ok "$1: output"; else
		fail "$1: output $(od -c "$out" | head -3), expected $(od -c "$TMP/expected" | head -3)"; fi
}

expect_err_line() {
	# Exactly one line from kite on stderr, mentioning $2.
	local lines
	lines=$(wc -l <"$err")
	if ! grep -q -- "$2" "$err"; then fail "$1: stderr lacks '$2': $(cat "$err")"
	elif [ "$lines" -ne 1 ]; then fail "$1: $lines stderr lines, expected one: $(cat "$err")"
	else ok "$1: message"; fi
}

finish() {
	[ "$failures" -eq 0 ] && exit 0
	echo "$failures check(s) failed"
	exit 1
}

# api SOCK METHOD PATH [BODY [HEADER_FILE]]: prints "STATUS BODY" (a
# script may define its own api() after sourcing this file).
api() {
	python3 - "$@" <<'PY'
import socket, sys
path, method, url = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else b""
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(path)
req = f"{method} {url} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
if body:
    req += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
s.sendall(req.encode() + b"\r\n" + body)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
head, _, rest = data.partition(b"\r\n\r\n")
if len(sys.argv) > 5:  # a header line to save, for the caller to check
    with open(sys.argv[5], "w") as f:
        f.write("\n".join(l for l in head.decode().split("\r\n")
                          if l.lower().startswith("content-type:")))
print(head.split()[1].decode(), rest.decode())
PY
}
