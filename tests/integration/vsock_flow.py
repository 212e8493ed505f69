#!/usr/bin/env python3
"""Host side of the flow-control part of tests/integration/vsock.sh.

usage: vsock_flow.py SOCK KITE_PID

Against vsock_guest.bin's servers behind kite's hybrid socket SOCK:
1. credit exhaustion: CONNECT 1235 (the guest's sink, 16 KiB of credit,
   consumed only when the data stops): sends 256 KiB of the pattern
   (byte i = i * 131 + (i >> 9)) in one go, so kite must stop at the
   guest's credit and resume on its updates; then shuts its write side and
   expects "sink got 262144 stalls K" (K >= 4) back, then EOF. kite's
   threads but the vCPUs must have used under a quarter of the transfer's
   wall time (utime + stime from /proc): no busy loop while the guest's
   credit is exhausted.
2. a peer closing mid-stream: CONNECT 1236 (the guest's source, streaming
   the pattern), reads and checks 100 KiB, closes while the guest still
   sends.
3. kite still healthy: CONNECT 1234, a 20,000-byte echo round trip.
Prints one "ok: ..." line per check; exits 1 at the first failure."""
import os
import socket
import sys
import time

import vsock_client

path, pid = sys.argv[1], int(sys.argv[2])
TOTAL = 256 * 1024


def die(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def pattern(start, n):
    return bytes(((i * 131) + (i >> 9)) & 0xFF for i in range(start, start + n))


def connect(port):
    s, line = vsock_client.connect(path, port)
    if not line.startswith(b"OK "):
        die("CONNECT %d: expected OK <port>, got %r" % (port, line))
    return s


def cpu_ms():
    """CPU time of kite's threads but the vCPUs ("vcpu N"), in ms."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().startswith("vcpu"):
                    continue
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


vsock_client.wait_path(path)

s = connect(1235)
t0, c0 = time.monotonic(), cpu_ms()
s.sendall(pattern(0, TOTAL))
s.shutdown(socket.SHUT_WR)
reply = b""
while not reply.endswith(b"\n") and len(reply) < 64:
    c = s.recv(64)
    if not c:
        break
    reply += c
words = reply.split()
if len(words) != 5 or words[:3] != [b"sink", b"got", b"%d" % TOTAL] or words[3] != b"stalls":
    die("sink: expected 'sink got %d stalls K', got %r" % (TOTAL, reply))
if int(words[4]) < 4:
    die("sink: only %s stops at the exhausted credit (of %d windows)" % (words[4], TOTAL // 16384))
wall, cpu = (time.monotonic() - t0) * 1000, cpu_ms() - c0
if s.recv(16) != b"":
    die("sink: no EOF after the guest's answer")
s.close()
print("ok: credit exhaustion: %d bytes through 16 KiB of credit, in order, %s stops at the "
      "exhausted credit, %.0f ms" % (TOTAL, words[4].decode(), wall), flush=True)
if cpu > wall / 4:
    die("kite's threads but the vCPUs used %.0f ms of CPU in %.0f ms: busy loop?" % (cpu, wall))
print("ok: kite used %.0f ms of CPU (vCPUs aside) in those %.0f ms" % (cpu, wall), flush=True)

s = connect(1236)
got = vsock_client.recv_exact(s, 100 * 1024)
if got != pattern(0, len(got)) or len(got) != 100 * 1024:
    die("source: %d bytes, pattern %s" % (len(got), "right" if got == pattern(0, len(got)) else "wrong"))
s.close()
print("ok: closed the source connection mid-stream after 100 KiB checked", flush=True)

time.sleep(0.2)
s = connect(1234)
msg = os.urandom(20000)
s.sendall(msg)
if vsock_client.recv_exact(s, len(msg)) != msg:
    die("echo after the mid-stream close differs")
s.close()
print("ok: a new connection echoes after the mid-stream close", flush=True)
