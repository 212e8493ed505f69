#!/usr/bin/env python3
"""A host client of kite's hybrid vsock (tests/integration/vsock.sh):
connects to SOCK, sends CONNECT 1234, checks OK, round-trips MSG, prints
"echoed"; with "hold" it then waits for the connection to end and prints
"eof" (or what arrived instead). Exits 1 on a failed check."""
import sys

from vsock_client import connect, recv_exact, wait_path

path, msg = sys.argv[1], sys.argv[2].encode()
hold = len(sys.argv) > 3 and sys.argv[3] == "hold"
wait_path(path)
s, line = connect(path, 1234)
if not line.startswith(b"OK "):
    print("FAIL: expected OK <port>, got %r" % line, flush=True)
    sys.exit(1)
s.sendall(msg)
back = recv_exact(s, len(msg))
if back != msg:
    print("FAIL: echo %r" % back, flush=True)
    sys.exit(1)
print("echoed", flush=True)
if hold:
    try:
        d = s.recv(16)
    except OSError as e:
        d = repr(e).encode()
    print("eof" if d == b"" else "data %r" % d, flush=True)
s.close()
