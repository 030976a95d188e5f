#!/usr/bin/env python3
"""Benchmark ``simtool digest`` against ``apksigner verify`` and ``sha256sum`` on big APKs.

One command::

    .venv/bin/python benchmarks/digest_bench.py            # builds, then measures
    .venv/bin/python benchmarks/digest_bench.py --profile  # + cProfile of --verify

Builds (once; reused from ``benchmarks/out/``, which git ignores) a ~150 MB and a ~30 MB APK:
random stored entries (incompressible, like images and native libraries) and deflated
compressible entries, plus the AndroidManifest.xml, classes.dex and resources.arsc of the
corpus's ``golden-aligned-in.apk``; ``zipalign -p 4``; signed v1+v2+v3 by Debian's apksigner
with a fresh RSA-2048 key. Then, in one run, measures each command's whole-process wall time
(median of ``--runs``, commands interleaved round by round so machine load hits all alike) and
peak memory (``ru_maxrss`` of the child from ``os.wait4``), and prints a table with ratios
against apksigner and sha256sum and the issue's targets.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.rig import apksigner as rig  # noqa: E402  (the test rig drives keytool/apksigner)
from tests.rig.digest_cli import simtool_argv  # noqa: E402

OUT = ROOT / "benchmarks" / "out"
UNSIGNED = ROOT / "tests" / "corpus" / "apksig-golden" / "golden-aligned-in.apk"
MB = 1_000_000


def build_apk(size_mb: int, seed: int = 2026) -> Path:
    """Build (or reuse) ``out/bench-<size>mb.apk``, signed v1+v2+v3; returns its path."""
    final = OUT / f"bench-{size_mb}mb.apk"
    if final.exists():
        return final
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + size_mb)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(2000)]
    text_block = b" ".join(rng.choice(words) for _ in range(200_000))  # ~1.2 MB, compresses ~3x
    raw = OUT / f"bench-{size_mb}mb.unaligned.apk"
    target = size_mb * MB
    with zipfile.ZipFile(UNSIGNED) as src, zipfile.ZipFile(raw, "w") as z:
        for info in src.infolist():  # the real manifest, dex and resources
            if not info.filename.startswith("META-INF/"):
                z.writestr(info, src.read(info.filename))
        written, i = 0, 0
        while written < target:
            n = rng.randint(64 * 1024, 4 * MB)
            if i % 2 == 0:
                z.writestr(f"res/raw/blob{i:04d}.bin", rng.randbytes(n), zipfile.ZIP_STORED)
                written += n
            else:
                body = (text_block * (n // len(text_block) + 1))[:n]
                body = rng.randbytes(16) + body  # entries differ
                z.writestr(f"assets/text{i:04d}.txt", body, zipfile.ZIP_DEFLATED)
                written += n // 3
            i += 1
    aligned = rig.zipalign(raw, OUT / f"bench-{size_mb}mb.aligned.apk")
    key = _bench_key()
    rig.sign(aligned, final.with_suffix(".tmp"), [key], v1=True, v2=True, v3=True)
    final.with_suffix(".tmp").rename(final)
    raw.unlink()
    aligned.unlink()
    return final


def _bench_key() -> rig.Key:
    keys = OUT / "keys"
    shutil.rmtree(keys, ignore_errors=True)
    return rig.make_key(keys, "bench", "RSA", "CN=carrierkit benchmark, O=carrierkit")


@dataclass(frozen=True)
class Sample:
    wall_s: float
    maxrss_kib: int
    exit_code: int


GNU_TIME = "/usr/bin/time"


def measure(argv: list[str], scratch: Path) -> Sample:
    """Run ``argv``; return wall time, peak RSS (``ru_maxrss``) and exit status.

    Linux starts a child's ``ru_maxrss`` at its parent's resident size when it forks (and keeps
    that high-water mark across exec), so a command spawned straight from this ~30 MiB Python
    process could never report less than ~30 MiB (sha256sum did). The command is therefore
    started by GNU time (a ~2 MiB parent), which takes the same ``ru_maxrss`` from wait4 and
    writes it to a file; we wait for GNU time with os.wait4 for the exit status."""
    out = scratch / "maxrss.txt"
    wrapped = [GNU_TIME, "-f", "%M", "-o", str(out), *argv] if Path(GNU_TIME).exists() else argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    maxrss = int(out.read_text().split()[-1]) if wrapped is not argv else usage.ru_maxrss
    if proc.returncode != 0:
        print(f"  ! {' '.join(argv[-3:])} exited {proc.returncode}: {err.strip()[-300:]}",
              file=sys.stderr)
    return Sample(wall, maxrss, proc.returncode)


APKSIGNER_CMD = "apksigner verify --print-certs"
SHA256SUM_CMD = "sha256sum"


def commands(apk: Path) -> dict[str, list[str]]:
    simtool = simtool_argv()
    return {
        "simtool digest": [*simtool, "digest", str(apk)],
        "simtool digest --verify": [*simtool, "digest", "--verify", str(apk)],
        APKSIGNER_CMD: [rig.APKSIGNER, "verify", "--print-certs", str(apk)],
        SHA256SUM_CMD: ["sha256sum", str(apk)],
    }


@dataclass(frozen=True)
class Row:
    """One command's figures: median wall time, paired ratios (median over rounds of this
    command's time divided by the anchor's in the same round, which cancels most of the drift
    of a shared machine's load), worst peak RSS, and whether every run exited 0."""

    name: str
    wall_s: float
    vs_apksigner: float
    vs_sha256sum: float
    maxrss_mib: float
    ok: bool


def run_suite(apk: Path, runs: int) -> list[Row]:
    cmds = commands(apk)
    samples: dict[str, list[Sample]] = {n: [] for n in cmds}
    for argv in cmds.values():  # warm-up: the file in the page cache for everyone
        measure(argv, OUT)
    for _ in range(runs):
        for name, argv in cmds.items():
            samples[name].append(measure(argv, OUT))

    def paired(name: str, anchor: str) -> float:
        return statistics.median(a.wall_s / b.wall_s for a, b in zip(samples[name], samples[anchor]))

    return [Row(n, statistics.median(s.wall_s for s in ss), paired(n, APKSIGNER_CMD),
                paired(n, SHA256SUM_CMD), max(s.maxrss_kib for s in ss) / 1024,
                all(s.exit_code == 0 for s in ss)) for n, ss in samples.items()]


def print_table(apk: Path, rows: list[Row]) -> None:
    size = apk.stat().st_size / MB
    print(f"\n{apk.name}: {size:.1f} MB  (ratios: median of per-round ratios)")
    print(f"| {'command':32} | {'wall s (median)':>15} | {'vs apksigner':>12} | {'vs sha256sum':>12} "
          f"| {'peak RSS MiB':>12} | exit 0 |")
    print(f"|{'-' * 34}|{'-' * 17}|{'-' * 14}|{'-' * 14}|{'-' * 14}|--------|")
    for r in rows:
        print(f"| {r.name:32} | {r.wall_s:15.3f} | {r.vs_apksigner:11.2f}x | {r.vs_sha256sum:11.2f}x "
              f"| {r.maxrss_mib:12.1f} | {'yes' if r.ok else 'NO':6} |")


def check_targets(rows: list[Row]) -> list[str]:
    """The issue's targets, each as 'PASS …' or 'MISS …' with the measured figure."""
    by = {r.name: r for r in rows}
    d = by["simtool digest"]
    v = by["simtool digest --verify"]
    out = []

    def line(ok: bool, text: str) -> None:
        out.append(("PASS " if ok else "MISS ") + text)

    line(d.vs_apksigner <= 1 / 5, f"default >= 5x faster than apksigner: {1 / d.vs_apksigner:.1f}x")
    line(v.vs_apksigner <= 1, f"--verify no slower than apksigner: {v.vs_apksigner:.2f}x its time")
    line(v.vs_sha256sum <= 1.5, f"--verify within 1.5x of sha256sum: {v.vs_sha256sum:.2f}x")
    for r in (d, v):
        line(r.maxrss_mib < 60, f"{r.name} peak memory < 60 MiB: {r.maxrss_mib:.1f} MiB")
    line(d.ok and v.ok, "both simtool runs exit 0 on the signed APK")
    return out


def profile_verify(apk: Path, top: int = 20) -> str:
    """cProfile of ``simtool digest --verify`` in this process: where the time goes."""
    from simtool.cli import main

    prof = cProfile.Profile()
    sink = io.StringIO()
    stdout = sys.stdout
    sys.stdout = sink
    try:
        prof.runcall(main, ["digest", "--verify", str(apk)])
    finally:
        sys.stdout = stdout
    report = io.StringIO()
    pstats.Stats(prof, stream=report).sort_stats("cumulative").print_stats(top)
    report.write("\n--- by own time ---\n")
    pstats.Stats(prof, stream=report).sort_stats("tottime").print_stats(top)
    return report.getvalue()


def machine() -> str:
    return (f"{os.cpu_count()} cores, Linux {platform.release()}, Python "
            f"{platform.python_version()}, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="150,30", help="APK sizes in MB (default 150,30)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command (median)")
    ap.add_argument("--profile", action="store_true", help="cProfile simtool digest --verify")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the APKs in benchmarks/out/")
    args = ap.parse_args()
    missing = rig.missing_tools()
    if missing:
        print(f"digest_bench: missing Debian tools {missing}; run scripts/setup", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.rebuild:
        for s in sizes:
            (OUT / f"bench-{s}mb.apk").unlink(missing_ok=True)
    print(f"machine: {machine()}")
    apks = []
    for s in sizes:
        t0 = time.perf_counter()
        apks.append(build_apk(s))
        print(f"built/reused {apks[-1].relative_to(ROOT)} in {time.perf_counter() - t0:.1f}s")
    all_rows = {}
    for apk in apks:
        rows = run_suite(apk, args.runs)
        all_rows[apk] = rows
        print_table(apk, rows)
        if apk == max(apks, key=lambda a: a.stat().st_size):  # targets: the ~150 MB APK
            for t in check_targets(rows):
                print("  " + t)
    if len(apks) > 1:
        print("\nmemory vs size (peak RSS MiB):")
        for name in ("simtool digest", "simtool digest --verify"):
            print(f"  {name:26} " + "  ".join(
                f"{a.stat().st_size / MB:.0f} MB: {next(r for r in all_rows[a] if r.name == name).maxrss_mib:.1f}"
                for a in apks))
    if args.profile:
        print("\n" + profile_verify(apks[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
