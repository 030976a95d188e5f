"""Probe results in the state file as *spans* (schema 3): the SQL behind the probe methods of
:class:`~wifiq.store.StateStore` (``record_probes``, ``probe_spans``, ``probe_runs``), which
owns the connection and the transactions; nothing outside the store calls this module.

- ``probe_runs``: one row per run of probes (when, the refresh whose addresses it probed or
  NULL, status, how many (address, port) were probed and how many of them were unreachable).
- ``probe_spans``: one row per (address, port) and unbroken series of probe runs that gave the
  same answer: the :data:`SPAN_KEY` fields (outcome, chosen proposal, DH group, notify types,
  vendor IDs, detail), the first and last probe run, how many probes, the RTT (min, sum and
  count for the average, max, latest) and the latest probe's ``requests`` and ``steps``.
  A probe whose key equals its (address, port)'s span *of the previous probe run* extends that
  span in place (``last_run``); anything else starts a span. So an unchanged run of probes
  adds only its ``probe_runs`` row, and every probe of every run can still be told: the runs
  a span covers are exactly the ``probe_runs`` ids from ``first_run`` to ``last_run``.

``requests`` (resends after loss) and ``steps`` (a COOKIE asked for under load) are not part
of the key: they vary with load and loss, not with what the ePDG answers, and would cut a span
at every lost datagram. A state of schema 2 (one ``probes`` row per address, port and run) is
folded into spans by :func:`migrate` (in the open's transaction) or, read-only, by
:func:`fold` on the fly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..probe.decision import Outcome, ProbeResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS probe_runs (
    id INTEGER PRIMARY KEY,
    probed_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    refresh_run INTEGER,
    status TEXT NOT NULL,
    probes INTEGER NOT NULL,
    unreachable INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS probe_spans (
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    chosen TEXT,
    notifies TEXT NOT NULL,
    vendor_ids TEXT NOT NULL,
    dh_group INTEGER NOT NULL,
    detail TEXT NOT NULL,
    first_run INTEGER NOT NULL REFERENCES probe_runs(id),
    last_run INTEGER NOT NULL REFERENCES probe_runs(id),
    probes INTEGER NOT NULL,
    rtt_n INTEGER NOT NULL,
    rtt_sum_ms REAL NOT NULL,
    rtt_min_ms REAL,
    rtt_max_ms REAL,
    rtt_last_ms REAL,
    requests INTEGER NOT NULL,
    steps TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS probe_spans_by_address ON probe_spans (address, port);
CREATE INDEX IF NOT EXISTS probe_spans_open ON probe_spans (last_run);
"""

SPAN_KEY = ("outcome", "chosen", "notifies", "vendor_ids", "dh_group", "detail")
"""The fields whose equality lets a probe extend its (address, port)'s span."""

_SPAN_COLUMNS = ("address, port, outcome, chosen, notifies, vendor_ids, dh_group, detail, "
                 "first_run, last_run, probes, rtt_n, rtt_sum_ms, rtt_min_ms, rtt_max_ms, "
                 "rtt_last_ms, requests, steps")
_RUN_COLUMNS = "id, probed_at, finished_at, refresh_run, status, probes, unreachable"
_CHUNK = 500  # addresses per IN (...) list, well under SQLite's variable limit


@dataclass(frozen=True)
class ProbeRun:
    """One stored run of probes: when, the refresh it followed (None: ``wifiq probe``), its
    status and how many (address, port) it probed and found unreachable."""

    id: int
    probed_at: float
    finished_at: float
    refresh_run: int | None
    status: str
    probes: int
    unreachable: int


@dataclass(frozen=True)
class ProbeSpan:
    """Consecutive probe runs in which one (address, port) gave the same answer.

    ``first`` and ``last`` are the runs it starts and ends at; ``probes`` how many probes it
    holds (one per run from ``first`` to ``last``). RTTs are milliseconds over the span's
    probes (None when none had one: ``silent``); ``rtt_last_ms``, ``requests`` and ``steps``
    are the latest probe's.
    """

    address: str
    port: int
    outcome: Outcome
    chosen: str | None
    notifies: tuple[str, ...]
    vendor_ids: tuple[str, ...]
    group: int
    detail: str
    first: ProbeRun
    last: ProbeRun
    probes: int
    rtt_min_ms: float | None
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    rtt_last_ms: float | None
    requests: int
    steps: tuple[str, ...]

    @property
    def reachable(self) -> bool:
        return self.outcome.reachable


@dataclass(frozen=True)
class StoredProbeRun:
    """What :meth:`~wifiq.store.StateStore.record_probes` stored: the run's id and, for each
    (address, port) it probed that had been probed before, whether it was reachable at its
    latest earlier probe (read in the same transaction, so the news is exact)."""

    run_id: int
    previous: dict[tuple[str, int], bool]


def create(db: sqlite3.Connection) -> None:
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (name,)).fetchone() is not None


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


# -- writing ---------------------------------------------------------------------------------------


def write_run(
    db: sqlite3.Connection,
    *,
    probed_at: float,
    finished_at: float,
    status: str,
    results: Sequence[ProbeResult],
    refresh_run: int | None,
    retention: float | None,
) -> StoredProbeRun:
    """Store one run of probes inside the caller's write transaction (see the module doc).
    One result per (address, port): a repeated one counts once, the last one."""
    latest = {(r.address, r.port): r for r in results}
    before = _latest_reachability(db, sorted({address for address, _ in latest}))
    previous = {key: before[key] for key in latest if key in before}
    if retention is not None:  # first, so that this run's rows reuse the freed pages
        trim(db, probed_at - retention)
    previous_run = db.execute("SELECT MAX(id) FROM probe_runs").fetchone()[0]
    run_id = db.execute(
        "INSERT INTO probe_runs (probed_at, finished_at, refresh_run, status, probes, "
        "unreachable) VALUES (?, ?, ?, ?, ?, ?)",
        (probed_at, finished_at, refresh_run, status, len(latest),
         sum(1 for r in latest.values() if not r.outcome.reachable)),
    ).lastrowid
    assert run_id is not None
    open_spans: dict[tuple[str, int], tuple[int, tuple[Any, ...]]] = {}
    if previous_run is not None:  # the spans the previous run ended at: the ones to extend
        for rowid, address, port, *key in db.execute(
                f"SELECT rowid, address, port, {', '.join(SPAN_KEY)} FROM probe_spans "
                "WHERE last_run = ?", (previous_run,)):
            open_spans[(address, port)] = (rowid, tuple(key))
    extend: list[dict[str, Any]] = []
    start: list[dict[str, Any]] = []
    for (address, port), result in latest.items():
        row = {**_key_row(result), "run": run_id}
        span = open_spans.get((address, port))
        if span is not None and span[1] == tuple(row[k] for k in SPAN_KEY):
            extend.append({**row, "rowid": span[0]})
        else:
            start.append(row)
    db.executemany(
        "UPDATE probe_spans SET last_run = :run, probes = probes + 1, "
        "rtt_n = rtt_n + (:rtt IS NOT NULL), rtt_sum_ms = rtt_sum_ms + COALESCE(:rtt, 0), "
        "rtt_min_ms = CASE WHEN :rtt IS NULL THEN rtt_min_ms "
        "ELSE min(COALESCE(rtt_min_ms, :rtt), :rtt) END, "
        "rtt_max_ms = CASE WHEN :rtt IS NULL THEN rtt_max_ms "
        "ELSE max(COALESCE(rtt_max_ms, :rtt), :rtt) END, "
        "rtt_last_ms = :rtt, requests = :requests, steps = :steps WHERE rowid = :rowid",
        extend)
    db.executemany(
        f"INSERT INTO probe_spans ({_SPAN_COLUMNS}) VALUES (:address, :port, :outcome, "
        ":chosen, :notifies, :vendor_ids, :dh_group, :detail, :run, :run, 1, "
        "(:rtt IS NOT NULL), COALESCE(:rtt, 0), :rtt, :rtt, :rtt, :requests, :steps)",
        start)
    return StoredProbeRun(run_id, previous)


def _key_row(r: ProbeResult) -> dict[str, object]:
    return {"address": r.address, "port": r.port, "outcome": r.outcome.value,
            "chosen": r.chosen, "notifies": json.dumps(list(r.notifies)),
            "vendor_ids": json.dumps(list(r.vendor_ids)), "dh_group": r.group,
            "detail": r.detail, "rtt": None if r.rtt is None else round(r.rtt * 1000, 3),
            "requests": r.requests, "steps": json.dumps(list(r.steps))}


def _latest_reachability(db: sqlite3.Connection,
                         addresses: Sequence[str]) -> dict[tuple[str, int], bool]:
    """Whether each (address, port) of these addresses was reachable at its latest probe."""
    out: dict[tuple[str, int], bool] = {}
    for chunk in _chunks(addresses):
        marks = ",".join("?" * len(chunk))
        for address, port, outcome, _ in db.execute(  # SQLite: the row of MAX(last_run)
            "SELECT address, port, outcome, MAX(last_run) FROM probe_spans "
            f"WHERE address IN ({marks}) GROUP BY address, port", tuple(chunk)
        ):
            out[(address, port)] = Outcome(outcome).reachable
    return out


def trim(db: sqlite3.Connection, before: float) -> None:
    """Forget the probe runs that started before ``before`` (epoch): spans that ended before
    go, spans reaching past it start at the first run kept, with their count of probes cut to
    the runs kept (their RTT figures still cover the probes forgotten)."""
    row = db.execute("SELECT MAX(id) FROM probe_runs WHERE probed_at < ?", (before,)).fetchone()
    if row[0] is None:
        return
    cutoff = int(row[0])
    db.execute("DELETE FROM probe_spans WHERE last_run <= ?", (cutoff,))
    db.execute(
        "UPDATE probe_spans SET first_run = (SELECT MIN(id) FROM probe_runs WHERE id > :cut), "
        "probes = probes - (SELECT COUNT(*) FROM probe_runs r "
        "WHERE r.id BETWEEN probe_spans.first_run AND :cut) WHERE first_run <= :cut",
        {"cut": cutoff})  # counts only the runs forgotten now (usually one), not the span
    db.execute("DELETE FROM probe_runs WHERE id <= ?", (cutoff,))


# -- schema 2's rows -----------------------------------------------------------------------------

_OLD_ROWS = ("SELECT probe_run, address, port, outcome, chosen, notifies, vendor_ids, dh_group, "
             "detail, rtt_ms, requests, steps FROM probes")


@dataclass
class _Folding:
    """A span being built by :func:`fold` (the ``probe_spans`` columns, mutable)."""

    address: str
    port: int
    key: tuple[Any, ...]  # SPAN_KEY's values, as stored
    first_run: int
    last_run: int
    probes: int
    rtt_n: int
    rtt_sum: float
    rtt_min: float | None
    rtt_max: float | None
    rtt_last: float | None
    requests: int
    steps: str

    def add(self, run: int, rtt: float | None, requests: int, steps: str) -> None:
        self.last_run = run
        self.probes += 1
        if rtt is not None:
            self.rtt_n += 1
            self.rtt_sum += rtt
            self.rtt_min = rtt if self.rtt_min is None else min(self.rtt_min, rtt)
            self.rtt_max = rtt if self.rtt_max is None else max(self.rtt_max, rtt)
        self.rtt_last, self.requests, self.steps = rtt, requests, steps

    def row(self) -> tuple[Any, ...]:
        return (self.address, self.port, *self.key, self.first_run, self.last_run, self.probes,
                self.rtt_n, self.rtt_sum, self.rtt_min, self.rtt_max, self.rtt_last,
                self.requests, self.steps)


def fold(rows: Iterable[Any], run_order: Sequence[int]) -> list[tuple[Any, ...]]:
    """Schema 2's ``probes`` rows (the columns of :data:`_OLD_ROWS`, in run order) as
    ``probe_spans`` rows (the columns of :data:`_SPAN_COLUMNS`): what recording those runs one
    by one would have stored. Pure."""
    index = {run: n for n, run in enumerate(run_order)}
    spans: dict[tuple[str, int], _Folding] = {}  # each (address, port)'s latest span
    done: list[_Folding] = []
    for run, address, port, outcome, chosen, notifies, vendor_ids, group, detail, rtt, \
            requests, steps in rows:
        key = (outcome, chosen, notifies, vendor_ids, group, detail)
        span = spans.get((address, port))
        if span is not None and span.last_run == run:
            continue  # the same (address, port) twice in one run: counted once
        if (span is not None and span.key == key
                and index.get(run, -2) == index.get(span.last_run, -2) + 1):
            span.add(run, rtt, requests, steps)
            continue
        if span is not None:
            done.append(span)
        spans[(address, port)] = _Folding(
            address, port, key, run, run, 1, int(rtt is not None), rtt or 0.0, rtt, rtt, rtt,
            requests, steps)
    done.extend(spans.values())
    done.sort(key=lambda s: (index.get(s.first_run, -1), s.address, s.port))
    return [span.row() for span in done]


def migrate(db: sqlite3.Connection) -> None:
    """Fold schema 2's ``probes`` table (if any) into ``probe_spans`` and drop it. Runs inside
    the open's write transaction: killed midway, the state stays schema 2, whole."""
    if not _has_table(db, "probes"):
        return
    order = [run for (run,) in db.execute("SELECT id FROM probe_runs ORDER BY id")]
    spans = fold(db.execute(f"{_OLD_ROWS} ORDER BY probe_run, address, port"), order)
    marks = ", ".join("?" * len(_SPAN_COLUMNS.split(", ")))
    db.executemany(f"INSERT INTO probe_spans ({_SPAN_COLUMNS}) VALUES ({marks})", spans)
    db.execute("DROP TABLE probes")  # and its index


# -- reading -------------------------------------------------------------------------------------


def read_runs(db: sqlite3.Connection, first: int, last: int) -> list[ProbeRun]:
    """The stored probe runs with ids from ``first`` to ``last``, oldest first."""
    if not _has_table(db, "probe_runs"):
        return []
    rows = db.execute(f"SELECT {_RUN_COLUMNS} FROM probe_runs WHERE id BETWEEN ? AND ? "
                      "ORDER BY id", (first, last)).fetchall()
    return [ProbeRun(*row) for row in rows]


def read_spans(db: sqlite3.Connection, addresses: Iterable[str]) -> list[ProbeSpan]:
    """Every stored span of these addresses, by address, port and time ([] before the first
    probe). A schema-2 state (read-only) has its rows folded on the fly. Raises
    sqlite3.Error or ValueError for a damaged state."""
    wanted = list(dict.fromkeys(addresses))
    if not wanted or not _has_table(db, "probe_runs"):
        return []
    if _has_table(db, "probe_spans"):
        rows: list[Any] = []
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            rows += db.execute(f"SELECT {_SPAN_COLUMNS} FROM probe_spans "
                               f"WHERE address IN ({marks})", tuple(chunk)).fetchall()
    elif _has_table(db, "probes"):
        order = [run for (run,) in db.execute("SELECT id FROM probe_runs ORDER BY id")]
        marks = ",".join("?" * len(wanted))
        rows = fold(db.execute(f"{_OLD_ROWS} WHERE address IN ({marks}) "
                               "ORDER BY probe_run, address, port", tuple(wanted)), order)
    else:
        return []
    used = {int(r[8]) for r in rows} | {int(r[9]) for r in rows}
    runs = {run.id: run for run in read_runs(db, min(used), max(used))} if used else {}
    spans = [_span(row, runs) for row in rows]
    return sorted(spans, key=lambda s: (":" in s.address, s.address, s.port, s.first.id))


def _span(row: Sequence[Any], runs: dict[int, ProbeRun]) -> ProbeSpan:
    (address, port, outcome, chosen, notifies, vendor_ids, group, detail, first, last, probes,
     rtt_n, rtt_sum, rtt_min, rtt_max, rtt_last, requests, steps) = row
    return ProbeSpan(
        address=str(address), port=int(port), outcome=Outcome(outcome),
        chosen=None if chosen is None else str(chosen),
        notifies=tuple(json.loads(notifies)), vendor_ids=tuple(json.loads(vendor_ids)),
        group=int(group), detail=str(detail), first=runs[int(first)], last=runs[int(last)],
        probes=int(probes), rtt_min_ms=_ms(rtt_min),
        rtt_avg_ms=round(float(rtt_sum) / int(rtt_n), 3) if rtt_n else None,
        rtt_max_ms=_ms(rtt_max), rtt_last_ms=_ms(rtt_last), requests=int(requests),
        steps=tuple(json.loads(steps)))


def _ms(value: Any) -> float | None:
    return None if value is None else float(value)
