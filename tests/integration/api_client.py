#!/usr/bin/env python3
"""Client side of tests/integration/api.sh: Firecracker API calls over the
AF_UNIX socket with the Python standard library only (http.client with a
Unix connection class, and raw sockets for what http.client will not send),
a small checker for the spec's definitions, and the scenarios the shell
script runs against a live kite.

Each scenario prints one line per check, "ok <what>" or "fail <what>", which
api.sh turns into lib.sh's ok:/FAIL: lines. The spec the definitions come
from is Firecracker's swagger file (firecracker-api.yaml); CI machines do not
have it, so the few definitions the tests need are written out here.
"""
import http.client
import json
import os
import re
import socket
import sys
import threading
import time

# ---- the spec's definitions (the subset the tests check) ----
# type: JSON type; enum: allowed values; required; props: known fields.
# Responses must hold no field outside props (Firecracker's serde structs
# emit exactly these); requests are checked the same way, except that
# boot-source may carry kite's documented "kite" extension.
STR, INT, BOOL, OBJ, ARR = "string", "integer", "boolean", "object", "array"

DEFS = {
    "InstanceInfo": {
        "required": ["app_name", "id", "state", "vmm_version"],
        "props": {
            "app_name": {"type": STR},
            "id": {"type": STR},
            "state": {"type": STR, "enum": ["Not started", "Running", "Paused"]},
            "vmm_version": {"type": STR},
        },
    },
    "FirecrackerVersion": {
        "required": ["firecracker_version"],
        "props": {"firecracker_version": {"type": STR}},
    },
    "MachineConfiguration": {
        "required": ["mem_size_mib", "vcpu_count"],
        "props": {
            "cpu_template": {"type": STR,
                             "enum": ["C3", "T2", "T2S", "T2CL", "T2A", "V1N1", "None"]},
            "smt": {"type": BOOL},
            "mem_size_mib": {"type": INT},
            "track_dirty_pages": {"type": BOOL},
            "vcpu_count": {"type": INT, "min": 1, "max": 32},
            "huge_pages": {"type": STR, "enum": ["None", "Transparent", "2M"]},
        },
    },
    "Error": {
        # Not required by the spec, but every kite error carries it.
        "required": ["fault_message"],
        "props": {"fault_message": {"type": STR}},
    },
    "BootSource": {
        "required": ["kernel_image_path"],
        "props": {
            "boot_args": {"type": STR},
            "initrd_path": {"type": STR},
            "kernel_image_path": {"type": STR},
        },
    },
    "Drive": {
        "required": ["drive_id", "is_root_device"],
        "props": {
            "drive_id": {"type": STR},
            "partuuid": {"type": STR},
            "is_root_device": {"type": BOOL},
            "cache_type": {"type": STR, "enum": ["Unsafe", "Writeback"]},
            "is_read_only": {"type": BOOL},
            "path_on_host": {"type": STR},
            "rate_limiter": {"type": OBJ},
            "io_engine": {"type": STR, "enum": ["Sync", "Async"]},
            "socket": {"type": STR},
        },
    },
    "Logger": {
        "required": [],
        "props": {
            "level": {"type": STR},
            "log_path": {"type": STR},
            "show_level": {"type": BOOL},
            "show_log_origin": {"type": BOOL},
            "module": {"type": STR},
        },
    },
    "Metrics": {
        "required": ["metrics_path"],
        "props": {
            "metrics_path": {"type": STR},
            "emit_id": {"type": BOOL},
            "properties": {"type": OBJ},
        },
    },
    "InstanceActionInfo": {
        "required": ["action_type"],
        "props": {"action_type": {"type": STR,
                                  "enum": ["FlushMetrics", "InstanceStart", "SendCtrlAltDel"]}},
    },
    "Vm": {
        "required": ["state"],
        "props": {"state": {"type": STR, "enum": ["Paused", "Resumed"]}},
    },
    "EntropyDevice": {"required": [], "props": {"rate_limiter": {"type": OBJ}}},
    "FullVmConfiguration": {
        "required": [],
        "props": {
            "balloon": {"type": OBJ},
            "drives": {"type": ARR, "items": "Drive"},
            "boot-source": {"type": OBJ, "ref": "BootSource"},
            "cpu-config": {"type": OBJ},
            "logger": {"type": OBJ, "ref": "Logger"},
            "machine-config": {"type": OBJ, "ref": "MachineConfiguration"},
            "metrics": {"type": OBJ, "ref": "Metrics"},
            "memory-hotplug": {"type": OBJ},
            "mmds-config": {"type": OBJ},
            "network-interfaces": {"type": ARR},
            "pmem": {"type": ARR},
            "vsock": {"type": OBJ},
            "entropy": {"type": OBJ, "ref": "EntropyDevice"},
        },
    },
}


def _type_ok(v, t):
    if t == STR:
        return isinstance(v, str)
    if t == INT:
        return isinstance(v, int) and not isinstance(v, bool)
    if t == BOOL:
        return isinstance(v, bool)
    if t == OBJ:
        return isinstance(v, dict)
    if t == ARR:
        return isinstance(v, list)
    return False


def schema_errors(name, value, where="", extra=()):
    """The ways value breaks definition `name` (empty: it conforms)."""
    d = DEFS[name]
    where = where or name
    if not isinstance(value, dict):
        return ["%s: not an object: %r" % (where, value)]
    errs = []
    for k in d["required"]:
        if k not in value:
            errs.append("%s: required field %s missing" % (where, k))
    for k, v in value.items():
        p = d["props"].get(k)
        if p is None:
            if k not in extra:
                errs.append("%s: field %s is not in the spec" % (where, k))
            continue
        if v is None:
            continue
        if not _type_ok(v, p["type"]):
            errs.append("%s.%s: %r is not a %s" % (where, k, v, p["type"]))
            continue
        if "enum" in p and v not in p["enum"]:
            errs.append("%s.%s: %r is not one of %s" % (where, k, v, p["enum"]))
        if "min" in p and v < p["min"] or "max" in p and v > p["max"]:
            errs.append("%s.%s: %r out of range" % (where, k, v))
        if "ref" in p:
            errs += schema_errors(p["ref"], v, where + "." + k,
                                  ("kite",) if p["ref"] == "BootSource" else ())
        if "items" in p:
            for i, item in enumerate(v):
                errs += schema_errors(p["items"], item, "%s.%s[%d]" % (where, k, i))
    return errs


# ---- transport ----
class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX stream socket."""

    def __init__(self, path, timeout=5.0):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class Api:
    """One keep-alive connection; call() returns (status, parsed body, ms)."""

    def __init__(self, path, timeout=5.0):
        self.path = path
        self.conn = UnixHTTPConnection(path, timeout)

    def call(self, method, url, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        t = time.monotonic()
        self.conn.request(method, url, body=data, headers=headers)
        r = self.conn.getresponse()
        raw = r.read()
        ms = (time.monotonic() - t) * 1000
        parsed = None
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
        return r.status, parsed, ms

    def close(self):
        self.conn.close()


def raw_connect(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class RawReader:
    """Reads HTTP responses one by one from a raw socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed")
        self.buf += d

    def response(self):
        """(status, headers dict with lower-case names, body bytes)."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ", lines[0] + " ")
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), headers, body

    def at_eof(self, timeout=2.0):
        """True when the server closed the connection (nothing more came)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (socket.timeout, BlockingIOError):
            return False
        except ConnectionResetError:
            return True


def req(method, path, body=b"", extra=""):
    head = "%s %s HTTP/1.1\r\nHost: localhost\r\n%s" % (method, path, extra)
    if body:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


# ---- checks ----
class Checks:
    def __init__(self):
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            print("ok %s" % what, flush=True)
        else:
            self.failed += 1
            print("fail %s%s" % (what, (": " + detail) if detail else ""), flush=True)
        return cond

    def schema(self, name, value, what, extra=()):
        errs = schema_errors(name, value, extra=extra)
        return self.check(not errs, "%s matches %s" % (what, name), "; ".join(errs[:4]))

    def fault(self, status, body, what, text=None):
        """A 400 whose body is an Error, mentioning text when given."""
        good = status == 400 and not schema_errors("Error", body)
        if good and text:
            good = text in body["fault_message"]
        return self.check(good, what, "got %s %r" % (status, body))


def wait_socket(path, secs=5.0):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            raw_connect(path).close()
            return True
        except OSError:
            time.sleep(0.01)
    return False


def boot_source(image, regs=None):
    b = {"kernel_image_path": image,
         "kite": {"mode": "long-user", "load_addr": "0x100000"}}
    if regs:
        b["kite"]["regs"] = regs
    return b


NOT_AFTER = "The requested operation is not supported after starting the microVM."
NOT_BEFORE = "The requested operation is not supported before starting the microVM."


# ---- scenarios ----
def sc_sdk(c, sock, image, drive, logf, metf):
    """The Firecracker Go SDK's order, each call timed; bodies checked
    against the spec before they are sent and after they come back."""
    limit = 500.0
    # The SDK polls GET /machine-config until the socket answers.
    ready = False
    end = time.monotonic() + 5
    while not ready and time.monotonic() < end:
        try:
            a = Api(sock)
            st, body, ms = a.call("GET", "/machine-config")
            ready = st == 200
        except OSError:
            time.sleep(0.01)
    if not c.check(ready, "sdk: GET /machine-config readiness poll answered 200"):
        return
    c.schema("MachineConfiguration", body, "sdk: GET /machine-config before boot")
    c.check(body.get("vcpu_count") == 1 and body.get("mem_size_mib") == 128,
            "sdk: Firecracker's default machine (1 vCPU, 128 MiB)", repr(body))
    calls = [
        ("PUT", "/logger", "Logger", {"log_path": logf, "level": "Debug",
                                      "show_level": True, "show_log_origin": True}),
        ("PUT", "/metrics", "Metrics", {"metrics_path": metf}),
        ("PUT", "/machine-config", "MachineConfiguration",
         {"vcpu_count": 1, "mem_size_mib": 64, "smt": False, "track_dirty_pages": False}),
        ("PUT", "/boot-source", "BootSource", boot_source(image)),
        ("PUT", "/drives/rootfs", "Drive", {"drive_id": "rootfs", "path_on_host": drive,
                                            "is_root_device": True, "is_read_only": True}),
        ("PUT", "/actions", "InstanceActionInfo", {"action_type": "InstanceStart"}),
    ]
    worst = 0.0
    for method, url, defn, b in calls:
        c.schema(defn, b, "sdk: request body of %s %s" % (method, url),
                 ("kite",) if defn == "BootSource" else ())
        st, body, ms = a.call(method, url, b)
        worst = max(worst, ms)
        c.check(st == 204 and body is None, "sdk: %s %s -> 204 (%.1f ms)" % (method, url, ms),
                "got %s %r" % (st, body))
        c.check(ms < limit, "sdk: %s %s under %d ms" % (method, url, limit), "%.1f ms" % ms)
    st, body, ms = a.call("GET", "/")
    c.check(st == 200 and body.get("state") == "Running", "sdk: GET / says Running",
            "%s %r" % (st, body))
    c.schema("InstanceInfo", body, "sdk: GET / after boot")
    st, body, _ = a.call("GET", "/machine-config")
    c.schema("MachineConfiguration", body, "sdk: GET /machine-config after boot")
    c.check(body.get("mem_size_mib") == 64, "sdk: GET /machine-config shows the PUT", repr(body))
    st, body, _ = a.call("GET", "/vm/config")
    c.check(st == 200, "sdk: GET /vm/config -> 200", "%s %r" % (st, body))
    c.schema("FullVmConfiguration", body, "sdk: GET /vm/config")
    drives = body.get("drives") or [{}]
    c.check(len(drives) == 1 and drives[0].get("drive_id") == "rootfs"
            and drives[0].get("is_read_only") is True,
            "sdk: GET /vm/config lists the drive", repr(drives))
    c.check((body.get("logger") or {}).get("log_path") == logf
            and (body.get("metrics") or {}).get("metrics_path") == metf,
            "sdk: GET /vm/config has the logger and metrics", repr(body))
    st, body, _ = a.call("GET", "/version")
    c.check(st == 200, "sdk: GET /version -> 200")
    c.schema("FirecrackerVersion", body, "sdk: GET /version")
    # Errors are Error objects with Firecracker's texts.
    st, body, _ = a.call("PUT", "/machine-config", {"vcpu_count": 1, "mem_size_mib": 32})
    c.fault(st, body, "sdk: PUT /machine-config after boot is refused", NOT_AFTER)
    st, body, _ = a.call("PUT", "/actions", {"action_type": "InstanceStart"})
    c.fault(st, body, "sdk: a second InstanceStart is refused", NOT_AFTER)
    st, body, _ = a.call("GET", "/no-such-path")
    c.fault(st, body, "sdk: an unknown path is a 400 naming it", "/no-such-path")
    st, body, _ = a.call("DELETE", "/machine-config")
    c.fault(st, body, "sdk: an unknown method is a 400 naming it", "DELETE")
    st, body, _ = a.call("PUT", "/network-interfaces/eth0",
                         {"iface_id": "eth0", "host_dev_name": "tap0"})
    c.fault(st, body, "sdk: PUT /network-interfaces after boot is refused", NOT_AFTER)
    st, body, _ = a.call("PUT", "/balloon",
                         {"amount_mib": 0, "deflate_on_oom": False})
    c.fault(st, body, "sdk: a later issue's endpoint says it is not supported",
            "not supported by this kite")
    st, body, _ = a.call("PATCH", "/vm", {"state": "Frozen"})
    c.fault(st, body, "sdk: PATCH /vm with an unknown state is refused")
    st, body, _ = a.call("GET", "/")
    c.check(st == 200 and body.get("state") == "Running",
            "sdk: the guest still runs after the refused requests", repr(body))
    a.close()


def sc_presdk(c, sock):
    """Before boot: post-boot requests get Firecracker's text; a body
    with an unknown field is refused."""
    a = Api(sock)
    st, body, _ = a.call("GET", "/")
    c.schema("InstanceInfo", body, "pre-boot: GET /")
    c.check(body.get("state") == "Not started", "pre-boot: GET / says Not started", repr(body))
    st, body, _ = a.call("PATCH", "/vm", {"state": "Paused"})
    c.fault(st, body, "pre-boot: PATCH /vm is refused", NOT_BEFORE)
    st, body, _ = a.call("PUT", "/actions", {"action_type": "SendCtrlAltDel"})
    c.fault(st, body, "pre-boot: SendCtrlAltDel is refused", NOT_BEFORE)
    st, body, _ = a.call("PUT", "/actions", {"action_type": "InstanceStart"})
    c.fault(st, body, "pre-boot: InstanceStart without a boot source is refused",
            "Cannot start microvm without kernel configuration.")
    st, body, _ = a.call("PUT", "/machine-config",
                         {"vcpu_count": 1, "mem_size_mib": 64, "bogus": 1})
    c.fault(st, body, "pre-boot: an unknown field is refused", "bogus")
    st, body, _ = a.call("PUT", "/drives/a", {"drive_id": "b", "path_on_host": "/x",
                                              "is_root_device": False})
    c.fault(st, body, "pre-boot: a drive id differing from the path is refused")
    st, body, _ = a.call("PUT", "/boot-source", boot_source("/nonexistent/kite-image"))
    st2, body2, _ = a.call("PUT", "/actions", {"action_type": "InstanceStart"})
    c.fault(st2, body2, "pre-boot: InstanceStart with a missing image is a 400",
            "kite-image")
    st, body, _ = a.call("GET", "/")
    c.check(body.get("state") == "Not started",
            "pre-boot: a failed InstanceStart leaves the VM not started", repr(body))
    a.close()


def serial_numbers(path):
    """The complete lines of the guest's output as numbers."""
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")[:-1]
    return [int(x, 16) for x in lines]


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def sc_pause(c, sock, out, pid):
    a = Api(sock)
    size = lambda: os.path.getsize(out)
    # The guest is printing.
    s0 = size()
    time.sleep(0.3)
    c.check(size() > s0, "pause: the guest prints before the pause", "%d -> %d" % (s0, size()))
    st, body, ms = a.call("PATCH", "/vm", {"state": "Paused"})
    c.check(st == 204, "pause: PATCH /vm Paused -> 204 (%.1f ms)" % ms, "%s %r" % (st, body))
    st, body, _ = a.call("GET", "/")
    c.check(body.get("state") == "Paused", "pause: GET / says Paused", repr(body))
    st, body, _ = a.call("PATCH", "/vm", {"state": "Paused"})
    c.check(st == 204, "pause: pausing again is not an error", "%s %r" % (st, body))
    # Output buffered when the vCPU stopped may still reach the file: give
    # it a moment, then the file must stand still.
    time.sleep(0.2)
    p0, t0 = size(), cpu_ticks(pid)
    time.sleep(1.0)
    p1, t1 = size(), cpu_ticks(pid)
    c.check(p1 == p0, "pause: no output while paused", "%d -> %d bytes" % (p0, p1))
    hz = os.sysconf("SC_CLK_TCK")
    c.check(t1 - t0 <= hz // 10, "pause: a paused VM uses no CPU",
            "%d ticks in 1 s" % (t1 - t0))
    st, body, ms = a.call("PATCH", "/vm", {"state": "Resumed"})
    c.check(st == 204, "pause: PATCH /vm Resumed -> 204 (%.1f ms)" % ms, "%s %r" % (st, body))
    st, body, _ = a.call("PATCH", "/vm", {"state": "Resumed"})
    c.check(st == 204, "pause: resuming again is not an error", "%s %r" % (st, body))
    st, body, _ = a.call("GET", "/")
    c.check(body.get("state") == "Running", "pause: GET / says Running again", repr(body))
    time.sleep(0.3)
    c.check(size() > p1, "pause: output grows after the resume", "%d -> %d" % (p1, size()))
    nums = serial_numbers(out)
    c.check(nums and nums == list(range(len(nums))),
            "pause: the sequence has no gap (%d numbers)" % len(nums),
            "first bad at %s" % next((i for i, n in enumerate(nums) if n != i), None))
    a.close()


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


def sc_soak(c, sock, out, pid, n, rss_margin_kb):
    a = Api(sock)
    bad = 0
    # A warm-up, so that one-time allocations are behind the first sample.
    for _ in range(20):
        a.call("PATCH", "/vm", {"state": "Paused"})
        a.call("PATCH", "/vm", {"state": "Resumed"})
    fd0, rss0 = fd_count(pid), rss_kb(pid)
    t = time.monotonic()
    for i in range(n):
        s1, _, _ = a.call("PATCH", "/vm", {"state": "Paused"})
        s2, _, _ = a.call("PATCH", "/vm", {"state": "Resumed"})
        bad += (s1 != 204) + (s2 != 204)
    secs = time.monotonic() - t
    fd1, rss1 = fd_count(pid), rss_kb(pid)
    c.check(bad == 0, "soak: %d pause/resume pairs answered 204 (%.1f s)" % (n, secs),
            "%d failures" % bad)
    c.check(fd1 == fd0, "soak: fd count flat (%d -> %d)" % (fd0, fd1))
    c.check(rss1 - rss0 <= rss_margin_kb,
            "soak: RSS flat (%d -> %d KiB, margin %d)" % (rss0, rss1, rss_margin_kb))
    s0 = os.path.getsize(out)
    time.sleep(0.3)
    st, body, _ = a.call("GET", "/")
    c.check(body.get("state") == "Running" and os.path.getsize(out) > s0,
            "soak: the guest still runs and prints", repr(body))
    nums = serial_numbers(out)
    c.check(nums and nums == list(range(len(nums))),
            "soak: the sequence has no gap (%d numbers)" % len(nums))
    a.close()


def sc_kata(c, sock, timeout_s):
    """GET / every 10 ms until Running, then the post-boot drive patch."""
    t = time.monotonic()
    state, polls = None, 0
    while time.monotonic() - t < timeout_s:
        try:
            a = Api(sock)
            st, body, _ = a.call("GET", "/")
            a.close()
            polls += 1
            state = body.get("state") if isinstance(body, dict) else None
            if state == "Running":
                break
        except OSError:
            pass
        time.sleep(0.01)
    c.check(state == "Running", "kata: GET / polled every 10 ms reached Running "
            "(%d polls, %.0f ms)" % (polls, (time.monotonic() - t) * 1000), repr(state))
    a = Api(sock)
    st, body, _ = a.call("GET", "/")
    c.schema("InstanceInfo", body, "kata: GET /")
    st, body, _ = a.call("GET", "/vm/config")
    c.schema("FullVmConfiguration", body, "kata: GET /vm/config")
    drives = body.get("drives") or []
    c.check(len(drives) == 9 and drives[0].get("is_root_device") is True
            and drives[0].get("is_read_only") is True,
            "kata: nine drives, the read-only root first", repr(drives)[:300])
    # Kata hot-plugs a container's rootfs by swapping a placeholder drive's
    # backing file after boot: a 204, and the config shows the new file.
    new = drives[1]["path_on_host"] + ".swap" if len(drives) > 1 else "/nonexistent"
    with open(new, "wb") as f:
        f.truncate(2 << 20)
    st, body, _ = a.call("PATCH", "/drives/drive_0",
                         {"drive_id": "drive_0", "path_on_host": new})
    c.check(st == 204, "kata: PATCH /drives/drive_0 after boot swaps its file",
            "%s %r" % (st, body))
    st, body, _ = a.call("GET", "/vm/config")
    got = [d.get("path_on_host") for d in (body.get("drives") or []) if
           d.get("drive_id") == "drive_0"] if isinstance(body, dict) else []
    c.check(got == [new], "kata: GET /vm/config shows drive_0's new file", repr(got))
    a.close()


def sc_conns(c, sock, max_payload):
    """Connection limits and malformed input; a keeper connection must be
    served throughout."""
    keeper = Api(sock)

    def alive(what):
        st, body, ms = keeper.call("GET", "/")
        c.check(st == 200 and isinstance(body, dict),
                "conns: %s: another connection is still served (%.1f ms)" % (what, ms),
                "%s %r" % (st, body))

    alive("start")
    # Ten connections, each proven accepted by an answer; the 11th: 503, closed.
    extra = []
    for _ in range(9):
        s = raw_connect(sock)
        r = RawReader(s)
        s.sendall(req("GET", "/version"))
        st, _, _ = r.response()
        extra.append((s, r))
    s11 = raw_connect(sock)
    r11 = RawReader(s11)
    try:
        st, hdr, body = r11.response()
        eof = r11.at_eof()
    except (EOFError, OSError) as e:
        st, hdr, body, eof = None, {}, repr(e), True
    c.check(st == 503 and eof, "conns: the 11th connection gets 503 and is closed",
            "%s %r eof=%s" % (st, body, eof))
    if st == 503:
        c.check(not schema_errors("Error", json.loads(body)), "conns: the 503 body is an Error",
                repr(body))
    s11.close()
    alive("after the 11th")
    for s, _ in extra:
        s.close()
    time.sleep(0.1)
    # All ten slots are free again.
    more = [raw_connect(sock) for _ in range(9)]
    good = 0
    for s in more:
        r = RawReader(s)
        s.sendall(req("GET", "/"))
        try:
            good += r.response()[0] == 200
        except (EOFError, OSError):
            pass
        s.close()
    c.check(good == 9, "conns: closed connections free their slots", "%d of 9 served" % good)
    time.sleep(0.1)

    def bad_request(what, data, text=None, send_all=True):
        s = raw_connect(sock)
        r = RawReader(s)
        try:
            if send_all:
                s.sendall(data)
            else:
                s.send(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            st, hdr, body = r.response()
        except (EOFError, OSError) as e:
            st, hdr, body = None, {}, repr(e).encode()
        try:
            j = json.loads(body)
        except ValueError:
            j = body
        ok = st == 400 and not schema_errors("Error", j) and hdr.get("connection") == "close"
        if ok and text:
            ok = text in j["fault_message"]
        c.check(ok and r.at_eof(), "conns: %s -> 400 and closed" % what,
                "%s %r %r" % (st, hdr, j))
        s.close()
        alive(what)

    bad_request("a body over the payload limit",
                b"PUT /logger HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (max_payload + 1)
                + b" " * (max_payload + 1), "larger than the limit", send_all=False)
    bad_request("bare LF", b"GET / HTTP/1.1\nHost: x\n\n", "LF")
    bad_request("bad Content-Length", b"PUT /logger HTTP/1.1\r\nContent-Length: 1x\r\n\r\n{}",
                "Content-Length")
    bad_request("negative Content-Length",
                b"PUT /logger HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "Content-Length")
    bad_request("duplicate Content-Length",
                b"PUT /logger HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
                "Content-Length")
    bad_request("chunked body", b"PUT /logger HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\n{}\r\n0\r\n\r\n", "Transfer-Encoding")
    bad_request("a request line over 1024 bytes",
                b"GET /" + b"a" * 1100 + b" HTTP/1.1\r\n\r\n", "longer")
    bad_request("HTTP/2.0", b"GET / HTTP/2.0\r\n\r\n", "version")

    # A body exactly at the limit is read (and judged by the router).
    s = raw_connect(sock)
    r = RawReader(s)
    body = b'{"action_type": "FlushMetrics"' + b" " * (max_payload - 31) + b"}"
    s.sendall(req("PUT", "/actions", body))
    st, hdr, rb = r.response()
    c.check(len(body) == max_payload and b"larger than the limit" not in rb
            and hdr.get("connection") != "close",
            "conns: a body of exactly %d bytes is accepted by the parser" % max_payload,
            "%s %r" % (st, rb))
    s.close()

    # Clients that vanish mid-request.
    for what, data in (("in the head", b"PUT /machine-config HTTP/1.1\r\nContent-Le"),
                       ("in the body", b"PUT /machine-config HTTP/1.1\r\nContent-Length: 40"
                        b"\r\n\r\n{\"vcpu_count\""),
                       ("after a request, before its answer", req("GET", "/vm/config"))):
        s = raw_connect(sock)
        s.sendall(data)
        s.close()
        alive("a client disconnected " + what)

    # A half-closed client (shutdown(SHUT_WR) after its request, as
    # `socat` and `nc -N` do) still gets its answer.
    # The EOF often arrives in the same read as the request: try 50 times.
    lost = []
    for _ in range(50):
        s = raw_connect(sock)
        r = RawReader(s)
        s.sendall(req("GET", "/version") + req("GET", "/"))
        s.shutdown(socket.SHUT_WR)
        try:
            st = (r.response()[0], r.response()[0], r.at_eof())
        except (EOFError, OSError) as e:
            st = repr(e)
        if st != (200, 200, True):
            lost.append(st)
        s.close()
    c.check(not lost, "conns: a client that half-closes after two requests gets both answers",
            "%d of 50 lost: %r" % (len(lost), lost[:3]))

    # Pipelined requests: answered in order, on one connection.
    s = raw_connect(sock)
    r = RawReader(s)
    s.sendall(req("GET", "/version") + req("GET", "/") + req("GET", "/nope")
              + req("GET", "/machine-config"))
    got = []
    try:
        for _ in range(4):
            st, _, b = r.response()
            got.append((st, json.loads(b)))
    except (EOFError, OSError, ValueError) as e:
        got.append(repr(e))
    ok = (len(got) == 4 and got[0][0] == 200 and "firecracker_version" in got[0][1]
          and got[1][0] == 200 and "state" in got[1][1]
          and got[2][0] == 400 and "/nope" in got[2][1]["fault_message"]
          and got[3][0] == 200 and "vcpu_count" in got[3][1])
    c.check(ok, "conns: four pipelined requests answered in order", repr(got)[:300])
    s.close()

    # Expect: 100-continue: the interim answer, then the real one.
    s = raw_connect(sock)
    r = RawReader(s)
    body = b'{"action_type": "FlushMetrics"}'
    s.sendall(b"PUT /actions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
              % len(body))
    try:
        st1 = r.response()[0]
        s.sendall(body)
        st2, _, b2 = r.response()
    except (EOFError, OSError) as e:
        st1, st2, b2 = repr(e), None, b""
    c.check(st1 == 100 and st2 in (204, 400) and b"deserializing" not in b2,
            "conns: Expect: 100-continue gets 100, then the answer", "%r %r %r" % (st1, st2, b2))
    s.close()

    # A request trickled in a byte every 0.1 s is answered; others are
    # served meanwhile, without waiting for it.
    trickle = req("GET", "/version", extra="X-Slow: 1\r\n")
    result = {}

    def slow():
        s = raw_connect(sock, timeout=30)
        r = RawReader(s)
        for i in range(len(trickle)):
            s.send(trickle[i:i + 1])
            time.sleep(0.1)
        try:
            result["st"] = r.response()[0]
        except (EOFError, OSError) as e:
            result["st"] = repr(e)
        s.close()

    th = threading.Thread(target=slow)
    th.start()
    worst, served = 0.0, 0
    while th.is_alive():
        st, body, ms = keeper.call("GET", "/")
        served += st == 200
        worst = max(worst, ms)
        time.sleep(0.05)
    th.join()
    c.check(result.get("st") == 200,
            "conns: a request sent a byte every 0.1 s (%d bytes) is answered" % len(trickle),
            repr(result))
    # Not a timing check: a server that waited for the slow request would
    # hold every other one for the whole trickle (seconds); 1 s leaves room
    # for a loaded machine.
    c.check(served > 10 and worst < 1000,
            "conns: %d requests served meanwhile, the slowest in %.1f ms" % (served, worst))
    keeper.close()


def main():
    sc = sys.argv[1]
    args = sys.argv[2:]
    c = Checks()
    try:
        if sc == "sdk":
            sc_sdk(c, *args)
        elif sc == "presdk":
            sc_presdk(c, *args)
        elif sc == "pause":
            sc_pause(c, args[0], args[1], int(args[2]))
        elif sc == "soak":
            sc_soak(c, args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
        elif sc == "kata":
            sc_kata(c, args[0], float(args[1]))
        elif sc == "conns":
            sc_conns(c, args[0], int(args[1]))
        elif sc == "wait":
            c.check(wait_socket(args[0]), "the API socket accepts connections")
        elif sc == "call":
            # call SOCK METHOD URL [JSON]: prints "STATUS BODY".
            a = Api(args[0])
            st, body, _ = a.call(args[1], args[2], json.loads(args[3]) if len(args) > 3 else None)
            print(st, json.dumps(body))
            return 0
        elif sc == "validate":
            # validate DEFINITION: the JSON on stdin against it.
            errs = schema_errors(args[0], json.load(sys.stdin), extra=tuple(args[1:]))
            print("; ".join(errs))
            return 1 if errs else 0
        else:
            print("fail unknown scenario %s" % sc)
            return 1
    except Exception as e:  # a crash is one failed check, with the reason
        import traceback
        c.check(False, "%s: scenario raised %s" % (sc, type(e).__name__),
                traceback.format_exc().replace("\n", " | ")[-600:])
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
