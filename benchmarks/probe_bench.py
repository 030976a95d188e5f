"""Benchmark: ``wifiq probe`` of 1,000 ePDG addresses answered by one strongSwan charon that
delays every request by 50 ms (``receive_delay``; tc/netem is absent), in namespaces.

The server namespace holds ``--addresses`` IPv4 addresses from the benchmarking range
198.18.0.0/15 (RFC 2544), all answered by one charon connection (``local_addrs = %any``, the
phone's proposals accepted: a full DH per request). Measured in the client namespace, with the
CLI (process start to exit, ``--json``):
  1. every address on UDP 500 and 4500 at the default concurrency (256);
  2. every address on UDP 500 only;
  3. one at a time (``--concurrency 1``) on a sample of ``--sequential-sample`` addresses,
     scaled to the whole set: the ratio's anchor.
Prints wall time, probes/second, outcomes and the ratio. Needs root. Usage:
``.venv/bin/python benchmarks/probe_bench.py [--addresses 1000] [--delay-ms 50]``
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rig.charon import IkeLab, Responder, ServerSpec, have_charon  # noqa: E402


def addresses(count: int) -> list[str]:
    return [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(count)]


def run_probe(lab: IkeLab, targets: list[str], *args: str) -> tuple[float, float, dict]:
    """Wall time, CPU time (user + system) of the wifiq process, and its JSON document."""
    argv = [a for t in targets for a in ("--address", t)]
    out = Path(lab.workdir) / "probe.json"
    started = time.perf_counter()
    with out.open("w") as sink:
        proc = subprocess.Popen(["ip", "netns", "exec", lab.client, sys.executable, "-m",
                                 "wifiq.cli", "probe", "--json", *args, *argv], stdout=sink,
                                stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 4):
        raise SystemExit(f"wifiq probe failed ({proc.returncode})")
    return wall, usage.ru_utime + usage.ru_stime, json.loads(out.read_text())


def outcomes(doc: dict) -> str:
    counts = collections.Counter(r["outcome"] for r in doc["results"])
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, default=1000)
    parser.add_argument("--delay-ms", type=int, default=50)
    parser.add_argument("--sequential-sample", type=int, default=100)
    args = parser.parse_args()
    reason = have_charon()
    if reason is not None:
        raise SystemExit(f"probe_bench: {reason}")
    targets = addresses(args.addresses)
    for mode, proposals in (("accept", "aes256-sha256-modp2048"),
                            ("refuse", "aes192-sha256-modp2048")):
        bench(mode, proposals, targets, args)


def bench(mode: str, proposals: str, targets: list[str], args: argparse.Namespace) -> None:
    """One responder mode: ``accept`` (charon computes a DH per request: it is the bottleneck
    on a small machine) or ``refuse`` (NO_PROPOSAL_CHOSEN, no DH: the prober's own speed)."""
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as work:
        spec = ServerSpec(responders=(Responder((), proposals),),
                          receive_delay_ms=args.delay_ms)
        lab = IkeLab((spec,), Path(work))
        with lab:
            server = lab.server(0)
            batch = Path(work) / "addresses.batch"
            batch.write_text("".join(f"addr add {t}/16 dev iks0\n" for t in targets))
            lab.ns(server, "ip", "-batch", str(batch))
            lab.ns(server, "ip", "route", "add", "203.0.113.0/24", "dev", "iks0")
            lab.ns(lab.client, "ip", "route", "add", "198.18.0.0/15", "dev", "ikc0")
            run_probe(lab, targets[:5], "--port", "500")  # warm-up (ARP, imports)
            print(f"{len(targets)} addresses, charon receive_delay {args.delay_ms} ms, "
                  f"responder {mode}s")
            for label, extra in (("500+4500", ()), ("500 only", ("--port", "500"))):
                wall, cpu, doc = run_probe(lab, targets, *extra)
                print(f"  {label}, concurrency 256: {wall:6.2f} s wall, wifiq CPU {cpu:5.2f} s, "
                      f"{len(doc['results']) / wall:5.0f} probes/s  ({outcomes(doc)})")
                if label == "500 only":
                    only = wall
            sample = targets[: args.sequential_sample]
            seq, _, doc_seq = run_probe(lab, sample, "--port", "500", "--concurrency", "1")
            scaled = seq * len(targets) / len(sample)
            print(f"  500 only, one at a time: {seq:6.2f} s for {len(sample)} "
                  f"({outcomes(doc_seq)}) -> {scaled:6.1f} s for {len(targets)} (scaled)")
            print(f"  ratio one-at-a-time / concurrent (500 only): {scaled / only:5.1f}x; "
                  f"1,000 addresses on UDP 500 in under 5 s: {'PASS' if only < 5 else 'MISS'}")


if __name__ == "__main__":
    main()
