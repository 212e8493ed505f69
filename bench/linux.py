"""bench/linux.py: the Linux-guest figures of bench/run, boot to init and
virtio-blk throughput/IOPS, kite against QEMU microvm on the same kernel,
initrd and disk image.

Where a Linux guest can boot under /dev/kvm directly (a CPU with vmx/svm) both
run here. This project's PVM build hosts cannot boot Linux at all (see
HOST-NOTES.md); there boot to init is measured inside the nested lab instead:
`tests/lab/run --bench-boot N` starts the L1 VM (QEMU TCG, nested SVM,
kvm-amd), and inside L1 bench/lab-boot.sh times kite and QEMU microvm on L1's
KVM with bench/boot_timer (exec to the KITE-GUEST-INIT console line). Absolute
values there reflect TCG emulating the hardware; the ratio is the figure. The
virtio-blk figures are not taken in the lab. They use the guest kernel and
initramfs that the lab builds (scripts/guest-kernel/build.sh,
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
LAB_RUNS = 5


def _num(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _lab_boot(kite, say):
    """Boot to init inside the nested lab: tests/lab/run --bench-boot (see the
    module comment). Returns (rows, skipped)."""
    out = os.path.join(OUT, "lab")
    env = dict(os.environ, KITE=os.path.abspath(kite), KITE_LAB_OUT=out, KITE_LAB_BUDGET="420")
    say(f"linux: boot to init inside the nested lab (tests/lab/run --bench-boot {LAB_RUNS}; "
        f"L1 = QEMU TCG with nested SVM, kite and QEMU microvm on L1's KVM; log {out}/)")
    p = subprocess.Popen([os.path.join(REPO, "tests", "lab", "run"), "--mode", "lab",
                          "--bench-boot", str(LAB_RUNS)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in p.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        if "KITE-BENCH" in line or "KITE-L1" in line:
            say("    " + line)
    p.wait()
    samples = {"kite": {}, "qemu": {}}
    for line in lines:
        m = BENCH_RE.search(line.split("] ", 1)[-1])
        if m and int(m.group(2)) > 0:  # run 0 is the warm-up
            samples[m.group(1)][int(m.group(2))] = (float(m.group(3)), float(m.group(4)),
                                                    _num(m.group(5)) * 1e3)
    skipped = [(f, "not taken in the nested lab (only boot to init is)") for f in FIGS[1:]]
    if p.returncode != 0 or not samples["kite"] or len(samples["kite"]) != len(samples["qemu"]):
        fails = [l for l in lines if "KITE-BENCH-FAIL" in l or "KITE-BENCH-DONE" in l]
        why = fails[0].split("] ", 1)[-1] if fails else f"tests/lab/run status {p.returncode}"
        return [], [("boot to init", f"nested lab: {why} (see {out}/console.log)")] + skipped
    k = [samples["kite"][i][0] for i in sorted(samples["kite"])]
    q = [samples["qemu"][i][0] for i in sorted(samples["qemu"])]
    kf = [samples["kite"][i][1] for i in sorted(samples["kite"])]
    qf = [samples["qemu"][i][1] for i in sorted(samples["qemu"])]
    ku = [samples["kite"][i][2] for i in sorted(samples["kite"])]
    qu = [samples["qemu"][i][2] for i in sorted(samples["qemu"])]
    say(f"    (medians, kite vs QEMU: exec to first console byte {statistics.median(kf):.0f} vs "
        f"{statistics.median(qf):.0f} ms; guest uptime at the marker {statistics.median(ku):.0f} "
        f"vs {statistics.median(qu):.0f} ms; absolute values are nested-TCG time)")
    rows = [("boot to init, nested lab (exec to KITE-GUEST-INIT)", "ms", "lower", k, q,
             "qemu-microvm, L1 KVM (nested)", 1)]
    return rows, skipped


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
