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

``--probe-addresses N``: the probe part instead (no DNS). ``--runs`` runs of probes of N
addresses x UDP 500 and 4500 are stored into a fresh state the way ``refresh --probe`` stores
them (``StateStore.record_probes``; the ``record_probes`` function of wifiq before probe spans,
when run from such a tree), the clock moving ``--step`` hours per run. Made-up results, fixed
per (address, port) by a seeded generator: 70 % answered (a chosen proposal, two notifies, a
vendor ID), 15 % NO_PROPOSAL_CHOSEN, 10 % silent, 5 % ICMP unreachable, RTT 20-200 ms with
jitter on every run; ``--flap-percent P`` turns P % of the (address, port) silent (lost) in
each run. Prints the size and the stored rows after each run and the growth per run.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
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
    parser.add_argument("--probe-addresses", type=int, default=0,
                        help="measure runs of probes of this many addresses instead")
    parser.add_argument("--flap-percent", type=float, default=0.0,
                        help="probe part: (address, port) lost (silent) in each run, percent")
    args = parser.parse_args()
    if args.probe_addresses:
        probe_main(args)
        return
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


def made_up_results(addresses: int, run: int, flap_percent: float) -> list[object]:
    """One run's results (see the module doc): stable per (address, port), RTT jittered."""
    from wifiq.probe.decision import Outcome, ProbeResult

    rng = random.Random(run)
    out: list[object] = []
    for n in range(addresses):
        address = f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"
        for port in (500, 4500):
            kind = random.Random(f"{n}/{port}").random()
            base = 0.020 + (n % 181) / 1000
            outcome = (Outcome.ANSWERED if kind < 0.70 else Outcome.NO_PROPOSAL_CHOSEN
                       if kind < 0.85 else Outcome.SILENT if kind < 0.95 else Outcome.UNREACHABLE)
            if rng.random() * 100 < flap_percent:
                outcome = Outcome.SILENT
            answered = outcome is Outcome.ANSWERED
            rtt = None if outcome is Outcome.SILENT else base * (1 + rng.random() * 0.2)
            detail = {Outcome.ANSWERED: "proposal 1 chosen", Outcome.SILENT:
                      "no reply to 3 requests", Outcome.UNREACHABLE: "ICMP port unreachable",
                      Outcome.NO_PROPOSAL_CHOSEN: "NO_PROPOSAL_CHOSEN"}[outcome]
            out.append(ProbeResult(
                address, port, outcome, rtt,
                "aes-cbc-256/hmac-sha2-256-128/prf-hmac-sha2-256/modp14" if answered else None,
                ("NAT_DETECTION_SOURCE_IP", "NAT_DETECTION_DESTINATION_IP") if answered else (),
                ("882fe56d6fd20dbc2251613b2ebe5beb",) if answered else (), 14,
                3 if outcome is Outcome.SILENT else 1, detail))
    return out


def probe_main(args: argparse.Namespace) -> None:
    """The probe part: growth of the state per run of probes of ``--probe-addresses``."""
    record: Callable[..., object]
    if hasattr(StateStore, "record_probes"):
        table = "probe_spans"
        record = StateStore.record_probes
    else:  # wifiq before probe spans: a module function, a row per probe
        from wifiq.store import probes as old

        table = "probes"
        record = old.record_probes  # type: ignore[attr-defined]
    sizes = []
    with tempfile.TemporaryDirectory(prefix="wifiq-probe-state-bench-") as tmp:
        state = Path(tmp) / "state.sqlite"
        start = time.time()
        for run in range(args.runs):
            at = start + run * args.step * 3600
            results = made_up_results(args.probe_addresses, run, args.flap_percent)
            with StateStore(state) as store:
                began = time.perf_counter()
                record(store, probed_at=at, finished_at=at, status="partial", results=results,
                       retention=args.keep * 3600)
                took = time.perf_counter() - began
            sizes.append(file_size(state))
            with sqlite3.connect(state) as check:
                stored = _count(check, table)
            print(f"probe run {run + 1:3}: {len(results)} probes, {stored} rows in {table}, "
                  f"state {sizes[-1] / 1e6:.3f} MB, stored in {took:.2f} s")
    later = [b - a for a, b in zip(sizes[1:], sizes[2:])]
    print(f"first run: {sizes[0] / 1e6:.3f} MB; growth per run after the second: "
          f"{sum(later) / max(len(later), 1) / 1e6:.4f} MB "
          f"({sum(later) / max(len(later), 1):.0f} bytes) over {len(later)} runs")
    print(f"machine: {os.uname().nodename} {os.uname().release}, load {os.getloadavg()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
