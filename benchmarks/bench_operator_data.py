"""Benchmark: load the embedded operator data and build the world's ePDG + sos names.

Anchor: ``json.loads`` of the same data file, the least any loader must do. Prints both,
the ratio, and peak Python memory (tracemalloc) of each. Run:
``.venv/bin/python benchmarks/bench_operator_data.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections.abc import Callable
from importlib import resources
from typing import Any


def measure(func: Callable[[], Any], repeat: int) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs (seconds) and peak traced memory of one run (bytes)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return best, peak


def main() -> None:
    from wifiq.operators import load_operators
    from wifiq.selection import names_for_selection

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    raw = (resources.files("wifiq.operators") / "data" / "mcc-mnc.json").read_bytes()

    def ours() -> int:
        db = load_operators(user_files=False)
        return len(names_for_selection(db, db.plmns(), ("epdg", "sos")))

    def anchor() -> int:
        return len(json.loads(raw)["operators"])

    ours_t, ours_m = measure(ours, args.repeat)
    anchor_t, anchor_m = measure(anchor, args.repeat)
    print(f"wifiq load + {ours()} names:   {ours_t * 1000:7.1f} ms  peak {ours_m / 1e6:5.1f} MB")
    print(f"json.loads anchor ({anchor()} rows): {anchor_t * 1000:7.1f} ms  peak {anchor_m / 1e6:5.1f} MB")
    print(f"ratio wifiq / anchor: {ours_t / anchor_t:.1f}x")


if __name__ == "__main__":
    main()
