"""``python -m tests.fuzz TARGET [--seconds N | --iterations N] [--seed N] [--crashes DIR]``.

Runs the mutation fuzzer on one target (``apk``, ``keystore``, ``tlv``) or ``all`` of them in
turn, under an address-space limit (``--memory-mib``, default 1024) so a hostile input that
makes the reader allocate without bound shows up as a MemoryError finding. Exit status 1 when
any input broke a target's contract (the inputs are saved in ``--crashes``), else 0.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from .runner import fuzz
from .targets import TARGETS


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=[*TARGETS, "all"])
    parser.add_argument("--seconds", type=float, default=60.0, help="time budget per target")
    parser.add_argument("--iterations", type=int, default=None, help="inputs per target instead")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--crashes", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--memory-mib", type=int, default=1024)
    args = parser.parse_args(argv)
    # Soft limit only: the seeds' keytool (a JVM reserves far more address space) lifts it
    # for itself (targets._without_memory_limit).
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_mib << 20, hard))
    failed = False
    for name in TARGETS if args.target == "all" else [args.target]:
        result = fuzz(TARGETS[name], seconds=None if args.iterations else args.seconds,
                      iterations=args.iterations, seed=args.seed, crashes=args.crashes)
        print(f"{name}: {result.runs} inputs ({result.seeds} seeds) in {result.elapsed:.1f} s, "
              f"seed {args.seed}, {len(result.findings)} finding(s)")
        for finding in result.findings:
            print(f"  {finding}")
        failed |= bool(result.findings)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
