"""bench/snapshot.py: the `snapshot` group of bench/run (bench/README.md, "The snapshot group").

Restores of kite snapshots (README.md, "Snapshots and clones") of the CPL-3
guest tests/guest/bench_snap.s, against bench/snapfloor.c (map the same
memory file MAP_PRIVATE, one slot, one vCPU, registers, KVM_RUN) and against
kite itself without its working-set prefetch:

  restore to the guest's first instruction (kite's "vcpu0 entering the
      guest", ms since main()) and exec to its first boot-timestamp write,
      256 MiB and 2 GiB guests;
  time to first useful work: exec to the guest's write after reading 64 MiB
      of its 256 MiB back (runs and scattered pages), with and without the
      recorded working set prefetched, memory file in the page cache or not;
  clones per second (restore, run, exit; 2 x nproc at a time), and the memory
      each of 10 live clones of one snapshot costs (anon vs file RSS, PSS).

run() returns (rows, skipped) like bench/api.py. Python 3 standard library.
"""
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
WORK = os.path.join(OUT, "snap")  # on disk (not tmpfs), so a dropped file is read back from it


class Fail(Exception):
    pass


STAMP_RE = re.compile(r"boot-timestamp port: value (\d+) at ([0-9.]+) ms")
ENTRY_RE = re.compile(r"vcpu0 entering the guest at ([0-9.]+) ms")
GO, WORKFLAG, EXIT = 0x200000, 0x200001, 0x200002


def sh(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def build():
    """(guest image, RIP of its `resumed` label, snapfloor binary)."""
    os.makedirs(WORK, exist_ok=True)
    src = os.path.join(REPO, "tests", "guest", "bench_snap.s")
    obj, img = os.path.join(WORK, "bench_snap.o"), os.path.join(WORK, "bench_snap.bin")
    r = sh(["as", "--64", "-o", obj, src])
    if r.returncode == 0:
        r = sh(["ld", "-Ttext=0x100000", "-e", "_start", "--oformat", "binary", "-o", img, obj])
    if r.returncode != 0:
        raise Fail(f"cannot assemble {src}: {r.stdout[-300:]}")
    m = re.search(r"^([0-9a-f]+) T resumed$", sh(["nm", obj]).stdout, re.M)
    if not m:
        raise Fail("no `resumed` symbol in bench_snap.o")
    rip = 0x100000 + int(m.group(1), 16)
    floor = os.path.join(WORK, "snapfloor")
    r = sh(["cc", "-O2", "-Wall", "-Wextra", "-o", floor, os.path.join(HERE, "snapfloor.c")])
    if r.returncode != 0:
        raise Fail(f"cannot compile bench/snapfloor.c: {r.stdout[-300:]}")
    return img, rip, floor


def api(sock, method, path, body):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(60)
    c.connect(sock)
    data = body.encode()
    c.sendall(f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            break
        buf += d
    c.close()
    status = int(buf.split(b" ", 2)[1]) if buf else 0
    if status // 100 != 2:
        raise Fail(f"{method} {path} -> {status}: {buf[-300:]!r}")


def wait_for(path, pattern, timeout, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if re.search(pattern, f.read()):
                    return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.01)
    with open(path, errors="replace") as f:
        tail = " | ".join(f.read().strip().splitlines()[-3:])
    raise Fail(f"no {pattern!r} within {timeout} s: {tail}")


def make_snapshot(kite, img, name, memory, work):
    """Boots bench_snap.bin, waits for its 'ready' stamp, pauses and
    snapshots it through the API; returns (state file, memory file)."""
    snap, mem = os.path.join(WORK, name + ".snap"), os.path.join(WORK, name + ".mem")
    sock, err = os.path.join(WORK, name + ".sock"), os.path.join(WORK, name + ".err")
    for p in (snap, mem, snap + ".ws", sock):
        if os.path.exists(p):
            os.unlink(p)
    with open(err, "wb") as ef:
        p = subprocess.Popen([kite, "run", "--image", img, "--mode", "long-user", "--load",
                              "0x100000", "--reg", f"rdi={1 if work else 0}", "--memory", memory,
                              "--debug-exit", "--api-sock", sock, "--serial-out", "/dev/null",
                              "--timestamps"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=ef)
    try:
        wait_for(err, r"boot-timestamp port: value 1 ", 60, p)
        api(sock, "PATCH", "/vm", '{"state": "Paused"}')
        api(sock, "PUT", "/snapshot/create",
            f'{{"snapshot_path": "{snap}", "mem_file_path": "{mem}"}}')
    finally:
        p.kill()
        p.wait()
    return snap, mem


def set_flags(mem, go, exit_):
    """The guest's flags, written into the memory file (its control page is
    data, not a hole: bench_snap.s keeps a marker there)."""
    fd = os.open(mem, os.O_RDWR)
    try:
        os.pwrite(fd, bytes([go]), GO)
        os.pwrite(fd, bytes([exit_]), EXIT)
        os.fsync(fd)
    finally:
        os.close(fd)


def drop_cache(path):
    """The file's clean pages out of the page cache (mapped by no one: no
    root, and nothing else on the machine loses its cache)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def cached_kib(path):
    r = sh(["fincore", "-b", "-n", "-o", "RES", path])
    try:
        return int(r.stdout.split()[0]) >> 10
    except (ValueError, IndexError):
        return -1


def stamps(run):
    return {int(v): float(t) for v, t in STAMP_RE.findall(run["err"])}


def ws_info(path):
    with open(path, "rb") as f:
        data = f.read()
    nr = struct.unpack_from("<I", data, 20)[0]
    total = sum(struct.unpack_from("<QQ", data, 24 + 16 * i)[1] for i in range(nr))
    return nr, total


def row(rows, name, unit, better, kite, base, base_name, digits=3):
    rows.append(dict(name=name, unit=unit, better=better, kite=kite, base=base,
                     base_name=base_name, digits=digits))


# ---------------------------------------------------------------------------- figures

def first_instruction(ctx, size, n, rounds):
    """Restores of the no-work snapshot: the guest's first instructions after
    the restore are the flag check and a boot-timestamp write (value 2)."""
    snap, mem = make_snapshot(ctx.kite, ctx.img, f"first-{size}", size, work=False)
    set_flags(mem, 1, 1)
    cmds = {
        "kite": [ctx.kite, "run", "--restore", snap, "--mem-file", mem, "--timestamps"],
        "floor": [ctx.floor, mem, hex(ctx.rip), "--timestamps"],
    }
    res = {k: [] for k in cmds}
    for k, argv in cmds.items():
        ctx.check(k, ctx.harness_runs(argv, 2), 0)
    per = max(1, -(-n // rounds))
    for _ in range(rounds):
        for k, argv in cmds.items():
            if len(res[k]) >= n:
                continue
            runs = ctx.harness_runs(argv, min(per, n - len(res[k])))
            ctx.check(k, runs, 0)
            res[k] += runs
    for k, runs in res.items():
        for r in runs:
            if 2 not in stamps(r) or not ENTRY_RE.search(r["err"]):
                raise Fail(f"{k}: no 'entering the guest' or boot-timestamp 2 line")
    label = "256 MiB" if size == "256M" else "2 GiB"
    ent = {k: [float(ENTRY_RE.search(r["err"]).group(1)) for r in v] for k, v in res.items()}
    st = {k: [r["stamp_ms"] for r in v] for k, v in res.items()}
    own = {k: [stamps(r)[2] for r in v] for k, v in res.items()}
    ex = {k: [r["exit_ms"] for r in v] for k, v in res.items()}
    rows = ctx.rows
    row(rows, f"restore {label}: main() to first KVM_RUN (first instr.)", "ms", "lower",
        ent["kite"], ent["floor"], "snapfloor")
    row(rows, f"restore {label}: main() to first timestamp write", "ms", "lower",
        own["kite"], own["floor"], "snapfloor")
    row(rows, f"restore {label}: exec to first timestamp write", "ms", "lower",
        st["kite"], st["floor"], "snapfloor")
    row(rows, f"restore {label}: exec to exit", "ms", "lower", ex["kite"], ex["floor"],
        "snapfloor")
    return snap, mem


def record_ws(ctx, snap, spin_mem):
    """One restore with --record-working-set on the memory file whose guest
    stays alive after its work; writes SNAP.ws."""
    ws = snap + ".ws"
    err = os.path.join(WORK, "record.err")
    with open(err, "wb") as ef:
        p = subprocess.Popen([ctx.kite, "run", "--restore", snap, "--mem-file", spin_mem,
                              "--record-working-set=1500", "--timestamps", "--no-prefetch"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=ef)
    try:
        wait_for(err, r"boot-timestamp port: value 3 ", 30, p)
        deadline = time.monotonic() + 10
        while not os.path.exists(ws) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
    finally:
        p.kill()
        p.wait()
    if not os.path.exists(ws):
        raise Fail(f"--record-working-set wrote no {ws}")
    return ws_info(ws)


def useful_work(ctx, n):
    """exec to the guest's write after it has read its 64 MiB back."""
    snap, mem = make_snapshot(ctx.kite, ctx.img, "work", "256M", work=True)
    spin = os.path.join(WORK, "work-spin.mem")
    shutil.copyfile(mem, spin)  # not sparse, no matter: only read
    set_flags(mem, 1, 1)
    set_flags(spin, 1, 0)
    nr, total = record_ws(ctx, snap, spin)
    ctx.say(f"    (working set recorded: {nr} ranges, {total >> 20} MiB)")
    cmds = {
        "prefetch": [ctx.kite, "run", "--restore", snap, "--mem-file", mem, "--timestamps"],
        "noprefetch": [ctx.kite, "run", "--restore", snap, "--mem-file", mem, "--timestamps",
                       "--no-prefetch"],
        "floor": [ctx.floor, mem, hex(ctx.rip), "--timestamps"],
    }
    res = {(k, c): [] for k in cmds for c in ("warm", "cold")}
    for k, argv in cmds.items():
        ctx.check(k, ctx.harness_runs(argv, 1), 0)
    cold_left = []
    for _ in range(n):
        for cache in ("warm", "cold"):
            for k, argv in cmds.items():
                if cache == "cold":
                    drop_cache(mem)
                    cold_left.append(cached_kib(mem))
                r = ctx.harness_runs(argv, 1)
                ctx.check(k, r, 0)
                if 3 not in stamps(r[0]):
                    raise Fail(f"{k}: no boot-timestamp 3 line")
                res[(k, cache)].append(r[0]["stamp_ms"])
    ctx.say(f"    (memory file cached before a cold run: median {statistics.median(cold_left)} KiB)")
    rows = ctx.rows
    for cache, what in (("warm", "in page cache"), ("cold", "not cached")):
        pre, nopre, fl = res[("prefetch", cache)], res[("noprefetch", cache)], res[("floor", cache)]
        row(rows, f"first useful work, file {what}: prefetch", "ms", "lower", pre, nopre,
            "kite --no-prefetch")
        row(rows, f"first useful work, file {what}: --no-prefetch", "ms", "lower", nopre, fl,
            "snapfloor")
        row(rows, f"first useful work, file {what}: prefetch", "ms", "lower", pre, fl,
            "snapfloor")
    return snap, mem, spin


def proc_mem_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("RssAnon", "RssFile", "RssShmem"):
                out[k] = int(v.split()[0])
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Pss_Anon", "Pss_File"):
                out[k] = int(v.split()[0])
    return out


def clones_memory(ctx, argv, n=10):
    """n clones at once, each sampled once all have done their work."""
    procs, errs = [], []
    try:
        for i in range(n):
            err = os.path.join(WORK, f"clone{i}.err")
            errs.append(err)
            with open(err, "wb") as ef:
                procs.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                              stdout=subprocess.DEVNULL, stderr=ef))
        for p, err in zip(procs, errs):
            wait_for(err, r"boot-timestamp port: value 3 ", 60, p)
        return [proc_mem_kib(p.pid) for p in procs]
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


def clones(ctx, first_snap, first_mem, work_snap, spin_mem, quick):
    par = 2 * os.cpu_count()
    secs = 1.0 if quick else 2.0
    cmds = {
        "kite": [ctx.kite, "run", "--restore", first_snap, "--mem-file", first_mem],
        "floor": [ctx.floor, first_mem, hex(ctx.rip)],
    }
    rate = {k: [] for k in cmds}
    for _ in range(3):
        for k, argv in cmds.items():
            r = subprocess.run([ctx.harness, "density", "-p", str(par), "-d", str(secs), "--"]
                               + argv, stdout=subprocess.PIPE, text=True)
            lines = r.stdout.splitlines()
            if r.returncode != 0 or not lines:
                raise Fail(f"harness density failed for {k}")
            head = dict(kv.split("=") for kv in lines[0].split())
            if int(head["failed"]):
                raise Fail(f"{head['failed']} {k} clones failed")
            rate[k].append(int(head["done"]) / (float(head["elapsed_ms"]) / 1000))
    row(ctx.rows, f"clones restored, run, exited ({par} at a time)", "per s", "higher",
        rate["kite"], rate["floor"], "snapfloor", digits=1)
    km = clones_memory(ctx, [ctx.kite, "run", "--restore", work_snap, "--mem-file", spin_mem,
                             "--timestamps"])
    fm = clones_memory(ctx, [ctx.floor, spin_mem, hex(ctx.rip), "--timestamps"])
    for key, what in (("RssAnon", "anon RSS"), ("RssFile", "file RSS"), ("Pss", "PSS"),
                      ("Pss_Anon", "anon PSS")):
        row(ctx.rows, f"10 live clones (64 MiB read): {what} per clone", "MiB", "lower",
            [m[key] / 1024 for m in km], [m[key] / 1024 for m in fm], "snapfloor")
    shm = max(m.get("RssShmem", 0) for m in km + fm)
    ctx.say(f"    (largest RssShmem of any clone: {shm} KiB)")


class Ctx:
    pass


def run(kite, harness, harness_runs, check_runs, quick, say, kvm_why):
    """harness_runs(argv, n), check_runs(what, runs, status): bench/run's.
    Returns (rows, skipped); rows are dicts with kite/base sample lists."""
    rows, skipped = [], []
    if kvm_why:
        return rows, [("snapshot", kvm_why)]
    ctx = Ctx()
    ctx.kite, ctx.harness, ctx.rows, ctx.say = kite, harness, rows, say
    ctx.harness_runs = harness_runs
    ctx.check = lambda what, runs, status: check_runs(what, runs, status)
    try:
        ctx.img, ctx.rip, ctx.floor = build()
    except Fail as e:
        return rows, [("snapshot", str(e))]
    n = 10 if quick else 20
    first = work = None
    try:
        for size in ("256M", "2G"):
            try:
                s = first_instruction(ctx, size, n, 2 if quick else 3)
                if size == "256M":
                    first = s
            except Fail as e:
                skipped.append((f"restore {size}: first instruction", str(e)))
        try:
            work = useful_work(ctx, 5 if quick else 9)
        except Fail as e:
            skipped.append(("first useful work", str(e)))
        if first and work:
            try:
                clones(ctx, first[0], first[1], work[0], work[2], quick)
            except Fail as e:
                skipped.append(("clones", str(e)))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    return rows, skipped
