"""Shared by bench/net-pps and bench/vsock-tput: finding kite, compiling a
C test guest the way tests/guest/meson.build does, the table bench/run
prints (figure, kite, baseline, ratio, runs, spread), and results files
in bench/out/."""
import json
import os
import re
import statistics
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
STAMP_RE = re.compile(r"boot-timestamp port: value (\d+) at ([0-9.]+) ms")


class Fail(Exception):
    """A run did not do what it must; the figure is not recorded."""


def sh(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def find_kite(arg):
    """--kite, $KITE, or build-bench/kite (configured and built if missing,
    as bench/run does)."""
    kite = arg or os.environ.get("KITE")
    if kite:
        if not os.path.exists(kite):
            raise Fail(f"no kite at {kite}")
        return os.path.abspath(kite)
    build = os.path.join(REPO, "build-bench")
    if not os.path.exists(os.path.join(build, "build.ninja")):
        r = sh(["meson", "setup", build, REPO, "--buildtype=release", "-Dtests=disabled"])
        if r.returncode:
            raise Fail("meson setup build-bench: " + r.stdout[-400:])
    r = sh(["ninja", "-C", build, "-j2", "kite"])
    if r.returncode:
        raise Fail("ninja -C build-bench kite: " + r.stdout[-400:])
    return os.path.join(build, "kite")


def build_guest(name):
    """Compiles tests/guest/NAME.c into bench/out/guests/NAME.bin."""
    src = os.path.join(REPO, "tests", "guest")
    out = os.path.join(OUT, "guests", name + ".bin")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(os.path.join(src, "c_guest.flags")) as f:
        flags = f.read().split()
    r = sh(["cc"] + flags + ["-Wl,-T," + os.path.join(src, "virtio_guest.ld"), "-o", out,
                             os.path.join(src, name + ".c")])
    if r.returncode:
        raise Fail(f"cannot compile tests/guest/{name}.c: {r.stdout[-500:]}")
    return out


def build_host(name):
    """Compiles bench/NAME.c into bench/out/bin/NAME."""
    out = os.path.join(OUT, "bin", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = sh(["cc", "-O2", "-Wall", "-Wextra", "-o", out, os.path.join(HERE, name + ".c")])
    if r.returncode:
        raise Fail(f"cannot compile bench/{name}.c: {r.stdout[-500:]}")
    return out


def fmt(v):
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.1f}"
    if v >= 10:
        return f"{v:.2f}"
    return f"{v:.3f}"


HEADER = (f"  {'figure [unit]':<46} {'kite':>9} {'baseline':>20} {'ratio':>6} {'runs':>5}"
          "  spread (kite min-max)")


def row(name, unit, kite, base, base_name):
    """A rate (higher is better): medians, ratio kite / baseline."""
    k, b = statistics.median(kite), statistics.median(base)
    r = {"name": name, "unit": unit, "kite": k, "baseline": b, "baseline_name": base_name,
         "ratio": k / b, "runs": len(kite), "min": min(kite), "max": max(kite),
         "better": "higher", "behind": k < b, "baseline_runs": len(base),
         "baseline_min": min(base), "baseline_max": max(base)}
    print(row_line(r), flush=True)
    return r


def row_line(r):
    mark = "  BEHIND" if r["behind"] else ""
    return (f"  {r['name'] + ' [' + r['unit'] + ']':<46} {fmt(r['kite']):>9} "
            f"{fmt(r['baseline']) + ' ' + r['baseline_name']:>20} {r['ratio']:>6.2f} "
            f"{r['runs']:>5}  {fmt(r['min'])}-{fmt(r['max'])}{mark}")


def save(stem, rows, lines):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, stem + ".json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(OUT, stem + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
