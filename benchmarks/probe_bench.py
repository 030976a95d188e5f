"""Benchmark: ``wifiq probe`` of 1,000 ePDG addresses answered by one strongSwan charon that
delays every request by 50 ms (``receive_delay``; tc/netem is absent), in namespaces.

The server namespace holds ``--addresses`` IPv4 addresses from the benchmarking range
198.18.0.0/15 (RFC 2544), all answered by one charon connection (``local_addrs = %any``).
Three responders (:data:`RESPONDERS`): one that accepts the phone's proposals (a full
MODP-2048 DH per request), one that refuses them (NO_PROPOSAL_CHOSEN: no DH, the prober's own
speed) and, as a diagnostic of what bounds the first, the accepting one with strongSwan's short
DH exponents. For each, measured in the client namespace with the CLI (process start to exit,
``--json``):
  1. every address on UDP 500 and 4500 at the default concurrency (256) — the target;
  2. every address on UDP 500 only;
  3. one at a time (``--concurrency 1``) on a sample of ``--sequential-sample`` addresses,
     scaled to the whole set: the ratio's anchor.
Prints wall time, probes/second, outcomes, requests sent (more than the probes: resends after
a timeout), wifiq's CPU time (``wait4``) and charon's (``/proc/PID/stat``, all its threads)
over the run, the RTTs, and the load average: on a small machine the accepting responder's DH
work shares the cores with the prober. Needs root. Usage:
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def outcomes(doc: dict) -> str:
    counts = collections.Counter(r["outcome"] for r in doc["results"])
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


#: (label, charon proposals, more strongswan.conf lines, whether to time one-at-a-time too)
RESPONDERS = (
    # a MODP-2048 DH per request (two exponentiations): on this machine the responder's CPU
    ("accepts", "aes256-sha256-modp2048", (), True),
    # NO_PROPOSAL_CHOSEN, no DH: the prober's own speed
    ("refuses", "aes192-sha256-modp2048", (), True),
    # a diagnostic of what bounds the first, not a figure for the target: the same accepting
    # charon with short DH exponents (strongSwan's non-default), so its DH costs less
    ("accepts, short DH exponents (diagnostic)", "aes256-sha256-modp2048",
     ("dh_exponent_ansi_x9_42 = no",), False),
)


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
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
          f"load {load()} (1/5/15 min)")
    for label, proposals, settings, sequential in RESPONDERS:
        bench(label, proposals, settings, sequential, targets, args)


def bench(label: str, proposals: str, settings: tuple[str, ...], sequential: bool,
          targets: list[str], args: argparse.Namespace) -> None:
    """One responder: every address on both ports, then on UDP 500 only (and one at a time on
    a sample, the ratio's anchor), with wifiq's and charon's CPU time for each run."""
    with tempfile.TemporaryDirectory(prefix="probe-bench-") as work:
        spec = ServerSpec(responders=(Responder((), proposals),),
                          receive_delay_ms=args.delay_ms, settings=settings)
        lab = IkeLab((spec,), Path(work))
        with lab:
            server = lab.server(0)
            batch = Path(work) / "addresses.batch"
            batch.write_text("".join(f"addr add {t}/16 dev iks0\n" for t in targets))
            lab.ns(server, "ip", "-batch", str(batch))
            # the addresses sit behind one next hop (the server's link address), as ePDGs sit
            # behind a router: the client resolves one neighbour, not 1,000
            lab.ns(server, "ip", "addr", "add", "203.0.113.2/24", "dev", "iks0")
            lab.ns(lab.client, "ip", "route", "add", "198.18.0.0/15", "via", "203.0.113.2")
            run_probe(lab, targets[:5], "--port", "500")  # warm-up (ARP, imports)
            print(f"{len(targets)} addresses, charon receive_delay {args.delay_ms} ms, "
                  f"responder {label}")
            charon = lab.charons[0].pid  # ip netns exec, unshare and sh exec into charon
            walls = {}
            for ports, extra in (("500+4500", ()), ("500 only", ("--port", "500"))):
                before = cpu_seconds(charon)
                wall, cpu, doc = run_probe(lab, targets, *extra)
                used = cpu_seconds(charon) - before
                walls[ports] = wall
                results = doc["results"]
                rtts = sorted(r["rtt_ms"] for r in results if r["rtt_ms"] is not None)
                print(f"  {ports}, concurrency 256: {wall:5.2f} s wall, "
                      f"{len(results) / wall:5.0f} probes/s ({outcomes(doc)}; "
                      f"{sum(r['requests'] for r in results)} requests)\n"
                      f"    CPU: wifiq {cpu:4.2f} s + charon {used:4.2f} s = {cpu + used:4.2f} s: "
                      f"at least {(cpu + used) / (os.cpu_count() or 1):4.2f} s of wall on "
                      f"{os.cpu_count()} idle cores; RTT median {rtts[len(rtts) // 2]:.0f} ms, "
                      f"max {rtts[-1]:.0f} ms; load {load()}")
            if sequential:
                sample = targets[: args.sequential_sample]
                seq, _, doc_seq = run_probe(lab, sample, "--port", "500", "--concurrency", "1")
                scaled = seq * len(targets) / len(sample)
                print(f"  500 only, one at a time: {seq:6.2f} s for {len(sample)} "
                      f"({outcomes(doc_seq)}) -> {scaled:6.1f} s for {len(targets)} (scaled); "
                      f"ratio to concurrent {scaled / walls['500 only']:5.1f}x")
            both = walls["500+4500"]
            print(f"  {len(targets)} addresses x (500 + 4500) under 5 s: "
                  f"{'PASS' if both < 5 else 'MISS'} ({both:.2f} s)")


if __name__ == "__main__":
    main()
