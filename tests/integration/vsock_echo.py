#!/usr/bin/env python3
"""A host client of kite's hybrid vsock (tests/integration/vsock.sh):
connects to SOCK, sends CONNECT 1234, checks OK, round-trips MSG, prints
"echoed"; with "hold" it then waits for the connection to end and prints
"eof" (or what arrived instead). Exits 1 on a failed check."""
import os
import socket
import sys
import time

path, msg = sys.argv[1], sys.argv[2].encode()
hold = len(sys.argv) > 3 and sys.argv[3] == "hold"
for _ in range(400):
    if os.path.exists(path):
        break
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(path)
s.sendall(b"CONNECT 1234\n")
line = b""
while not line.endswith(b"\n") and len(line) < 32:
    c = s.recv(1)
    if not c:
        break
    line += c
if not line.startswith(b"OK "):
    print("FAIL: expected OK <port>, got %r" % line, flush=True)
    sys.exit(1)
s.sendall(msg)
back = b""
while len(back) < len(msg):
    c = s.recv(len(msg) - len(back))
    if not c:
        break
    back += c
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
