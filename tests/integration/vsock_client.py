"""Host-side client helpers of kite's hybrid vsock socket, shared by the
vsock tests' scripts (vsock_host.py, vsock_echo.py, vsock_flow.py)."""
import os
import socket
import time


def wait_path(path, seconds=20):
    """Waits until kite has bound the socket file."""
    for _ in range(int(seconds / 0.05)):
        if os.path.exists(path):
            return
        time.sleep(0.05)


def recv_line(s, limit=64):
    """Up to and including a newline, a byte at a time (nothing after it)."""
    line = b""
    while not line.endswith(b"\n") and len(line) < limit:
        c = s.recv(1)
        if not c:
            break
        line += c
    return line


def recv_exact(s, n):
    """n bytes, or fewer at EOF."""
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return buf


def connect(path, port, word=b"CONNECT", retry=True, timeout=30):
    """Connects to kite's socket and sends "<word> <port>\\n"; returns the
    socket and kite's answer line (b"OK <port>\\n", or b"" when kite closed
    the connection). With retry, an empty answer is tried again for a few
    seconds: kite closes a CONNECT that comes before the guest's driver is
    up (no listener to ask yet)."""
    for _ in range(100 if retry else 1):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(word + b" %d\n" % port)
        line = recv_line(s, 32)
        if line or not retry:
            return s, line
        s.close()
        time.sleep(0.05)
    return s, line
