"""Make ``state-before-spans.sqlite``: a state as wifiq wrote it before probe spans (schema 2,
one ``probes`` row per address, port and run of probes), with that wifiq's own code.

Run it against the tree of commit ddcedd2 (main on 2026-12-06, before issue 11's spans)::

    git archive ddcedd2 | tar -x -C /tmp/before
    .venv/bin/python tests/wifiq_probe/data/make_state_before_spans.py /tmp/before OUT.sqlite

Six runs of probes of four addresses of one name (505-01): 192.0.2.10 answers on both ports;
192.0.2.11 port 500 answers, is silent in runs 3 and 4, answers again; 2001:db8::12 refuses
(NO_PROPOSAL_CHOSEN); 192.0.2.13 is unreachable in runs 1-3, not probed in runs 4 and 5 (not
active after refresh 4) and unreachable again in run 6. Runs 1-4 and 6 follow refreshes 1-5; run 5 is a
``wifiq probe`` (no refresh). Times: 2026-12-06 00:00 UTC + 15 minutes per run.
"""

from __future__ import annotations

import importlib
import sqlite3
import sys
from pathlib import Path

NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
START = 1796515200.0  # 2026-12-06T00:00:00Z
CHOSEN = "aes-cbc-256/hmac-sha2-256-128/prf-hmac-sha2-256/modp14"
NOTIFIES = ("NAT_DETECTION_SOURCE_IP", "NAT_DETECTION_DESTINATION_IP")
VENDOR = ("882fe56d6fd20dbc2251613b2ebe5beb",)
ADDRESSES = ("192.0.2.10", "192.0.2.11", "2001:db8::12", "192.0.2.13")


def main() -> None:
    tree, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path.insert(0, str(tree))
    decision = importlib.import_module("wifiq.probe.decision")
    store_mod = importlib.import_module("wifiq.store")
    probes = importlib.import_module("wifiq.store.probes")
    holddown = importlib.import_module("wifiq.holddown")
    outcome = decision.Outcome

    def result(address: str, port: int, kind: str, rtt: float | None) -> object:
        o = outcome(kind)
        answered = o is outcome.ANSWERED
        detail = {"answered": "proposal 1 chosen", "silent": "no reply to 3 requests",
                  "no_proposal_chosen": "NO_PROPOSAL_CHOSEN",
                  "unreachable": "ICMP port unreachable"}[kind]
        return decision.ProbeResult(
            address=address, port=port, outcome=o, rtt=rtt, chosen=CHOSEN if answered else None,
            notifies=NOTIFIES if answered else (), vendor_ids=VENDOR if answered else (),
            group=14, requests=3 if kind == "silent" else 1, detail=detail)

    port500_of_11 = ["answered", "answered", "silent", "silent", "answered", "answered"]
    refresh_of = [1, 2, 3, 4, None, 5]
    with store_mod.StateStore(out) as store:
        refresh = 0
        for run in range(6):
            at = START + run * 900
            if refresh_of[run] is not None:
                active = [a for a in ADDRESSES if a != "192.0.2.13" or run != 3]
                refresh = store.record_refresh(
                    refreshed_at=at, finished_at=at, status="unchanged", wifiq_version="t",
                    lookups=[], active=[holddown.AddressState(
                        NAME, a, 6 if ":" in a else 4, START, at) for a in active],
                    replaced_names=[NAME], changes=[],
                    name_plmns=[(NAME, "505-01", "epdg")])
            results = []
            for port in (500, 4500):
                results.append(result("192.0.2.10", port, "answered", 0.010 + 0.001 * run))
                kind = port500_of_11[run] if port == 500 else "answered"
                results.append(result("192.0.2.11", port, kind,
                                      None if kind == "silent" else 0.020 + 0.002 * run))
                results.append(result("2001:db8::12", port, "no_proposal_chosen", 0.030))
                if run not in (3, 4):
                    results.append(result("192.0.2.13", port, "unreachable", 0.001))
            reachable = sum(1 for r in results if r.outcome.reachable)
            probes.record_probes(
                store, probed_at=at + 1, finished_at=at + 2,
                status="ok" if reachable == len(results) else "partial", results=results,
                refresh_run=refresh if refresh_of[run] is not None else None)
    with sqlite3.connect(out) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
    db.close()


if __name__ == "__main__":
    main()
