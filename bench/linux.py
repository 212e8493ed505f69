"""bench/linux.py: the Linux-guest figures of bench/run, boot to init and
virtio-blk throughput/IOPS, kite against QEMU microvm on the same kernel,
initrd and disk image.

Where a Linux guest can boot under /dev/kvm directly (a CPU with vmx/svm) both
run here. This project's PVM build hosts cannot boot Linux at all (see
HOST-NOTES.md); there boot to init is measured inside the nested lab instead:
`tests/lab/run --bench-boot N` starts the L1 VM (QEMU TCG, nested SVM,
kvm-amd), and inside L1 bench/lab-boot.sh times kite and QEMU microvm on L1's
KVM with bench/boot_timer (exec to the KITE-GUEST-INIT console line), then
boots each with a 256 MiB image as virtio-blk and runs bench/guest/blkjob.c in
the guest (sequential 1 MiB at QD 8 and random 4 KiB at QD 32, O_DIRECT, read
and write; MB/s and IOPS as the guest measures them). Absolute values there
reflect TCG emulating the hardware; the ratio is the figure. Both use the
guest kernel and initramfs that the lab builds (scripts/guest-kernel/build.sh,
scripts/guest-initramfs/build.sh) but only if the kernel is already cached:
building it takes minutes.

run(kite, quick, say) -> (rows, skipped): rows are add_row() argument tuples,
skipped is a list of (figure, reason). Nothing is recorded for a figure that
did not run.
"""
import glob
import os
import re
import select
import shutil
import socket
import statistics
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
FIGS = ("boot to init", "virtio-blk throughput", "virtio-blk IOPS")

DD_RE = re.compile(r"(\d+) bytes .*copied, ([0-9.]+) seconds")


def _why_not(kite):
    try:
        helptext = subprocess.run([kite, "--help"], stdout=subprocess.PIPE, text=True).stdout
    except OSError as e:
        return f"cannot run kite: {e}", None
    if "--kernel" not in helptext:
        return "this kite has no --kernel option", None
    if "--disk" not in helptext:
        return "this kite has no --disk option", None
    cache = os.environ.get("KITE_CACHE", "/var/cache/kite")
    with open("/proc/cpuinfo") as f:
        if not re.search(r"\b(vmx|svm)\b", f.read()):
            if not glob.glob(f"{cache}/guest-kernel/*/bzImage"):
                return (f"no vmx/svm here, and no cached guest kernel under {cache} for the "
                        "nested lab (tests/lab/run builds it, several minutes; bench/run "
                        "does not)"), None
            if not shutil.which("qemu-system-x86_64"):
                return "no vmx/svm here and no qemu-system-x86_64 for the nested lab", None
            if os.geteuid() != 0:
                return "no vmx/svm here, and the nested lab (tests/lab/run) needs root", None
            return None, "lab"
    if not (os.access("/dev/kvm", os.R_OK | os.W_OK)):
        return "/dev/kvm is not usable", None
    kernels = sorted(glob.glob(f"{cache}/guest-kernel/*/bzImage"), key=os.path.getmtime)
    initrds = sorted(glob.glob(f"{cache}/guest-initramfs/*/initramfs.cpio.gz"), key=os.path.getmtime)
    if not kernels or not initrds:
        return (f"no cached guest kernel/initramfs under {cache} (build them with "
                "scripts/guest-kernel/build.sh and scripts/guest-initramfs/build.sh, "
                "several minutes; bench/run does not)"), None
    return None, (kernels[-1], initrds[-1])


class _Guest:
    """A VM whose console is on stdout; lines are timestamped from exec."""

    def __init__(self, argv):
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.buf = b""
        self.lines = []

    def wait_for(self, pattern, timeout):
        """Seconds from exec to the first line matching pattern, or None."""
        rx = re.compile(pattern)
        for t, line in self.lines:
            if rx.search(line):
                return t
        deadline = self.t0 + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            chunk = os.read(self.p.stdout.fileno(), 65536)
            if not chunk:
                break
            self.buf += chunk
            while b"\n" in self.buf:
                raw, self.buf = self.buf.split(b"\n", 1)
                line = raw.decode(errors="replace").rstrip("\r")
                t = time.monotonic() - self.t0
                self.lines.append((t, line))
                if rx.search(line):
                    return t
        return None

    def send(self, text):
        self.p.stdin.write(text.encode())
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def _kite_argv(kite, kernel, initrd, cmdline, disk=None):
    argv = [kite, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline,
            "--memory", "256M", "--cpus", "1"]
    if disk:
        argv += ["--disk", disk]
    return argv


def _qemu_argv(kernel, initrd, cmdline, disk=None):
    argv = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-M", "microvm",
            "-m", "256M", "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
            "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", cmdline]
    if disk:
        argv += ["-drive", f"file={disk},if=none,id=d0,format=raw,cache=none",
                 "-device", "virtio-blk-device,drive=d0"]
    return argv


def _boot(argv, timeout=120):
    g = _Guest(argv)
    try:
        return g.wait_for(r"^KITE-GUEST-INIT", timeout)
    finally:
        g.stop()


def _disk_io(argv, mib, ios, timeout=180):
    """(MB/s of a sequential read of the whole disk, 4 KiB O_DIRECT reads per s)."""
    g = _Guest(argv)
    try:
        if g.wait_for(r"^KITE-SHELL-READY", timeout) is None:
            return None
        time.sleep(1)
        g.send(f"dd if=/dev/vda of=/dev/null bs=1M count={mib} 2>&1; "
               f"dd if=/dev/vda of=/dev/null bs=4k count={ios} iflag=direct 2>&1; "
               "echo KITE-BENCH-DONE\n")
        if g.wait_for(r"KITE-BENCH-DONE$", timeout) is None:
            return None
        found = [DD_RE.search(line) for _, line in g.lines]
        found = [m for m in found if m]
        if len(found) < 2:
            return None
        (b1, s1), (b2, s2) = [(int(m.group(1)), float(m.group(2))) for m in found[-2:]]
        if s1 <= 0 or s2 <= 0:
            return None
        return b1 / s1 / 1e6, (b2 / 4096) / s2
    finally:
        g.stop()


BENCH_RE = re.compile(r"^KITE-BENCH boot vmm=(kite|qemu) run=(\d+) ms=([0-9.]+) "
                      r"first_output_ms=([0-9.-]+) guest_uptime_s=(\S+)")
BLK_RE = re.compile(r"^KITE-BENCH blk vmm=(kite|qemu) run=(\d+) job=(\w+) value=([0-9.]+) unit=(\S+)")
LAB_RUNS = 5
# (job, figure, unit) of bench/lab-boot.sh's virtio-blk part, in its order.
LAB_BLK_JOBS = (
    ("seqread", "virtio-blk seq read, 1 MiB, QD 8, nested lab", "MB/s"),
    ("seqwrite", "virtio-blk seq write, 1 MiB, QD 8, nested lab", "MB/s"),
    ("randread", "virtio-blk rand read, 4 KiB, QD 32, nested lab", "IOPS"),
    ("randwrite", "virtio-blk rand write, 4 KiB, QD 32, nested lab", "IOPS"),
)


def _num(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _lab_blk_pairs(lines):
    """{job: [(kite, qemu), ...]}: the complete kite/QEMU pairs of one lab run."""
    samples = {}  # (vmm, job) -> {run: value}
    for line in lines:
        m = BLK_RE.search(line.split("] ", 1)[-1])
        if m and int(m.group(2)) > 0:  # run 0 is the warm-up
            samples.setdefault((m.group(1), m.group(3)), {})[int(m.group(2))] = float(m.group(4))
    pairs = {}
    for job, _, _ in LAB_BLK_JOBS:
        k, q = samples.get(("kite", job), {}), samples.get(("qemu", job), {})
        pairs[job] = [(k[i], q[i]) for i in sorted(set(k) & set(q))]
    return pairs


def _lab_blk(attempts, out, say):
    """The virtio-blk rows: the complete pairs of every attempt (each pair ran
    back to back in one L1). Returns (rows, skipped)."""
    rows, medians = [], []
    for job, figure, unit in LAB_BLK_JOBS:
        pairs = [p for a in attempts for p in _lab_blk_pairs(a)[job]]
        if not pairs:
            continue
        kv, qv = [k for k, _ in pairs], [q for _, q in pairs]
        rows.append((figure, unit, "higher", kv, qv, "qemu-microvm virtio-blk, L1 KVM (nested)", 1))
        medians.append(f"{job} {statistics.median(kv):,.1f} vs {statistics.median(qv):,.1f} {unit}")
    if rows:
        say(f"    (virtio-blk medians, kite vs QEMU: {'; '.join(medians)}; "
            "absolute values are nested-TCG figures)")
    skipped = []
    if len(rows) < len(LAB_BLK_JOBS):
        fails = [l.split("] ", 1)[-1] for l in attempts[-1]
                 if any(t in l for t in ("KITE-BENCH-FAIL blk", "KITE-BENCH-BLK-DONE",
                                         "L1 silent", "L1 wedged"))]
        why = fails[0] if fails else "no KITE-BENCH blk lines"
        missing = [f for j, f, u in LAB_BLK_JOBS if f not in {r[0] for r in rows}]
        skipped = [(f, f"nested lab: {why} (see {out}/console.log)") for f in missing]
    return rows, skipped


def _lab_boot_rows(lines, out, say):
    """The boot-to-init row of the lab run's output. Returns (rows, skipped)."""
    samples = {"kite": {}, "qemu": {}}
    for line in lines:
        m = BENCH_RE.search(line.split("] ", 1)[-1])
        if m and int(m.group(2)) > 0:  # run 0 is the warm-up
            samples[m.group(1)][int(m.group(2))] = (float(m.group(3)), float(m.group(4)),
                                                    _num(m.group(5)) * 1e3)
    # Every boot pair counts even when the virtio-blk part after them failed
    # (an L1 that wedges there ends tests/lab/run before KITE-BENCH-DONE).
    if len(samples["kite"]) != LAB_RUNS or len(samples["qemu"]) != LAB_RUNS:
        fails = [l for l in lines if ("KITE-BENCH-FAIL" in l and "KITE-BENCH-FAIL blk" not in l)
                 or "KITE-BENCH-DONE" in l or "L1 silent" in l or "L1 wedged" in l]
        why = fails[0].split("] ", 1)[-1] if fails else "no KITE-BENCH-DONE from the lab"
        return [], [("boot to init", f"nested lab: {why} (see {out}/console.log)")]
    k = [samples["kite"][i][0] for i in sorted(samples["kite"])]
    q = [samples["qemu"][i][0] for i in sorted(samples["qemu"])]
    kf = [samples["kite"][i][1] for i in sorted(samples["kite"])]
    qf = [samples["qemu"][i][1] for i in sorted(samples["qemu"])]
    ku = [samples["kite"][i][2] for i in sorted(samples["kite"])]
    qu = [samples["qemu"][i][2] for i in sorted(samples["qemu"])]
    say(f"    (medians, kite vs QEMU: exec to first console byte {statistics.median(kf):.0f} vs "
        f"{statistics.median(qf):.0f} ms; guest uptime at the marker {statistics.median(ku):.0f} "
        f"vs {statistics.median(qu):.0f} ms; absolute values are nested-TCG time)")
    return [("boot to init, nested lab (exec to KITE-GUEST-INIT)", "ms", "lower", k, q,
             "qemu-microvm, L1 KVM (nested)", 1)], []


def _lab_quit(out):
    """Ends the lab's L1 through its QEMU monitor (tests/lab/run's -monitor)."""
    try:
        with socket.socket(socket.AF_UNIX) as m:
            m.settimeout(3)
            m.connect(os.path.join(out, "monitor.sock"))
            m.sendall(b"quit\n")
            time.sleep(0.5)
        return True
    except OSError:
        return False


def _lab_run(env, budget, say):
    """One tests/lab/run --bench-boot; returns its output lines.

    A wedged L1 whose kernel still prints (soft-lockup warnings) keeps
    tests/lab/run's own silence watchdog quiet; here LAB_STALL seconds without a
    KITE-BENCH line, once L1 has started, end that L1 through its monitor."""
    out = env["KITE_LAB_OUT"]
    p = subprocess.Popen([os.path.join(REPO, "tests", "lab", "run"), "--mode", "lab",
                          "--bench-boot", str(LAB_RUNS)],
                         env=dict(env, KITE_LAB_BUDGET=str(budget)), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    lines, buf, last, quit_sent = [], b"", None, False
    while True:
        r, _, _ = select.select([p.stdout], [], [], 5)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode(errors="replace")
                lines.append(line)
                if "KITE-BENCH" in line or "KITE-L1" in line or "L1 silent" in line:
                    say("    " + line)
                    last = time.monotonic()
        if last is not None and not quit_sent and time.monotonic() - last > LAB_STALL:
            quit_sent = True
            msg = f"lab: no KITE-BENCH line for {LAB_STALL} s: L1 wedged; quitting it"
            if not _lab_quit(out):
                msg += " (monitor unreachable: killing tests/lab/run)"
                p.kill()
            say("    " + msg)
            lines.append(msg)
    p.wait()
    return lines


# Seconds of bench/run's 15 minutes that the nested lab may take. One run takes
# ~270 s (at most 600 with its KITE_LAB_BUDGET). An L1 can wedge (tests/lab/README.md,
# "When L1 hangs"; here about one VM start in 30), which tests/lab/run's watchdog ends
# after KITE_LAB_SILENCE s without a line; then the lab runs again, at most
# LAB_ATTEMPTS times in all, and only for what is missing: with the boot pairs done,
# only the virtio-blk pairs still needed (KITE_LAB_BENCH_SKIP=boot, KITE_LAB_BENCH_BLK).
LAB_TIME = 680
LAB_RETRY_MIN = 240
LAB_ATTEMPTS = 3
LAB_SILENCE = "100"  # bench/lab-boot.sh prints a line at least every 90 s
LAB_STALL = 130


def _lab_boot(kite, say):
    """Boot to init and virtio-blk inside the nested lab: tests/lab/run
    --bench-boot (see the module comment). Returns (rows, skipped)."""
    out = os.path.join(OUT, "lab")
    env = dict(os.environ, KITE=os.path.abspath(kite), KITE_LAB_OUT=out,
               KITE_LAB_SILENCE=LAB_SILENCE)
    for k in ("KITE_LAB_BENCH_SKIP", "KITE_LAB_BENCH_BLK"):
        env.pop(k, None)
    say(f"linux: boot to init and virtio-blk inside the nested lab (tests/lab/run --bench-boot "
        f"{LAB_RUNS}; L1 = QEMU TCG with nested SVM, kite and QEMU microvm on L1's KVM; "
        f"log {out}/)")

    def quiet(text):
        pass

    def finished(lines):
        return any(l.split("] ", 1)[-1].startswith("KITE-BENCH-DONE") for l in lines)

    t0 = time.monotonic()
    attempts = [_lab_run(env, 420, say)]
    while len(attempts) < LAB_ATTEMPTS and not finished(attempts[-1]):
        left = LAB_TIME - (time.monotonic() - t0)
        boot_done = any(_lab_boot_rows(a, out, quiet)[0] for a in attempts)
        pairs = min(sum(len(_lab_blk_pairs(a)[j]) for a in attempts) for j, _, _ in LAB_BLK_JOBS)
        if (boot_done and pairs >= LAB_RUNS) or left < LAB_RETRY_MIN:
            break
        extra = {}
        if boot_done:
            extra = {"KITE_LAB_BENCH_SKIP": "boot", "KITE_LAB_BENCH_BLK": str(LAB_RUNS - pairs)}
        keep = os.path.join(out, f"attempt-{len(attempts)}")
        say(f"linux: the lab ended without KITE-BENCH-DONE (an L1 hang?); once more"
            f"{' for ' + str(LAB_RUNS - pairs) + ' virtio-blk pairs' if boot_done else ''}, "
            f"{left:.0f} s left (that attempt's logs: {keep}/)")
        shutil.rmtree(keep, ignore_errors=True)
        os.makedirs(keep)
        for f in glob.glob(os.path.join(out, "*.txt")) + glob.glob(os.path.join(out, "*.log")):
            shutil.move(f, keep)
        attempts.append(_lab_run(dict(env, **extra), int(left) - 180, say))
    # Boot to init from the first attempt that has all its pairs; virtio-blk
    # pairs from every attempt.
    boot = next((a for a in attempts if _lab_boot_rows(a, out, quiet)[0]), attempts[-1])
    rows, skipped = _lab_boot_rows(boot, out, say)
    blk_rows, blk_skipped = _lab_blk(attempts, out, say)
    return rows + blk_rows, skipped + blk_skipped


def run(kite, quick, say):
    if quick:
        return [], [(f, "left out of --quick") for f in FIGS]
    why, art = _why_not(kite)
    if why:
        return [], [(f, why) for f in FIGS]
    if art == "lab":
        return _lab_boot(kite, say)
    kernel, initrd = art
    qemu = shutil.which("qemu-system-x86_64")
    rows, skipped = [], []
    reps = 5
    say(f"linux: boot to init ({os.path.basename(os.path.dirname(kernel))} bzImage), "
        f"{reps} runs each")
    cmd = "console=ttyS0 kite.test=boot"
    kb = [_boot(_kite_argv(kite, kernel, initrd, cmd)) for _ in range(reps)]
    if None in kb:
        skipped.append(("boot to init", "kite did not print KITE-GUEST-INIT within 120 s"))
    elif not qemu:
        skipped.append(("boot to init", "no qemu-system-x86_64 for the baseline"))
    else:
        qb = [_boot(_qemu_argv(kernel, initrd, cmd)) for _ in range(reps)]
        if None in qb:
            skipped.append(("boot to init", "QEMU microvm did not reach init (baseline)"))
        else:
            rows.append(("boot to init (exec to KITE-GUEST-INIT)", "ms", "lower",
                         [t * 1e3 for t in kb], [t * 1e3 for t in qb], "qemu-microvm"))
    # virtio-blk: a 256 MiB raw image of random data (not sparse: holes
    # would read as zeros without touching the host disk).
    mib, ios, reps = 256, 20000, 3
    disk = os.path.join(OUT, "blk.img")
    if not os.path.exists(disk) or os.path.getsize(disk) != mib << 20:
        with open(disk, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
    cmd = "console=ttyS0 kite.test=boot kite.end=shell"
    say(f"linux: virtio-blk, {mib} MiB sequential and {ios} x 4 KiB O_DIRECT reads, {reps} runs")
    k = [_disk_io(_kite_argv(kite, kernel, initrd, cmd, disk), mib, ios) for _ in range(reps)]
    if None in k:
        for f in FIGS[1:]:
            skipped.append((f, "kite: the guest shell or its dd output did not arrive"))
        return rows, skipped
    if not qemu:
        for f in FIGS[1:]:
            skipped.append((f, "no qemu-system-x86_64 for the baseline"))
        return rows, skipped
    q = [_disk_io(_qemu_argv(kernel, initrd, cmd, disk), mib, ios) for _ in range(reps)]
    if None in q:
        for f in FIGS[1:]:
            skipped.append((f, "QEMU microvm (baseline): the guest shell or its dd output did not arrive"))
        return rows, skipped
    rows.append(("virtio-blk sequential read (1 MiB dd)", "MB/s", "higher",
                 [x[0] for x in k], [x[0] for x in q], "qemu-microvm"))
    rows.append(("virtio-blk 4 KiB O_DIRECT reads", "IOPS", "higher",
                 [x[1] for x in k], [x[1] for x in q], "qemu-microvm"))
    return rows, skipped
