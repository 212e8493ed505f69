#!/usr/bin/env python3
"""Host side of tests/integration/net.sh: on the tap argv[1], through an
AF_PACKET socket (EtherType 0x88b5 only; creates the file argv[2] once
listening), waits for the guest's frames, then sends it three frames (100,
1400 and 9000 bytes). Prints one line per frame seen and sent; exits 1 when the
guest's frames do not all arrive within the timeout. With "echo TAG"
after them: sends a 200-byte frame tagged TAG every half second until the
guest's echo (tag TAG | 0x80) comes back, for at most 10 s. With
"flood PIDFILE" instead: waits for the guest's frame tagged 9, then writes
20000 frames into the tap and prints the CPU time (utime + stime from
/proc) that the main thread (the event loop), and all threads but the
vCPUs, of the kite whose pid PIDFILE holds used meanwhile."""
import os
import socket
import sys
import time

ETYPE = 0x88B5
GUEST = bytes([2, 0, 0, 0, 0, 1])
HOST = bytes([2, 0, 0, 0, 0, 2])


def frame(n, length):
    body = bytes(i & 0xFF for i in range(length - 18))
    return GUEST + HOST + ETYPE.to_bytes(2, "big") + bytes([n]) + b"KRX" + body


def echo(s, tag):
    deadline = time.time() + 10
    while time.time() < deadline:
        s.send(frame(tag, 200))
        end = time.time() + 0.5
        while time.time() < end:
            try:
                f = s.recv(65536)
            except socket.timeout:
                break
            if f[12:14] == ETYPE.to_bytes(2, "big") and f[14] == tag | 0x80:
                print(f"echo {tag} ok len {len(f)}")
                return 0
    print(f"no echo for {tag}")
    return 1


def task_cpu_ms(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime, fields 14 and 15 of stat (11 and 12 after the name)
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_ms(pid):
    """(the main thread's, every thread's but the vCPUs', the vCPUs') CPU
    time in ms;
    vCPU threads are named "vcpu N" by kite. The guest spins in its vCPU,
    so that thread is busy whatever kite does."""
    rest = vcpus = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                vcpu = f.read().startswith("vcpu")
            ms = task_cpu_ms(pid, tid)
        except FileNotFoundError:
            continue  # a thread that ended
        if vcpu:
            vcpus += ms
        else:
            rest += ms
    return task_cpu_ms(pid, pid), rest, vcpus


def flood(s, pidfile):
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            f = s.recv(65536)
        except socket.timeout:
            continue
        if f[12:14] == ETYPE.to_bytes(2, "big") and f[14] == 9:
            break
    else:
        print("no frame tagged 9")
        return 1
    time.sleep(0.2)
    with open(pidfile) as f:
        pid = int(f.read())
    (c0, r0, v0), t0 = cpu_ms(pid), time.time()
    sent = 0
    for i in range(20000):
        try:
            s.send(frame(1, 1000))
            sent += 1
        except OSError:
            time.sleep(0.001)
    time.sleep(1)
    (c1, r1, v1), t1 = cpu_ms(pid), time.time()
    print(f"flood {sent} frames: event loop cpu {c1 - c0:.0f} ms, all threads but the vCPUs "
          f"{r1 - r0:.0f} ms, the spinning vCPU {v1 - v0:.0f} ms, in {(t1 - t0) * 1000:.0f} ms")
    return 0


def main():
    tap = sys.argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETYPE))
    s.bind((tap, 0))
    s.settimeout(0.5)
    open(sys.argv[2], "w").close()  # bound: the guest may start
    if len(sys.argv) > 4 and sys.argv[3] == "echo":
        return echo(s, int(sys.argv[4]))
    if len(sys.argv) > 4 and sys.argv[3] == "flood":
        return flood(s, sys.argv[4])
    seen = []
    deadline = time.time() + 20
    # Frame 3 comes after the oversized frame 2: once it is here, frame 2
    # would have been seen before it had kite let it through.
    while time.time() < deadline and not any(f[14] == 3 for f in seen):
        try:
            f = s.recv(65536)
        except socket.timeout:
            continue
        if f[12:14] == ETYPE.to_bytes(2, "big"):
            seen.append(f)
            print(f"guest frame tag {f[14]} len {len(f)}")
    if not any(f[14] == 3 for f in seen):
        print("guest frames did not all arrive")
        return 1
    for n, length in ((1, 100), (2, 1400), (3, 9000)):
        s.send(frame(n, length))
        print(f"sent {length}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
