#!/usr/bin/env python3
"""Host side of tests/integration/vsock.sh (Firecracker's hybrid vsock).

usage: vsock_host.py SOCK HOST_PORT NR_CONNS

First serves the guest's own connection at SOCK_<HOST_PORT> (echoes one
line, waits for the guest to close), then connects to SOCK: CONNECT to a
guest port nobody listens on (closed without OK), then NR_CONNS
connections to the guest's echo server on port 1234 that round-trip
messages of several sizes, interleaved, and close. Prints one "ok: ..."
line per check and exits 1 on the first failure."""
import os
import socket
import sys

from vsock_client import connect, recv_exact, recv_line, wait_path

sock_path, host_port, nr_conns = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def die(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lst.bind("%s_%d" % (sock_path, host_port))
lst.listen(4)
lst.settimeout(20)
print("listening", flush=True)
try:
    g, _ = lst.accept()
except socket.timeout:
    die("the guest never connected to %s_%d" % (sock_path, host_port))
g.settimeout(10)
line = recv_line(g)
if line != b"hello from guest\n":
    die("guest-initiated: got %r" % line)
g.sendall(line)
if g.recv(16) != b"":
    die("guest-initiated: no EOF after the guest closed")
print("ok: guest-initiated connection to %s_%d echoed and closed" % (sock_path, host_port))

wait_path(sock_path)
s, line = connect(sock_path, 999, retry=False, timeout=10)
if line != b"" or s.recv(64) != b"":
    die("CONNECT to a port without a guest listener was not closed")
s.close()
print("ok: CONNECT 999 (no guest listener) closed without OK")

conns, ports = [], set()
for i in range(nr_conns):
    s, line = connect(sock_path, 1234, b"connect" if i == 0 else b"CONNECT", timeout=10)
    if not line.startswith(b"OK ") or not line.endswith(b"\n"):
        die("connection %d: expected OK <port>, got %r" % (i, line))
    ports.add(int(line[3:-1]))
    conns.append(s)
if len(ports) != nr_conns:
    die("local ports not distinct: %r" % ports)
print("ok: %d connections accepted (OK %s)" % (nr_conns, sorted(ports)))

total = 0
for size in (1, 100, 4052, 4053, 32768, 60000):
    msgs = [os.urandom(size) for _ in conns]
    for s, m in zip(conns, msgs):
        s.sendall(m)
    for i, (s, m) in enumerate(zip(conns, msgs)):
        back = recv_exact(s, size)
        if back != m:
            die("connection %d: %d-byte echo differs (got %d bytes)" % (i, size, len(back)))
        total += size
print("ok: %d bytes echoed over %d connections" % (total, nr_conns))
for s in conns:
    s.close()
print("ok: closed", flush=True)
