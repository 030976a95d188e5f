"""Benchmark: resolve the ePDG and sos names of every PLMN in the embedded list (A and AAAA)
against knot on loopback, beside kdig, in the same run.

Measured, each on the same names against the same knot:
  1. wifiq's resolver (library call, as ``wifiq resolve`` makes it) and the whole CLI
     (``wifiq resolve --json``, process start to exit);
  2. kdig with every question on one command line (one process; kdig has no batch file):
     three output forms, the fastest is the anchor; and, for reference, kdig in processes of
     500 names each (kdig slows down on very long command lines);
  3. the seed's method, one kdig process per lookup (on a sample: it is slow);
  4. wifiq through a UDP relay that delays every answer by 50 ms (concurrency, not latency,
     must set the time: target, the whole world in under 10 s).
Prints queries/second, the ratios and peak memory (max RSS). Usage:
``.venv/bin/python benchmarks/resolve_bench.py [--sample 300] [--delay 0.05]``
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import dns.message

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.rig.knot import KnotServer, zone  # noqa: E402
from tests.rig.relay import DelayRelay  # noqa: E402
from wifiq.names import names_for  # noqa: E402
from wifiq.operators import load_operators  # noqa: E402
from wifiq.resolve import ResolveOptions, parse_resolver, resolve  # noqa: E402
from wifiq.resolve.wire import (  # noqa: E402
    TYPE_A,
    TYPE_AAAA,
    encode_query,
    parse_response,
    response_from_message,
)

PARENT = "pub.3gppnetwork.org"
KDIG = "kdig"
#: kdig one-process output forms tried; the fastest is the anchor (+noidn skips IDN work).
KDIG_FORMS = (["+short"], ["+short", "+noidn"], ["+noall", "+answer", "+noidn"])
#: Names per kdig process for the chunked reference (kdig slows down with very long
#: command lines, so many shorter processes beat one long one).
KDIG_CHUNK = 500


def world_names() -> list[str]:
    db = load_operators(user_files=False)
    names = [n.fqdn for op in db.all() for n in names_for(op.plmn, ("epdg", "sos"))]
    return list(dict.fromkeys(names))


def world_zone(names: list[str]) -> str:
    """Every name gets an A record; two in three also an AAAA (the rest answer NODATA)."""
    records = []
    for i, name in enumerate(names):
        rel = name[: -len(PARENT) - 1]
        records.append(f"{rel} IN A 203.0.{113 + i // 60000}.{i % 250 + 1}")
        if i % 3:
            records.append(f"{rel} IN AAAA 2001:db8::{i:x}")
    return zone(PARENT, records)


def run_measured(cmd: list[str]) -> tuple[float, int, bytes]:
    """Run a process; return (seconds, its peak RSS in KiB, stdout)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 4):
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss, out


def raw_answers(port: int, names: list[str]) -> list[bytes]:
    """knot's UDP answers to A and AAAA of ``names``, asked one by one (for the decode test)."""
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.connect(("127.0.0.1", port))
        for qid, (name, qtype) in enumerate((n, t) for n in names for t in (TYPE_A, TYPE_AAAA)):
            sock.send(encode_query(qid, name, qtype))
            answers.append(sock.recv(65535))
    return answers


def decode_costs(answers: list[bytes], rounds: int = 5) -> tuple[float, float]:
    """Best-of-``rounds`` µs per answer: wifiq's wire decoder, and dnspython's parser giving the
    same Response (``Message.from_wire`` + :func:`response_from_message`) — why wire.py exists."""
    def best(decode: Callable[[bytes], object]) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            for wire in answers:
                decode(wire)
            times.append(time.perf_counter() - start)
        return min(times) / len(answers) * 1e6

    ours = best(parse_response)
    theirs = best(lambda wire: response_from_message(dns.message.from_wire(wire)))
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=300, help="lookups for the one-per-process loop")
    parser.add_argument("--delay", type=float, default=0.05, help="relay delay per answer (s)")
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()

    names = world_names()
    questions = len(names) * 2
    print(f"machine: {os.cpu_count()} cores, Linux {platform.release()}, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}")
    print(f"names: {len(names)} (epdg + sos of every PLMN), questions: {questions} (A and AAAA)")
    with tempfile.TemporaryDirectory() as tmp:
        knot = KnotServer(Path(tmp) / "knot", {PARENT: world_zone(names)}).start()
        try:
            resolver = parse_resolver(knot.address)
            options = ResolveOptions(resolvers=(resolver,), concurrency=args.concurrency)
            resolve(names[:500], options)  # warm knot and Python's caches alike

            start = time.perf_counter()
            lookups = resolve(names, options)
            lib_s = time.perf_counter() - start
            lib_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            answered = sum(1 for lk in lookups if lk.outcome.definitive)

            cli_cmd = [str(ROOT / ".venv/bin/wifiq"), "resolve", "--resolver", knot.address,
                       "--json", "--kind", "epdg", "--kind", "sos"]
            for plmn in load_operators(user_files=False).plmns():
                cli_cmd += ["--plmn", str(plmn)]
            cli_s, cli_rss, _ = run_measured(cli_cmd)

            base = [KDIG, "@127.0.0.1", "-p", str(knot.port), "+notcp", "+retry=0"]
            questions_args = [arg for name in names for arg in (name, "A", name, "AAAA")]
            kdig_forms = {}
            for form in KDIG_FORMS:
                kdig_forms[" ".join(form)] = run_measured(base + form + questions_args)
            kdig_form, (kdig_s, kdig_rss, kdig_out) = min(
                kdig_forms.items(), key=lambda item: item[1][0])
            chunk = KDIG_CHUNK * 4
            start = time.perf_counter()
            for i in range(0, len(questions_args), chunk):
                run_measured(base + ["+short", "+noidn"] + questions_args[i : i + chunk])
            chunked_s = time.perf_counter() - start

            sample = [(n, t) for n in names[: args.sample // 2] for t in ("A", "AAAA")]
            start = time.perf_counter()
            for name, rdtype in sample:
                subprocess.run([KDIG, "@127.0.0.1", "-p", str(knot.port), "+short", name, rdtype],
                               stdout=subprocess.DEVNULL, check=True)
            loop_s = time.perf_counter() - start

            with DelayRelay(("127.0.0.1", knot.port), args.delay) as relay:
                slow = ResolveOptions(resolvers=(parse_resolver(f"127.0.0.1:{relay.port}"),),
                                      concurrency=args.concurrency)
                start = time.perf_counter()
                delayed = resolve(names, slow)
                relay_s = time.perf_counter() - start
            relay_ok = sum(1 for lk in delayed if lk.outcome.definitive)
            answers = raw_answers(knot.port, names[:1000])
            ours_us, dnspython_us = decode_costs(answers)
        finally:
            knot.stop()

    lib_qps, cli_qps = questions / lib_s, questions / cli_s
    kdig_qps, loop_qps = questions / kdig_s, len(sample) / loop_s
    print(f"wifiq library   {lib_s:7.2f} s  {lib_qps:8.0f} q/s  answered {answered}/{questions}"
          f"  peak RSS {lib_rss / 1024:.0f} MiB (benchmark process)")
    print(f"wifiq CLI       {cli_s:7.2f} s  {cli_qps:8.0f} q/s  (start to exit, JSON out)"
          f"  peak RSS {cli_rss / 1024:.0f} MiB")
    for form, (seconds, _, _) in kdig_forms.items():
        print(f"  kdig one process, {form}: {seconds:.2f} s, {questions / seconds:.0f} q/s")
    print(f"kdig 1 process  {kdig_s:7.2f} s  {kdig_qps:8.0f} q/s  (fastest form: {kdig_form}; "
          f"{len(kdig_out.splitlines())} answer lines)  peak RSS {kdig_rss / 1024:.0f} MiB")
    print(f"kdig {KDIG_CHUNK} names/process {chunked_s:5.2f} s  {questions / chunked_s:8.0f} q/s "
          "(reference: several processes)")
    print(f"kdig per lookup {loop_s:7.2f} s  {loop_qps:8.0f} q/s  (sample of {len(sample)})")
    print(f"ratio wifiq library / kdig one process: {lib_qps / kdig_qps:.2f} (target >= 0.5)")
    print(f"ratio wifiq CLI / kdig one process:     {cli_qps / kdig_qps:.2f}")
    print(f"ratio wifiq library / kdig {KDIG_CHUNK} names per process: "
          f"{lib_qps / (questions / chunked_s):.2f}")
    print(f"ratio wifiq library / one kdig per lookup: {lib_qps / loop_qps:.0f}x")
    print(f"decode one answer ({len(answers)} of knot's answers, best of 5): wire.py "
          f"{ours_us:.1f} us, dnspython from_wire {dnspython_us:.1f} us "
          f"({dnspython_us / ours_us:.1f}x); per query at kdig's one-process rate: "
          f"{1e6 / kdig_qps:.0f} us")
    verdict = "PASS" if relay_s < 10 and relay_ok == questions else "FAIL"
    print(f"world through a {args.delay * 1000:.0f} ms relay: {relay_s:.2f} s, answered "
          f"{relay_ok}/{questions} ({verdict}: target < 10 s)")


if __name__ == "__main__":
    main()
