#!/usr/bin/env python3
"""Host side of tests/integration/net_ns.sh, run inside the test's network
namespace (ip netns exec), where the tap has 10.0.2.1/24.

usage: net_ns.py udp READY
    A UDP responder on 10.0.2.1:7777: a datagram "go N" is answered with
    "reply N" and 92 bytes of padding (108 bytes of UDP payload), sent
    back by the namespace's kernel. Creates READY once bound; runs until
    killed.
usage: net_ns.py rate TAP BPS READY
    The rate-limiter check with the guest's mode 1 (net_ip_guest.c), on
    the tap through an AF_PACKET socket (EtherType 0x88b5): times the
    guest's 9000-byte frames (tag 0x21) until its end of transmit (0x22),
    then offers it frames (tag 0x31, 9000 bytes) at 2 x BPS and times its
    acknowledgements (tag 0x32, its byte count so far) until its end
    (0x33). Each rate is (bytes - BPS) / (last time - first time), the
    bucket's first fill taken out (see average), on the kernel's
    timestamps of the frames passing the tap (SO_TIMESTAMPNS), not this
    process's clock. Prints "tx N B/s" and "rx N B/s";
    exits 1 when a rate could not be measured."""
import socket
import sys
import time

ETYPE = 0x88B5
GUEST = bytes([2, 0, 0, 0, 0, 1])
HOST = bytes([2, 0, 0, 0, 0, 2])
SO_TIMESTAMPNS = 35  # and SCM_TIMESTAMPNS; Python has no names for them
FRAME = 9000  # jumbo: fewer frames for this process to send on a busy host


def udp(ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.0.2.1", 7777))
    open(ready, "w").close()
    while True:
        d, peer = s.recvfrom(2048)
        if d.startswith(b"go "):
            s.sendto(b"reply " + d[3:4] + b"!" * 92 + b"\n", peer)
            print(f"udp: answered {d!r} from {peer[0]}:{peer[1]}", flush=True)


def frame(tag, length):
    return GUEST + HOST + ETYPE.to_bytes(2, "big") + bytes([tag, 0]) + bytes(length - 16)


def ours(f, tag):
    return len(f) >= 24 and f[12:14] == ETYPE.to_bytes(2, "big") and f[14] == tag


def average(points, bps):
    """The limiter's long-run rate from (time, bytes so far) points.

    The bucket starts full (bps bytes) and refills at bps per second, so by
    time t after the first byte no more than bps + bps * t can have passed:
    (bytes - bps) / t is at most bps for a limiter that holds, and falls
    short of it only if the guest could not keep up for longer than a full
    bucket covers. A slope over a short window would not do on a busy host:
    a guest descheduled for a while banks tokens and then rightly bursts."""
    if len(points) < 3 or points[-1][0] <= points[0][0]:
        return None
    return (points[-1][1] - bps) / (points[-1][0] - points[0][0])


def recv_stamped(s):
    """A frame and the kernel's time of its passing the tap (s), so that
    this process being descheduled on a busy host does not bunch up the
    timestamps of frames that waited in the socket."""
    f, anc, _, _ = s.recvmsg(65536, 64)
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            return f, int.from_bytes(data[:8], "little") + int.from_bytes(data[8:16], "little") / 1e9
    raise OSError("no SCM_TIMESTAMPNS on a received frame")


def tx_rate(s, bps):
    """The guest's frames (tag 0x21) until its end of transmit (0x22)."""
    points, total = [], 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            f, t = recv_stamped(s)
        except socket.timeout:
            continue
        if ours(f, 0x22):
            return average(points, bps)
        if ours(f, 0x21):
            total += len(f)
            points.append((t, total))
    return None


def rx_rate(s, bps):
    """The guest's acknowledgements (0x32) until its end (0x33), while the
    host offers 2 x bps (the tap drops what does not fit its queue)."""
    s.setblocking(False)
    start = time.monotonic()
    sent = 0
    points = []
    while time.monotonic() < start + 30:
        now = time.monotonic()
        while sent < 2 * bps * (now - start) + FRAME:
            try:
                s.send(frame(0x31, FRAME))
            except BlockingIOError:
                break
            sent += FRAME
        try:
            while True:
                f, t = recv_stamped(s)
                if ours(f, 0x33):
                    return average(points, bps)
                if ours(f, 0x32):
                    points.append((t, int.from_bytes(f[16:24], "little")))
        except BlockingIOError:
            pass
        time.sleep(0.002)
    return None


def rate(tap, bps, ready):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETYPE))
    s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root only)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.bind((tap, 0))
    s.settimeout(0.5)
    open(ready, "w").close()
    tx = tx_rate(s, bps)
    print(f"tx {tx:.0f} B/s" if tx else "tx: no steady stream from the guest", flush=True)
    if not tx:
        return 1
    rx = rx_rate(s, bps)
    print(f"rx {rx:.0f} B/s" if rx else "rx: no acknowledgements from the guest", flush=True)
    return 0 if rx else 1


def main():
    if sys.argv[1] == "udp":
        udp(sys.argv[2])
    elif sys.argv[1] == "rate":
        return rate(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    return 1


if __name__ == "__main__":
    sys.exit(main())
