"""Render every target for a whole-world-sized input and time each one (target: all < 1 s).

The input is synthesised from documentation ranges only: 3,000 operators (about the number of
PLMNs in the world), each with 3 IPv4 addresses drawn from 192.0.2.0/24, 198.51.100.0/24 and
203.0.113.0/24 (shared between operators, as MVNOs share their host's ePDGs) and 2 unique IPv6
addresses in 2001:db8::/32. The anchor, measured in the same run, is json.dumps + json.loads of
the same document (the cost of merely serialising the data). Peak memory by tracemalloc.

    .venv/bin/python benchmarks/render_bench.py [--operators N] [--repeat R]

It also runs one cold process (a fresh interpreter: import wifiq.render, scan the entry points,
read the input file, render every target once) and times it whole, next to a fresh interpreter
that only reads the same file with json (the anchor for the cold run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timezone
from typing import Any

from wifiq.render import TargetLimitError, parse_render_input, render, targets

V4_POOL = [f"{net}.{host}" for net in ("192.0.2", "198.51.100", "203.0.113") for host in range(1, 255)]


def world(operators: int) -> dict[str, Any]:
    """A resolve --json document of whole-world size, documentation addresses only."""
    ops = []
    for i in range(operators):
        mcc, mnc = 200 + i // 100 % 800, f"{i % 100:02d}" if i % 3 else f"{i % 1000:03d}"
        v4 = [V4_POOL[(i * 3 + k) % len(V4_POOL)] for k in range(3)]
        v6 = [f"2001:db8:{i // 65536:x}:{i % 65536:x}::{k + 1}" for k in range(2)]
        ops.append({"plmn": f"{mcc}-{mnc}", "brand": f"Brand {i} Télécom", "operator": f"Operator {i} S.A.", "active": v4 + v6})
    seen, unique = set(), []
    for op in ops:
        if op["plmn"] not in seen:
            seen.add(op["plmn"])
            unique.append(op)
    return {"refreshed_at": "2026-11-26T09:00:00Z", "wifiq_version": "bench", "operators": unique}


def timed(fn: Any, repeat: int) -> tuple[float, float, float, Any]:
    """(first run wall, best wall, first run CPU, result); the first run has cold name caches.

    CPU time (process_time) is what the work costs when other processes share the cores.
    """
    first = first_cpu = 0.0
    best, result = float("inf"), None
    for i in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
        if i == 0:
            first, first_cpu = elapsed, cpu
        best = min(best, elapsed)
    return first, best, first_cpu, result


_COLD_CHILD = """
import time
start = time.perf_counter()
from wifiq.render import TargetLimitError, load_render_input, render, targets
imported = time.perf_counter()
names = list(targets())
scanned = time.perf_counter()
current = load_render_input({path!r})
loaded = time.perf_counter()
for name in names:
    try:
        render(name, current)
    except TargetLimitError:
        pass
done = time.perf_counter()
print(imported - start, scanned - imported, loaded - scanned, done - loaded)
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold_process(doc: dict[str, Any]) -> tuple[float, float, float, list[float]]:
    """(whole cold wifiq process wall, its CPU, whole cold json-only process wall, wifiq's
    phases) in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/world.json"
        with open(path, "w") as fh:
            json.dump(doc, fh)
        start, start_cpu = time.perf_counter(), _children_cpu()
        out = subprocess.run([sys.executable, "-c", _COLD_CHILD.format(path=path)],
                             check=True, capture_output=True, text=True).stdout
        whole, cpu = time.perf_counter() - start, _children_cpu() - start_cpu
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import json; json.load(open({path!r}))"], check=True)
        anchor = time.perf_counter() - start
    return whole, cpu, anchor, [float(x) for x in out.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    doc = world(args.operators)
    whole, whole_cpu, cold_anchor, phases = cold_process(doc)
    current = parse_render_input(doc, "bench")
    n_ops = len(current.operators)
    n4, n6 = len(current.addresses(4)), len(current.addresses(6))
    print(f"input: {n_ops} operators, {n4} IPv4 + {n6} IPv6 distinct addresses, "
          f"{sum(len(o.addresses) for o in current.operators)} operator-address pairs")
    _, anchor, _, _ = timed(lambda: json.loads(json.dumps(doc)), args.repeat)
    total_first = total = total_cpu = 0.0
    rows = []
    for name in targets():
        try:
            first, seconds, cpu, text = timed(lambda name=name: render(name, current), args.repeat)
            note = f"{len(text) / 1e6:.2f} MB"
        except TargetLimitError as err:
            first, seconds, cpu, note = 0.0, 0.0, 0.0, f"refused: {err.limit}"
        total += seconds
        total_first += first
        total_cpu += cpu
        rows.append((name, first, cpu, seconds, note))
    # Memory in a separate pass: tracemalloc slows Python down several times.
    tracemalloc.start()
    for name in targets():
        try:
            render(name, current)
        except TargetLimitError:
            pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {'target':<15} {'first wall':>11} {'first CPU':>11} {'best wall':>11}")
    for name, first, cpu, seconds, note in rows:
        print(f"  {name:<15} {first * 1000:8.1f} ms {cpu * 1000:8.1f} ms {seconds * 1000:8.1f} ms   {note}")
    print(f"all targets: first runs {total_first * 1000:.1f} ms wall / {total_cpu * 1000:.1f} ms CPU, "
          f"best {total * 1000:.1f} ms wall (target < 1000 ms); "
          f"anchor json round trip {anchor * 1000:.1f} ms; ratio {total_first / anchor:.1f}x (first runs); "
          f"peak traced memory {peak / 1e6:.1f} MB")
    imported, scanned, loaded, rendered = (p * 1000 for p in phases)
    print(f"cold process: {whole * 1000:.1f} ms wall / {whole_cpu * 1000:.1f} ms CPU (import wifiq.render {imported:.1f} ms, "
          f"entry points + 16 modules {scanned:.1f} ms, read input {loaded:.1f} ms, render all "
          f"{rendered:.1f} ms); anchor cold json.load process {cold_anchor * 1000:.1f} ms; "
          f"ratio {whole / cold_anchor:.1f}x")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other work shares them)")
    print(f"machine: {platform.machine()} {platform.system()} {platform.release()}, python {platform.python_version()}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
