"""The SQLite state file: runs, every observation, the active addresses and their changes,
and the IKEv2 probes of those addresses.

Tables (schema version 3):

- ``runs``: one row per refresh that reached its commit (id, time, status, counts).
- ``observation_spans``: what every lookup answered, as *spans* of consecutive runs: one row
  per (name, type, family, resolver, sample, outcome, address, detail) and the first and last
  run of an unbroken series of runs that gave that same answer (``address`` NULL when none;
  ``ttl`` is the latest run's). A refresh whose answers equal the previous run's extends the
  spans in place (``last_run``) and adds no row, so the state grows only by the ``runs`` row
  and by what changed. The view ``observations`` expands the spans back into one row per
  run (the columns of schema 1's table; ``observed_at`` is the run's time).
- ``addresses``: the active set per name with first/last seen and the hold-down counters.
- ``changes``: every address added or removed, with the reason and the run.
- ``name_plmns``: which PLMN and kind each name was looked up for (for ``wifiq history``).
- ``deliveries``: which run each consumer of the changes reflects (an ``[[outputs]]`` file, the
  printed report, the ``--on-change`` command), so one that failed is redone by the next run.
- ``failing``: the names whose last lookup failed, since when and how (for one-line summaries
  of failures that persist).
- ``probe_runs`` and ``probe_spans``: the runs of IKEv2 probes and their results as spans of
  unchanged answers per address and port (:mod:`.probes`; new in schema 3).

A state file is recognised by its own marks: SQLite ``application_id`` :data:`APPLICATION_ID`,
``user_version`` :data:`SCHEMA_VERSION` and the ``meta`` row ``application = wifiq``. Anything
else (another program's database, even one with a ``meta`` table) is refused untouched; a
wifiq state written before the marks existed (its tables and ``meta`` schema row) is adopted.
A file of 0 bytes is refused (:class:`EmptyStateError`) unless a refresh is allowed to start
a new state in it: it never silently becomes a first refresh. A schema-1 state (one ``observations`` row per lookup and run) is migrated to spans when it is
opened for writing, in the same single transaction as the open (all or nothing); so is a
schema-2 state's ``probes`` table (one row per address, port and run of probes), folded into
``probe_spans``. Read-only opens read both as they are. A schema newer than
:data:`SCHEMA_VERSION` is refused untouched.

A new state file is built complete in a temporary file beside it and then linked into place
(:mod:`.create`), so a process killed while creating it leaves none or a whole one, never the
0-byte file that would then be refused.

A refresh writes all of its rows in ONE transaction (WAL journal, synchronous FULL), so a
process killed at any point leaves either the previous state or the new one, never a mix.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .. import checkpoint
from ..errors import WifiqError
from ..holddown import AddressState, Change
from ..probe.decision import ProbeResult
from ..resolve.lookup import Lookup
from . import probes
from .create import create_state, remove_leftovers
from .probes import ProbeRun, ProbeSpan, StoredProbeRun

SCHEMA_VERSION = 3
_READABLE_SCHEMAS = ("1", "2", "3")
"""Schema versions a read-only open reads (1 has an ``observations`` table with the columns
of version 2's ``observations`` view; 2 may have a ``probes`` table of one row per probe)."""
APPLICATION_ID = 0x57694651
"""SQLite ``PRAGMA application_id`` of a wifiq state file ("WiFQ")."""
_CURRENT_ON_OPEN = ("report", "on-change")
"""Consumers (wifiq.delivery) that a state without a ``deliveries`` row counts as up to date."""
_WIFIQ_TABLES = frozenset({"meta", "runs", "observations", "addresses", "changes", "name_plmns"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    refreshed_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    status TEXT NOT NULL,
    lookups INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    wifiq_version TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS observation_spans (
    name TEXT NOT NULL,
    rdtype TEXT NOT NULL,
    family INTEGER NOT NULL,
    resolver TEXT NOT NULL,
    sample INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    address TEXT,
    detail TEXT NOT NULL,
    ttl INTEGER,
    first_run INTEGER NOT NULL REFERENCES runs(id),
    last_run INTEGER NOT NULL REFERENCES runs(id)
);
CREATE INDEX IF NOT EXISTS observation_spans_open ON observation_spans (name, last_run);
CREATE VIEW IF NOT EXISTS observations AS
    SELECT r.id AS run_id, s.name, s.rdtype, s.family, s.resolver, s.sample,
           r.refreshed_at AS observed_at, s.outcome, s.address, s.ttl, s.detail
    FROM observation_spans s JOIN runs r ON r.id BETWEEN s.first_run AND s.last_run;
CREATE TABLE IF NOT EXISTS addresses (
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    family INTEGER NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL,
    missing_count INTEGER NOT NULL,
    missing_since REAL,
    PRIMARY KEY (name, address)
);
CREATE TABLE IF NOT EXISTS changes (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    family INTEGER NOT NULL,
    change TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS changes_by_name ON changes (name, run_id);
CREATE TABLE IF NOT EXISTS name_plmns (
    name TEXT NOT NULL,
    plmn TEXT NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (name, plmn, kind)
);
CREATE TABLE IF NOT EXISTS deliveries (
    consumer TEXT PRIMARY KEY,
    run_id INTEGER NOT NULL,
    delivered_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS failing (
    name TEXT PRIMARY KEY,
    since REAL NOT NULL,
    kind TEXT NOT NULL
);
"""


_RUN_COLUMNS = "id, refreshed_at, finished_at, status, lookups, failed, wifiq_version"


class StateError(WifiqError):
    """The state file cannot be opened or is not a wifiq state file (``path``, ``reason``)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"state file {path}: {reason}")
        self.path = path
        self.reason = reason


class EmptyStateError(StateError):
    """The state file exists with 0 bytes: whatever it held is lost (truncated, a crash, a
    full disk, ``touch``). Refused unless a refresh is told to start a new state in it
    (``for_refresh``: the message names ``--allow-empty-state``)."""

    def __init__(self, path: Path, *, for_refresh: bool) -> None:
        what = "empty (0 bytes), not a wifiq state: "
        if for_refresh:
            what += ("its history, hold-down counters and the addresses kept through failures "
                     "are gone (truncated, a crash, a full disk or touch?); refused so that a "
                     "first refresh does not hide it: restore it from a backup, or refresh "
                     "once with --allow-empty-state to start a new state in it")
        else:
            what += "nothing to read (truncated, a crash, a full disk or touch?)"
        super().__init__(path, what)
        self.for_refresh = for_refresh


@dataclass(frozen=True)
class RunRecord:
    """One refresh as stored: when the lookups ran, when it finished, how it ended."""

    id: int
    refreshed_at: float
    finished_at: float
    status: str
    lookups: int
    failed: int
    wifiq_version: str


@dataclass(frozen=True)
class HistoryEvent:
    """A change of one address of one name, at a run."""

    run_id: int
    refreshed_at: float
    name: str
    address: str
    family: int
    change: str
    reason: str


@dataclass(frozen=True)
class LatestRefresh:
    """The newest refresh as ``wifiq render --state`` reads it (one consistent snapshot).

    ``previous`` is the refresh before it (None after the first); ``changes`` are the latest
    refresh's own; ``plmns`` maps each name to the PLMNs it was looked up for; ``had_addresses``
    holds every name whose history has an address (a change of any refresh), so a full output
    removes what a device may still hold for it.
    """

    run: RunRecord
    previous: RunRecord | None
    active: tuple[AddressState, ...]
    changes: tuple[HistoryEvent, ...]
    plmns: dict[str, tuple[str, ...]]
    had_addresses: frozenset[str] = frozenset()


class StateStore:
    """An open state file. Use as a context manager; every write is one transaction.

    Opening creates the file (and its directory) if needed, whole or not at all
    (:mod:`.create`: built beside it, then linked into place); raises StateError for a file that
    is not SQLite, an SQLite database that is not a wifiq state file (left untouched), or a
    schema this version does not read, and EmptyStateError for a file of 0 bytes (left
    untouched) unless ``allow_empty``. ``read_only=True`` (``history``, ``render --state``)
    never creates or changes anything and works on a read-only file or file system.
    ``started`` says whether this open began a new state: ``"missing"`` (no file),
    ``"empty"`` (a 0-byte file, ``allow_empty``) or None (an existing state, also one that
    another process created while this one was creating it).
    """

    def __init__(self, path: Path, *, read_only: bool = False,
                 allow_empty: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.started: str | None = None
        try:
            if read_only:
                _refuse_empty(self.path, for_refresh=False)
                self._db = _connect_read_only(self.path)
                _identify(self._db, self.path)
                return
            remove_leftovers(self.path)
            if not self.path.exists() and create_state(self.path, _build):
                self.started = "missing"  # made whole beside it, then linked into place
            elif not allow_empty:  # an existing file (maybe another process's new state)
                _refuse_empty(self.path, for_refresh=True)
            if self.started is None and _size(self.path):
                probe = _connect_read_only(self.path)  # look before touching anything
                try:
                    _identify(probe, self.path)
                finally:
                    probe.close()
            elif self.started is None and _size(self.path) == 0:
                self.started = "empty"  # allow_empty: a new state in the 0-byte file
            self._db = _connect_for_writing(self.path)
            _set_up(self._db, self.path)
        except sqlite3.DatabaseError as exc:
            self._db_close_quietly()
            raise StateError(self.path, str(exc)) from None
        except OSError as exc:
            self._db_close_quietly()
            raise StateError(self.path, exc.strerror or str(exc)) from None
        except StateError:
            self._db_close_quietly()
            raise

    def _db_close_quietly(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()  # an open transaction is rolled back: nothing was written

    def __enter__(self) -> "StateStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # -- reads ---------------------------------------------------------------------------------

    def active(self, names: Iterable[str] | None = None) -> list[AddressState]:
        """Active addresses (of ``names`` only, when given), ordered by name, family, address."""
        rows = self._db.execute(
            "SELECT name, address, family, first_seen, last_seen, missing_count, missing_since "
            "FROM addresses ORDER BY name, family, address"
        ).fetchall()
        wanted = None if names is None else set(names)
        return [AddressState(*row) for row in rows if wanted is None or row[0] in wanted]

    def runs(self) -> list[RunRecord]:
        """Every stored refresh, oldest first."""
        rows = self._db.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id").fetchall()
        return [RunRecord(*row) for row in rows]

    def last_run(self) -> RunRecord | None:
        """The latest stored refresh, or None before the first."""
        row = self._db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return RunRecord(*row) if row else None

    def latest(self) -> LatestRefresh | None:
        """The newest refresh, the one before, the active addresses and the newest refresh's
        changes, read in one transaction (a refresh committing meanwhile is not half seen);
        None before the first refresh."""
        db = self._db
        try:
            db.execute("BEGIN")
            rows = db.execute(
                f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT 2"
            ).fetchall()
            if not rows:
                return None
            run = RunRecord(*rows[0])
            changes = db.execute(
                "SELECT c.run_id, r.refreshed_at, c.name, c.address, c.family, c.change, "
                "c.reason FROM changes c JOIN runs r ON r.id = c.run_id WHERE c.run_id = ? "
                "ORDER BY c.name, c.family, c.address",
                (run.id,),
            ).fetchall()
            plmns: dict[str, tuple[str, ...]] = {}
            for name, plmn in db.execute(
                "SELECT name, plmn FROM name_plmns ORDER BY name, plmn"
            ).fetchall():
                if plmn not in plmns.get(name, ()):
                    plmns[name] = plmns.get(name, ()) + (plmn,)
            had = frozenset(row[0] for row in db.execute("SELECT DISTINCT name FROM changes").fetchall())
            return LatestRefresh(
                run=run,
                previous=RunRecord(*rows[1]) if len(rows) > 1 else None,
                active=tuple(self.active()),
                changes=tuple(HistoryEvent(*row) for row in changes),
                plmns=plmns,
                had_addresses=had,
            )
        except sqlite3.DatabaseError as exc:
            raise StateError(self.path, str(exc)) from None
        finally:
            if db.in_transaction:
                db.execute("COMMIT")

    def names_of(self, plmns: Sequence[str]) -> list[tuple[str, str, str]]:
        """(name, plmn, kind) rows recorded for these PLMNs (text form ``505-01``)."""
        marks = ",".join("?" * len(plmns))
        return self._db.execute(
            f"SELECT name, plmn, kind FROM name_plmns WHERE plmn IN ({marks}) ORDER BY plmn, kind",
            tuple(plmns),
        ).fetchall()

    def history(self, names: Sequence[str]) -> list[HistoryEvent]:
        """Every change of these names' addresses, oldest first."""
        marks = ",".join("?" * len(names))
        rows = self._db.execute(
            "SELECT c.run_id, r.refreshed_at, c.name, c.address, c.family, c.change, c.reason "
            f"FROM changes c JOIN runs r ON r.id = c.run_id WHERE c.name IN ({marks}) "
            "ORDER BY c.run_id, c.name, c.family, c.address",
            tuple(names),
        ).fetchall()
        return [HistoryEvent(*row) for row in rows]

    def sightings(self, names: Sequence[str]) -> list[tuple[int, float, str, str]]:
        """(run id, time, name, address) for every address found, distinct per run."""
        marks = ",".join("?" * len(names))
        return self._db.execute(
            "SELECT DISTINCT o.run_id, r.refreshed_at, o.name, o.address FROM observations o "
            f"JOIN runs r ON r.id = o.run_id WHERE o.name IN ({marks}) AND o.address IS NOT NULL "
            "ORDER BY o.run_id, o.name, o.address",
            tuple(names),
        ).fetchall()

    def failing(self) -> dict[str, tuple[float, str]]:
        """Names whose last lookup failed: (since when, kind of failure)."""
        rows = self._db.execute("SELECT name, since, kind FROM failing").fetchall()
        return {name: (since, kind) for name, since, kind in rows}

    def deliveries(self) -> dict[str, int]:
        """Each consumer (an output, the report, the on-change command) and the run it reflects."""
        return dict(self._db.execute("SELECT consumer, run_id FROM deliveries").fetchall())

    def record_deliveries(self, consumers: Iterable[str], run_id: int, at: float) -> None:
        """Record that ``consumers`` now reflect ``run_id`` (one transaction)."""
        rows = [(consumer, run_id, at) for consumer in consumers]
        if not rows:
            return
        with self._write("record what was delivered"):
            self._db.executemany("INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?)", rows)

    def changes_after(self, run_id: int) -> list[HistoryEvent]:
        """Every change of the runs after ``run_id``, oldest first."""
        rows = self._db.execute(
            "SELECT c.run_id, r.refreshed_at, c.name, c.address, c.family, c.change, c.reason "
            "FROM changes c JOIN runs r ON r.id = c.run_id WHERE c.run_id > ? "
            "ORDER BY c.run_id, c.rowid",
            (run_id,),
        ).fetchall()
        return [HistoryEvent(*row) for row in rows]

    def run_time(self, run_id: int) -> float | None:
        """When run ``run_id`` refreshed (None for 0 or a run not stored)."""
        row = self._db.execute("SELECT refreshed_at FROM runs WHERE id = ?", (run_id,)).fetchone()
        return float(row[0]) if row else None

    def last_change_run(self) -> int:
        """The newest run that changed an active set (0 when none did)."""
        row = self._db.execute("SELECT MAX(run_id) FROM changes").fetchone()
        return int(row[0] or 0)

    def probe_spans(self, addresses: Iterable[str]) -> list[ProbeSpan]:
        """Every stored probe span of these addresses, by address (IPv4 first), port and time
        ([] before the first probe). Raises StateError for a damaged state."""
        try:
            return probes.read_spans(self._db, addresses)
        except (sqlite3.Error, ValueError, KeyError) as exc:
            raise StateError(self.path, f"cannot read the probes: {exc}") from None

    def probe_runs(self, first: int, last: int) -> list[ProbeRun]:
        """The stored probe runs with ids ``first`` to ``last``, oldest first."""
        try:
            return probes.read_runs(self._db, first, last)
        except sqlite3.Error as exc:
            raise StateError(self.path, f"cannot read the probe runs: {exc}") from None

    def size(self) -> int:
        """Bytes of the database (pages in use and free)."""
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        return int(pages) * int(self._db.execute("PRAGMA page_size").fetchone()[0])

    def integrity(self) -> str:
        """SQLite's own check (``ok`` when the file is sound)."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    # -- the one write ---------------------------------------------------------------------------

    def record_refresh(
        self,
        *,
        refreshed_at: float,
        finished_at: float,
        status: str,
        wifiq_version: str,
        lookups: Sequence[Lookup],
        active: Sequence[AddressState],
        replaced_names: Iterable[str],
        changes: Sequence[Change],
        name_plmns: Iterable[tuple[str, str, str]],
        failing: Mapping[str, str] | None = None,
        retention: float | None = None,
    ) -> int:
        """Store one refresh atomically and return its run id.

        ``active`` replaces the stored active addresses of ``replaced_names`` (the names this
        refresh looked up); other names' addresses are left as they are. ``failing`` maps the
        names whose lookups failed to the kind of failure (their ``since`` is kept while they
        keep failing). Each lookup's answer extends its span of the previous run, or starts a
        new span (:func:`_record_spans`). With ``retention`` (seconds), observations of runs
        older than that are deleted: spans wholly older go, spans reaching into the kept window
        start at its first run (runs, changes and the active set are kept).
        """
        db = self._db
        failing = failing or {}
        replaced = set(replaced_names)
        with self._write("record the refresh"):
            if retention is not None:  # first, so that this run's rows reuse the freed pages
                _trim_spans(db, refreshed_at - retention)
            previous_run = db.execute("SELECT MAX(id) FROM runs").fetchone()[0]
            failed = sum(1 for lookup in lookups if not lookup.outcome.definitive)
            run_id = db.execute(
                "INSERT INTO runs (refreshed_at, finished_at, status, lookups, failed, "
                "wifiq_version) VALUES (?, ?, ?, ?, ?, ?)",
                (refreshed_at, finished_at, status, len(lookups), failed, wifiq_version),
            ).lastrowid
            assert run_id is not None
            _record_spans(db, lookups, run_id, previous_run)
            checkpoint.reached("store:observations")
            db.executemany("DELETE FROM addresses WHERE name = ?", ((n,) for n in replaced))
            db.executemany(
                "DELETE FROM failing WHERE name = ?", ((n,) for n in replaced if n not in failing)
            )
            db.executemany(
                "INSERT INTO failing VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET kind = excluded.kind",
                ((name, refreshed_at, kind) for name, kind in failing.items()),
            )
            db.executemany(
                "INSERT OR REPLACE INTO addresses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (s.name, s.address, s.family, s.first_seen, s.last_seen, s.missing_count,
                     s.missing_since)
                    for s in active
                ),
            )
            db.executemany(
                "INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?)",
                ((run_id, c.name, c.address, c.family, c.change, c.reason) for c in changes),
            )
            db.executemany("INSERT OR IGNORE INTO name_plmns VALUES (?, ?, ?)", name_plmns)
            checkpoint.reached("store:commit")
        assert run_id is not None
        return run_id

    def record_probes(
        self,
        *,
        probed_at: float,
        finished_at: float,
        status: str,
        results: Sequence[ProbeResult],
        refresh_run: int | None = None,
        retention: float | None = None,
    ) -> StoredProbeRun:
        """Store one run of probes atomically (the whole run or nothing): each result extends
        its (address, port)'s span of the previous probe run or starts a span. Returns the
        run's id and each (address, port)'s reachability at its previous probe, read in the
        same transaction. With ``retention`` (seconds), probe runs older than that are
        forgotten first (:func:`.probes.trim`). Raises StateError."""
        with self._write("record the probes"):
            stored = probes.write_run(
                self._db, probed_at=probed_at, finished_at=finished_at, status=status,
                results=results, refresh_run=refresh_run, retention=retention)
            checkpoint.reached("store:probes")
        return stored

    @contextmanager
    def _write(self, what: str) -> Iterator[None]:
        """One write transaction: committed when the block ends, rolled back when it raises
        (sqlite3 errors become StateError naming ``what``)."""
        if self.read_only:
            raise StateError(self.path, f"opened read-only: cannot {what}")
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            yield
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise StateError(self.path, f"cannot {what}: {exc}") from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise


_SpanKey = tuple[str, str, int, str, int, str, str | None, str]
"""(name, rdtype, family, resolver, sample, outcome, address, detail): what makes two runs'
observations the same, so that one span covers both."""


def _record_spans(
    db: sqlite3.Connection, lookups: Iterable[Lookup], run_id: int, previous_run: int | None
) -> None:
    """Extend to ``run_id`` every span of ``previous_run`` that this run observed again, and
    start a span for every other observation of this run. An unchanged run adds no row."""
    seen: dict[_SpanKey, int | None] = {}
    for lk in lookups:
        for address in lk.addresses or (None,):
            key = (lk.name, lk.rdtype, lk.family, lk.resolver, lk.sample, lk.outcome.value,
                   address, lk.detail)
            seen[key] = lk.ttl  # a repeated observation within one run is one row
    for key, ttl in seen.items():
        name, rdtype, family, resolver, sample, outcome, address, detail = key
        extended = 0
        if previous_run is not None:
            extended = db.execute(
                "UPDATE observation_spans SET last_run = ?, ttl = ? WHERE name = ? "
                "AND last_run = ? AND rdtype = ? AND family = ? AND resolver = ? AND sample = ? "
                "AND outcome = ? AND address IS ? AND detail = ?",
                (run_id, ttl, name, previous_run, rdtype, family, resolver, sample, outcome,
                 address, detail),
            ).rowcount
        if not extended:
            db.execute(
                "INSERT INTO observation_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, rdtype, family, resolver, sample, outcome, address, detail, ttl, run_id,
                 run_id),
            )


def _trim_spans(db: sqlite3.Connection, before: float) -> None:
    """Forget the observations of every run that refreshed before ``before`` (epoch)."""
    row = db.execute("SELECT MAX(id) FROM runs WHERE refreshed_at < ?", (before,)).fetchone()
    if row[0] is None:
        return
    cutoff = int(row[0])
    db.execute("DELETE FROM observation_spans WHERE last_run <= ?", (cutoff,))
    db.execute(
        "UPDATE observation_spans SET first_run = "
        "(SELECT MIN(id) FROM runs WHERE id > ?) WHERE first_run <= ?",
        (cutoff, cutoff),
    )


def _migrate_from_1(db: sqlite3.Connection) -> None:
    """Turn schema 1's ``observations`` table (a row per lookup, address and run) into spans.

    Runs inside the caller's write transaction: a failure or a kill leaves schema 1 whole.
    Two observations fall into one span when all of the key's fields are equal and their runs
    are adjacent stored runs; a span's ``ttl`` is its last run's.
    """
    db.execute(
        "CREATE TABLE observation_spans (name TEXT NOT NULL, rdtype TEXT NOT NULL, "
        "family INTEGER NOT NULL, resolver TEXT NOT NULL, sample INTEGER NOT NULL, "
        "outcome TEXT NOT NULL, address TEXT, detail TEXT NOT NULL, ttl INTEGER, "
        "first_run INTEGER NOT NULL REFERENCES runs(id), "
        "last_run INTEGER NOT NULL REFERENCES runs(id))"
    )
    order = {run: index for index, (run,) in
             enumerate(db.execute("SELECT id FROM runs ORDER BY id").fetchall())}
    indexed = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND "
                         "name = 'observations_by_name'").fetchone() is not None
    rows = db.execute(  # in the order of schema 1's index (name, run_id): no temporary sort
        "SELECT name, rdtype, family, resolver, sample, outcome, address, detail, run_id, ttl "
        f"FROM observations {'INDEXED BY observations_by_name' if indexed else ''} "
        "ORDER BY name, run_id"
    )
    insert = "INSERT INTO observation_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    out: list[tuple[object, ...]] = []
    spans: dict[tuple[object, ...], tuple[object, int, int]] = {}  # the name's: ttl, first, last
    name: object = None
    for row in rows:
        row_key, run, ttl = tuple(row[:8]), int(row[8]), row[9]
        if row[0] != name:  # a new name: its spans are all closed
            out.extend((*key, *span) for key, span in spans.items())
            spans.clear()
            name = row[0]
        span = spans.get(row_key)
        if span is not None and span[2] == run:
            spans[row_key] = (ttl, span[1], run)  # the same observation twice in one run
        elif span is not None and order.get(run, -2) == order.get(span[2], -2) + 1:
            spans[row_key] = (ttl, span[1], run)  # the next stored run: the span goes on
        else:
            if span is not None:
                out.append((*row_key, *span))
            spans[row_key] = (ttl, run, run)
        if len(out) >= 10_000:
            db.executemany(insert, out)
            out.clear()
    out.extend((*key, *span) for key, span in spans.items())
    db.executemany(insert, out)
    db.execute("DROP TABLE observations")  # and its indexes; the view replaces it


def _size(path: Path) -> int | None:
    """The size of the file at ``path`` (None: no file there)."""
    return path.stat().st_size if path.is_file() else None


def _refuse_empty(path: Path, *, for_refresh: bool) -> None:
    if _size(path) == 0:
        raise EmptyStateError(path, for_refresh=for_refresh)


def _connect_for_writing(path: Path) -> sqlite3.Connection:
    """A connection as every write uses it: WAL journal, synchronous FULL, foreign keys."""
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        db.close()
        raise
    return db


def _set_up(db: sqlite3.Connection, path: Path) -> None:
    """In ONE transaction: identify the database under the write lock, migrate an older schema,
    create what is missing and set the marks (all or nothing)."""
    db.execute("BEGIN IMMEDIATE")
    found = _identify(db, path)  # again, under the write lock
    if found == "1":
        _migrate_from_1(db)  # same transaction: all or nothing
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    probes.create(db)
    if found in ("1", "2"):
        probes.migrate(db)  # one row per probe -> spans, same transaction
        checkpoint.reached("store:migrated")
    db.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
    db.execute("INSERT OR IGNORE INTO meta VALUES ('application', 'wifiq')")
    for consumer in _CURRENT_ON_OPEN:  # a state from before deliveries: all reported
        db.execute("INSERT OR IGNORE INTO deliveries SELECT ?, COALESCE(MAX(id), 0), 0 FROM runs",
                   (consumer,))
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    checkpoint.reached("store:set-up")
    db.execute("COMMIT")


def _build(path: Path) -> None:
    """Make a complete new state in the (empty, temporary) file ``path`` and close it: the
    close checkpoints the WAL into the file, so the file alone holds the state."""
    db = _connect_for_writing(path)
    try:
        _set_up(db, path)
        checkpoint.reached("store:create:committed")
    finally:
        db.close()


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only (SQLite ``mode=ro``), never creating it. On a read-only file
    system (or a file and directory this user cannot write), where SQLite cannot create the
    WAL index, the file is opened ``immutable``: nobody can be writing it there."""
    if not path.is_file():
        raise StateError(path, "no such file")
    uri = "file:" + urllib.parse.quote(str(path.absolute())) + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        wal = Path(f"{path}-wal")
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        if writable or (wal.exists() and wal.stat().st_size > 0):
            raise
    db = sqlite3.connect(uri + "&immutable=1", uri=True, isolation_level=None)
    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    return db


def _identify(db: sqlite3.Connection, path: Path) -> str | None:
    """Raise StateError unless ``db`` is empty, a wifiq state file, or one written before the
    marks existed (all of wifiq's tables and its ``meta`` schema row). Reads only. Returns the
    schema version stored (None for an empty database)."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id == APPLICATION_ID or (app_id == 0 and not tables):
        if "meta" in tables:
            return _check_schema(db, path)
        return None
    named = tables | {row[0] for row in
                      db.execute("SELECT name FROM sqlite_master WHERE type = 'view'")}
    if app_id == 0 and _WIFIQ_TABLES <= named:  # schema 1's observations table, 2's view
        row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if row is not None:
            return _check_schema(db, path)
    what = (f"its application_id is {app_id:#x}" if app_id
            else f"it has other tables: {', '.join(sorted(tables)[:3])}")
    raise StateError(path, f"an SQLite database but not a wifiq state file ({what})")


def _check_schema(db: sqlite3.Connection, path: Path) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is None:
        return None
    if row[0] not in _READABLE_SCHEMAS:
        readable = f"{', '.join(_READABLE_SCHEMAS[:-1])} and {_READABLE_SCHEMAS[-1]}"
        raise StateError(path, f"schema version {row[0]}, this wifiq reads {readable} "
                               "(a newer wifiq wrote it?)")
    if row[0] == "1":
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "observations" not in tables:
            raise StateError(path, "schema version 1 without its observations table: cannot "
                                   "migrate it")
    return str(row[0])
