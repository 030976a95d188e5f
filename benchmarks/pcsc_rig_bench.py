#!/usr/bin/env python3
"""Benchmark the PC/SC test rig: how long its parts take, against what they cannot beat.

One command (root, like the rig)::

    .venv/bin/python benchmarks/pcsc_rig_bench.py [--apdus 2000] [--cycles 10]

Measures, in one run:
- pcscd start (namespaces, readers listed);
- card insert (process start → pcscd reports present) and removal, median of --cycles, each
  against pcscd's own polling period (400 ms: the anchor no rig can beat);
- APDU round trip (SELECT ARA-M + GET DATA FF40 with one rule, through pyscard → libpcsclite →
  pcscd → vpcd → card, state file written on every APDU) against the anchor: the same card
  answering the same APDUs in this process, with the same state-file writes, no PC/SC stack;
- peak memory (max RSS) of this process and of the largest child (pcscd or a card).
Prints a table with the ratios; figures we measured are in docs/testing-pcsc.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.rig.pcsc import PcscRig, missing_requirements  # noqa: E402
from tests.rig.vcard.__main__ import build_card  # noqa: E402
from tests.rig.vcard.state import save_memory  # noqa: E402

ARA_M = bytes.fromhex("A00000015141434C00")
SEED_RULE = bytes.fromhex("E22FE11E4F06FFFFFFFFFFFFC114E46872F28B350B7E1F140DE535C2A8D5804F0BE3"
                          "E30DD00101DB080000000000000001")
SELECT = bytes.fromhex("00A4040009") + ARA_M
GET_ALL = bytes.fromhex("80CAFF4000")
POLL_PERIOD = 0.4  # pcscd's PCSCLITE_STATUS_POLL_RATE


def measure_stack(apdus: int, cycles: int) -> dict[str, float]:
    from smartcard.System import readers

    figures: dict[str, float] = {}
    start = time.perf_counter()
    with PcscRig() as rig:
        figures["pcscd start"] = time.perf_counter() - start
        inserts, removals = [], []
        for _ in range(cycles):
            t = time.perf_counter()
            rig.insert_card("spec", rules=[SEED_RULE])
            inserts.append(time.perf_counter() - t)
            t = time.perf_counter()
            rig.remove_card()
            removals.append(time.perf_counter() - t)
        figures["insert"] = statistics.median(inserts)
        figures["remove"] = statistics.median(removals)
        rig.insert_card("spec", rules=[SEED_RULE])
        conn = readers()[0].createConnection()
        conn.connect()
        t = time.perf_counter()
        for i in range(apdus):
            _, sw1, _ = conn.transmit(list(SELECT if i % 2 == 0 else GET_ALL))
            assert sw1 == 0x90
        figures["apdu via pcscd"] = (time.perf_counter() - t) / apdus
        conn.disconnect()
        conn.release()
    return figures


def measure_in_process(apdus: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "card.json"
        card = build_card({"profile": "spec", "rules": [SEED_RULE.hex()]}, state)
        t = time.perf_counter()
        for i in range(apdus):
            answer = card.transmit(SELECT if i % 2 == 0 else GET_ALL)
            save_memory(state, card.ctx.memory)
            assert answer[-2] == 0x90
        return (time.perf_counter() - t) / apdus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apdus", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    reason = missing_requirements()
    if reason:
        print(f"pcsc_rig_bench: {reason}", file=sys.stderr)
        return 2
    stack = measure_stack(args.apdus, args.cycles)
    anchor = measure_in_process(args.apdus)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"# {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"kernel {platform.release()}, Python {platform.python_version()}")
    print(f"{'measure':<26}{'rig':>12}{'anchor':>12}{'ratio':>8}")
    print(f"{'pcscd start':<26}{stack['pcscd start'] * 1000:>10.1f}ms{'':>12}{'':>8}")
    for name in ("insert", "remove"):
        print(f"{'card ' + name + ' (median)':<26}{stack[name] * 1000:>10.1f}ms"
              f"{POLL_PERIOD * 1000:>10.1f}ms{stack[name] / POLL_PERIOD:>8.2f}")
    print(f"{'APDU round trip':<26}{stack['apdu via pcscd'] * 1e6:>10.0f}us"
          f"{anchor * 1e6:>10.0f}us{stack['apdu via pcscd'] / anchor:>8.2f}")
    print(f"peak memory: this process {own:.1f} MiB, largest child (pcscd or card) {child:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
