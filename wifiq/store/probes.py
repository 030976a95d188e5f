"""Probe results in the state file, beside the addresses (``wifiq probe``, ``refresh --probe``).

Two tables of their own, created on the first recorded probe (a state without them simply has
no probe history; older wifiq versions ignore them):

- ``probe_runs``: one row per run of probes (when, the refresh whose addresses it probed or
  NULL, status, counts).
- ``probes``: one row per (run, address, port): outcome, reachable, RTT, chosen proposal,
  notify types, vendor IDs, DH group, requests, steps (COOKIE, INVALID_KE_PAYLOAD n), detail.

A run of probes is written in ONE transaction. With ``retention`` (seconds) the probe runs
older than that are deleted with their rows, as the refresh does with observations.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..probe.decision import ProbeResult
from .db import StateError, StateStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS probe_runs (
    id INTEGER PRIMARY KEY,
    probed_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    refresh_run INTEGER,
    status TEXT NOT NULL,
    probes INTEGER NOT NULL,
    unreachable INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS probes (
    probe_run INTEGER NOT NULL REFERENCES probe_runs(id),
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    reachable INTEGER NOT NULL,
    rtt_ms REAL,
    chosen TEXT,
    notifies TEXT NOT NULL,
    vendor_ids TEXT NOT NULL,
    dh_group INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    steps TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS probes_by_address ON probes (address, probe_run);
"""


@dataclass(frozen=True)
class ProbeRecord:
    """One stored probe of one address and port."""

    probe_run: int
    probed_at: float
    refresh_run: int | None
    address: str
    port: int
    outcome: str
    reachable: bool
    rtt_ms: float | None
    chosen: str | None
    detail: str


def _connection(store: StateStore) -> sqlite3.Connection:
    return store._db  # the store package's own connection (same file, same transactions)


def record_probes(
    store: StateStore,
    *,
    probed_at: float,
    finished_at: float,
    status: str,
    results: Sequence[ProbeResult],
    refresh_run: int | None = None,
    retention: float | None = None,
) -> int:
    """Store one run of probes atomically and return its id. Raises StateError."""
    if store.read_only:
        raise StateError(store.path, "opened read-only: cannot record probes")
    db = _connection(store)
    try:
        db.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        if retention is not None:
            old = "SELECT id FROM probe_runs WHERE probed_at < ?"
            db.execute(f"DELETE FROM probes WHERE probe_run IN ({old})", (probed_at - retention,))
            db.execute("DELETE FROM probe_runs WHERE probed_at < ?", (probed_at - retention,))
        run_id = db.execute(
            "INSERT INTO probe_runs (probed_at, finished_at, refresh_run, status, probes, "
            "unreachable) VALUES (?, ?, ?, ?, ?, ?)",
            (probed_at, finished_at, refresh_run, status, len(results),
             sum(1 for r in results if not r.outcome.reachable)),
        ).lastrowid
        db.executemany(
            "INSERT INTO probes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((run_id, r.address, r.port, r.outcome.value, int(r.outcome.reachable),
              None if r.rtt is None else round(r.rtt * 1000, 3), r.chosen,
              json.dumps(list(r.notifies)), json.dumps(list(r.vendor_ids)), r.group,
              r.requests, json.dumps(list(r.steps)), r.detail) for r in results),
        )
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise StateError(store.path, f"cannot record the probes: {exc}") from None
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    assert run_id is not None
    return run_id


def probe_history(store: StateStore, addresses: Iterable[str]) -> list[ProbeRecord]:
    """Every stored probe of these addresses, oldest first ([] before the first probe)."""
    db = _connection(store)
    wanted = list(dict.fromkeys(addresses))
    has_table = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'probes'").fetchone()
    if not wanted or has_table is None:
        return []
    marks = ",".join("?" * len(wanted))
    try:
        rows = db.execute(
            "SELECT p.probe_run, r.probed_at, r.refresh_run, p.address, p.port, p.outcome, "
            "p.reachable, p.rtt_ms, p.chosen, p.detail FROM probes p "
            f"JOIN probe_runs r ON r.id = p.probe_run WHERE p.address IN ({marks}) "
            "ORDER BY p.probe_run, p.address, p.port",
            tuple(wanted),
        ).fetchall()
    except sqlite3.Error as exc:
        raise StateError(store.path, f"cannot read the probes: {exc}") from None
    return [ProbeRecord(run, at, refresh, address, port, outcome, bool(reachable), rtt, chosen,
                        detail)
            for run, at, refresh, address, port, outcome, reachable, rtt, chosen, detail in rows]


def latest_reachability(store: StateStore, addresses: Iterable[str]) -> dict[tuple[str, int], bool]:
    """Whether each (address, port) was reachable at its latest stored probe."""
    latest: dict[tuple[str, int], bool] = {}
    for record in probe_history(store, addresses):
        latest[(record.address, record.port)] = record.reachable
    return latest
