"""Size of every target's output for a world-like input: lines and bytes, full and delta.

A world or country refresh lists thousands of operators, few with addresses. The input is
tests/render/world.py's: ``--operators`` PLMNs (default 3,000), one in ``--every`` (default
100) with an IPv4 and an IPv6 documentation address. Each target is rendered for that input
and for the same input without its address-less operators; the difference is what those
operators cost (the contract allows one header line per file).

    .venv/bin/python benchmarks/render_sizes.py [--operators N] [--every K]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.render.world import world_document  # noqa: E402
from wifiq.errors import WifiqError  # noqa: E402
from wifiq.render import parse_render_input, render, targets  # noqa: E402


def _size(text: str) -> tuple[int, int]:
    return text.count("\n"), len(text.encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operators", type=int, default=3000)
    parser.add_argument("--every", type=int, default=100)
    args = parser.parse_args()
    inputs = {
        addressless: (
            parse_render_input(world_document(args.operators, args.every, addressless=addressless), "world"),
            parse_render_input(world_document(args.operators, args.every, addressless=addressless, hour=1, moved=1), "world"),
        )
        for addressless in (True, False)
    }
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; {platform.node()} {os.cpu_count()} cores; "
          f"Python {platform.python_version()}; load {load}")
    world = inputs[True][0]
    print(f"input: {len(world.operators)} operators, {len(world.with_addresses)} with addresses")
    print(f"  {'target':16} {'full lines':>10} {'full bytes':>11} {'delta lines':>11} {'delta bytes':>11}"
          f"   address-less cost (full)")
    for name in targets():
        try:
            sizes = {key: (_size(render(name, old)), _size(render(name, new, previous=old)))
                     for key, (old, new) in inputs.items()}
        except WifiqError as exc:
            print(f"  {name:16} refused: {exc}")
            continue
        (full, delta), nfull = sizes[True], sizes[False][0]
        print(f"  {name:16} {full[0]:>10,} {full[1]:>11,} {delta[0]:>11,} {delta[1]:>11,}"
              f"  +{full[0] - nfull[0]:,} lines, +{full[1] - nfull[1]:,} bytes")


if __name__ == "__main__":
    main()
