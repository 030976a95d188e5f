"""Benchmark: how big the refresh state grows per whole-world refresh, and where retention
bounds it.

Starts knot on loopback with an answer for every ePDG and sos name of the embedded operator
list (the zone of ``resolve_bench.py``), then runs ``--runs`` whole-world refreshes through
the library (``run_refresh``, what ``wifiq refresh`` calls) into a fresh state, the clock
moving ``--step`` hours per refresh, with ``retention`` of ``--keep`` hours. Prints the state
file's size after each refresh (WAL checkpointed), the rows of the ``observations`` view (one
per lookup, address and run) and the rows actually stored (``observation_spans``; "-" for a
schema-1 state, which stores the view's rows), the growth per refresh before retention starts
deleting, and the size it levels off at. Usage:
``.venv/bin/python benchmarks/state_size.py [--runs 10] [--step 24] [--keep 72]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from resolve_bench import PARENT, world_names, world_zone  # noqa: E402
from tests.rig.knot import KnotServer  # noqa: E402
from wifiq.commands.resolve_options import selected_targets  # noqa: E402
from wifiq.config import Selection  # noqa: E402
from wifiq.holddown import HoldDown  # noqa: E402
from wifiq.refresh import run_refresh  # noqa: E402
from wifiq.resolve import ResolveOptions, parse_resolver  # noqa: E402
from wifiq.store import StateStore  # noqa: E402


def file_size(path: Path) -> int:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def _count(db: sqlite3.Connection, table: str) -> str:
    """Rows of ``table``, or "-" when the state has no such table (schema 1)."""
    try:
        return str(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.OperationalError:
        return "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--step", type=float, default=24.0, help="hours between refreshes")
    parser.add_argument("--keep", type=float, default=72.0, help="retention in hours")
    args = parser.parse_args()
    names = world_names()
    with tempfile.TemporaryDirectory(prefix="wifiq-state-bench-") as tmp:
        knot = KnotServer(Path(tmp) / "knot", {PARENT: world_zone(names)}).start()
        try:
            mccs = tuple(sorted({n.split(".mcc")[1][:3] for n in names}))
            db, targets = selected_targets(Selection(mccs=mccs))
            options = ResolveOptions(resolvers=(parse_resolver(knot.address),))
            state = Path(tmp) / "state.sqlite"
            sizes = []
            start = time.time()
            for run in range(args.runs):
                at = start + run * args.step * 3600
                with StateStore(state) as store:
                    began = time.perf_counter()
                    result = run_refresh(db, targets, options, HoldDown(), store,
                                         clock=lambda at=at: at, retention=args.keep * 3600)
                    took = time.perf_counter() - began
                sizes.append(file_size(state))
                with sqlite3.connect(state) as check:
                    rows = check.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
                    spans = _count(check, "observation_spans")
                print(f"refresh {run + 1:2}: {len(result.lookups)} lookups, {rows} observation rows"
                      f" in {spans} stored rows, state {sizes[-1] / 1e6:.3f} MB, {took:.1f} s")
        finally:
            knot.stop()
    window = int(args.keep // args.step) + 1
    growth = (sizes[min(window, len(sizes)) - 1] - sizes[0]) / max(min(window, len(sizes)) - 1, 1)
    print(f"growth per refresh while the window fills: {growth / 1e6:.4f} MB "
          f"({growth:.0f} bytes)")
    print(f"refreshes kept in the window: {window}; size after it: "
          f"{', '.join(f'{s / 1e6:.3f}' for s in sizes[window:])} MB")
    print(f"machine: {os.uname().nodename} {os.uname().release}, load {os.getloadavg()}")


if __name__ == "__main__":
    main()
