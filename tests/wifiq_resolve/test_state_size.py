"""The state stays small: an unchanged refresh adds its ``runs`` row and nothing else; answers
are stored as spans of runs (schema 2), which the ``observations`` view expands back into the
rows schema 1 stored; a schema-1 state is migrated in one transaction (killed midway, it stays
schema 1, whole), a newer schema is refused untouched.

Refreshes run against a real knot on loopback (conftest); the store-level cases feed
``record_refresh`` lookups directly (no DNS at all)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.rig.checkpoints import kill_at
from wifiq.holddown import AddressState
from wifiq.resolve import Lookup, Outcome
from wifiq.store import StateError, StateStore
from wifiq.store.db import APPLICATION_ID

TABLES = ("runs", "observation_spans", "addresses", "changes", "name_plmns", "deliveries",
          "failing", "meta")


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_unchanged_refreshes_add_only_their_run_rows(wifiq, knot):
    """Six refreshes of the same answers (one name failing: SERVFAIL under 999-01) grow the
    state by one ``runs`` row each: no observation, change or other row."""
    args = ("--plmn", "505-01", "--plmn", "505-02", "--plmn", "505-03", "--plmn", "999-01",
            "--resolver", knot.address, "--timeout", "3")  # no timeout on a loaded machine
    first = wifiq.refresh(*args)
    assert first.code in (3, 5), first.err
    after_first = row_counts(wifiq.state)
    assert after_first["observation_spans"] > 10  # addresses, NODATA, NXDOMAIN, SERVFAIL
    runs = 6
    for _ in range(runs - 1):
        again = wifiq.refresh(*args)
        assert again.code in (0, 4), again.err
    after = row_counts(wifiq.state)
    grown = {t: after[t] - after_first[t] for t in TABLES}
    assert grown == {**dict.fromkeys(TABLES, 0), "runs": runs - 1}
    with sqlite3.connect(wifiq.state) as db:  # the view still has a row per lookup and run
        per_run = db.execute("SELECT run_id, COUNT(*) FROM observations GROUP BY run_id"
                             ).fetchall()
        looked_up = db.execute("SELECT id, lookups FROM runs ORDER BY id").fetchall()
        distinct = db.execute(
            "SELECT run_id, COUNT(*) FROM (SELECT DISTINCT run_id, name, rdtype, resolver, "
            "sample FROM observations) GROUP BY run_id ORDER BY run_id").fetchall()
    assert len(per_run) == runs and distinct == looked_up
    history = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.state), "--json")
    seen = history.json["operators"][0]["seen"]
    assert [s["run"] for s in seen] == list(range(1, runs + 1))
    assert all("203.0.113.10" in s["addresses"] for s in seen)


def lookup(address: str | None, *, outcome: Outcome = Outcome.ADDRESSES, ttl: int = 300,
           name: str = "a.example") -> Lookup:
    return Lookup(name, "A", "127.0.0.1:53", 0, outcome, (address,) if address else (), ttl,
                  detail="" if address else "NXDOMAIN")


def record(store: StateStore, at: float, lookups: list[Lookup], *,
           retention: float | None = None) -> int:
    return store.record_refresh(
        refreshed_at=at, finished_at=at, status="unchanged", wifiq_version="t", lookups=lookups,
        active=[AddressState("a.example", "192.0.2.1", 4, 0.0, at)],
        replaced_names=["a.example"], changes=[], name_plmns=[], retention=retention)


# (run -> the addresses of a.example's lookup; None: NXDOMAIN)
SEQUENCE: list[tuple[str | None, ...]] = [
    ("192.0.2.1",), ("192.0.2.1",), ("192.0.2.1", "192.0.2.2"), ("192.0.2.2",), (None,),
    (None,), ("192.0.2.1",), ("192.0.2.1",),
]


def feed(store: StateStore, *, retention: float | None = None, step: float = 3600.0) -> None:
    for n, answer in enumerate(SEQUENCE):
        if answer == (None,):
            lookups = [lookup(None, outcome=Outcome.NXDOMAIN)]
        else:
            lookups = [Lookup("a.example", "A", "127.0.0.1:53", 0, Outcome.ADDRESSES,
                              tuple(a for a in answer if a), 300 - n)]
        record(store, 1000.0 + n * step, lookups, retention=retention)


def test_spans_expand_to_exactly_the_observations_of_each_run(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        feed(store)
        rows = store._db.execute(
            "SELECT run_id, address, outcome, observed_at FROM observations "
            "ORDER BY run_id, address").fetchall()
        spans = store._db.execute(
            "SELECT address, outcome, first_run, last_run, ttl FROM observation_spans "
            "ORDER BY first_run, address").fetchall()
        sightings = store.sightings(["a.example"])
    expected = [(n + 1, a, "addresses" if a else "nxdomain", 1000.0 + n * 3600)
                for n, answer in enumerate(SEQUENCE) for a in sorted(answer, key=str)]
    assert rows == sorted(expected, key=lambda r: (r[0], r[1] or ""))
    assert spans == [("192.0.2.1", "addresses", 1, 3, 298), ("192.0.2.2", "addresses", 3, 4, 297),
                     (None, "nxdomain", 5, 6, 300), ("192.0.2.1", "addresses", 7, 8, 293)]
    assert [(r, a) for r, _, _, a in sightings] == [
        (1, "192.0.2.1"), (2, "192.0.2.1"), (3, "192.0.2.1"), (3, "192.0.2.2"),
        (4, "192.0.2.2"), (7, "192.0.2.1"), (8, "192.0.2.1")]


def test_retention_trims_spans_to_the_kept_runs(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        feed(store, retention=2.5 * 3600)  # runs 1 hour apart: the last 3 runs are kept
        kept = [r[0] for r in store._db.execute(
            "SELECT DISTINCT run_id FROM observations ORDER BY run_id")]
        spans = store._db.execute(
            "SELECT address, first_run, last_run FROM observation_spans ORDER BY first_run"
        ).fetchall()
        assert len(store.runs()) == len(SEQUENCE)
    assert kept == [6, 7, 8]
    assert spans == [(None, 6, 6), ("192.0.2.1", 7, 8)]


SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY, refreshed_at REAL NOT NULL,
    finished_at REAL NOT NULL, status TEXT NOT NULL, lookups INTEGER NOT NULL,
    failed INTEGER NOT NULL, wifiq_version TEXT NOT NULL);
CREATE TABLE observations (run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
    rdtype TEXT NOT NULL, family INTEGER NOT NULL, resolver TEXT NOT NULL,
    sample INTEGER NOT NULL, observed_at REAL NOT NULL, outcome TEXT NOT NULL, address TEXT,
    ttl INTEGER, detail TEXT NOT NULL);
CREATE INDEX observations_by_name ON observations (name, run_id);
CREATE INDEX observations_by_run ON observations (run_id);
CREATE TABLE addresses (name TEXT NOT NULL, address TEXT NOT NULL, family INTEGER NOT NULL,
    first_seen REAL NOT NULL, last_seen REAL NOT NULL, missing_count INTEGER NOT NULL,
    missing_since REAL, PRIMARY KEY (name, address));
CREATE TABLE changes (run_id INTEGER NOT NULL REFERENCES runs(id), name TEXT NOT NULL,
    address TEXT NOT NULL, family INTEGER NOT NULL, change TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE name_plmns (name TEXT NOT NULL, plmn TEXT NOT NULL, kind TEXT NOT NULL,
    PRIMARY KEY (name, plmn, kind));
CREATE TABLE deliveries (consumer TEXT PRIMARY KEY, run_id INTEGER NOT NULL,
    delivered_at REAL NOT NULL);
CREATE TABLE failing (name TEXT PRIMARY KEY, since REAL NOT NULL, kind TEXT NOT NULL);
"""


def schema_1_state(path: Path, *, schema: str = "1") -> list[tuple]:
    """A state as schema 1 wrote it: SEQUENCE's runs, one observation row per run and address
    (run 3 also has a duplicated row). Returns the observation rows."""
    rows = []
    for n, answer in enumerate(SEQUENCE):
        for address in answer:
            rows.append((n + 1, "a.example", "A", 4, "127.0.0.1:53", 0, 1000.0 + n * 3600,
                         "addresses" if address else "nxdomain", address, 300,
                         "" if address else "NXDOMAIN"))
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA_1)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {schema}")
        db.executemany("INSERT INTO meta VALUES (?, ?)",
                       [("schema", schema), ("application", "wifiq")])
        db.executemany("INSERT INTO runs VALUES (?, ?, ?, 'unchanged', 1, 0, 't')",
                       [(n + 1, 1000.0 + n * 3600, 1000.0 + n * 3600)
                        for n in range(len(SEQUENCE))])
        db.executemany("INSERT INTO observations VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                       rows + [rows[3]])
        db.execute("INSERT INTO addresses VALUES ('a.example', '192.0.2.1', 4, 1000, 26200, 0,"
                   " NULL)")
        db.execute("INSERT INTO name_plmns VALUES ('a.example', '505-01', 'epdg')")
    db.close()
    return rows


def observation_rows(db: sqlite3.Connection) -> list[tuple]:
    return db.execute("SELECT * FROM observations ORDER BY run_id, address").fetchall()


@pytest.mark.parametrize("index", [True, False], ids=["indexed", "index-dropped"])
def test_a_schema_1_state_is_migrated_to_spans(tmp_path, index):
    path = tmp_path / "old.sqlite"
    rows = schema_1_state(path)
    if not index:  # migrated all the same (sorted by SQLite instead of read in index order)
        with sqlite3.connect(path) as db:
            db.execute("DROP INDEX observations_by_name")
        db.close()
    with StateStore(path, read_only=True) as store:  # read-only: read as it is, not migrated
        before = store.sightings(["a.example"])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    with StateStore(path) as store:
        assert store.sightings(["a.example"]) == before
        record(store, 1000.0 + len(SEQUENCE) * 3600, [lookup("192.0.2.1")])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "3"
        assert db.execute("SELECT type FROM sqlite_master WHERE name = 'observations'"
                          ).fetchone()[0] == "view"
        assert observation_rows(db)[:len(rows)] == sorted(rows, key=lambda r: (r[0], r[8] or ""))
        spans = db.execute("SELECT address, first_run, last_run FROM observation_spans "
                           "ORDER BY first_run, address").fetchall()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert spans == [("192.0.2.1", 1, 3), ("192.0.2.2", 3, 4), (None, 5, 6),
                     ("192.0.2.1", 7, 9)]  # the refresh after the migration extended a span


MIGRATE = """
import sys
from pathlib import Path
from wifiq.store import StateStore
StateStore(Path(sys.argv[1])).close()
"""


def test_a_migration_killed_midway_leaves_schema_1_whole(tmp_path):
    path = tmp_path / "old.sqlite"
    schema_1_state(path)
    with sqlite3.connect(path) as db:
        old = observation_rows(db)
    kill_at("store:migrated", ["-c", MIGRATE, str(path)], tmp_path / "marker")
    with sqlite3.connect(path) as db:  # the killed migration is rolled back on the next open
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        assert db.execute("SELECT type FROM sqlite_master WHERE name = 'observations'"
                          ).fetchone()[0] == "table"
        assert observation_rows(db) == old
    with StateStore(path) as store:  # and the next open migrates it
        assert len(store.sightings(["a.example"])) == 7


def test_a_newer_schema_is_refused_untouched(tmp_path, wifiq):
    path = tmp_path / "new.sqlite"
    schema_1_state(path, schema="4")
    before = path.read_bytes()
    with pytest.raises(StateError, match="schema version 4, this wifiq reads 1, 2 and 3"):
        StateStore(path)
    with pytest.raises(StateError, match="schema version 4"):
        StateStore(path, read_only=True)
    history = wifiq("history", "--plmn", "505-01", "--state", str(path))
    assert history.code == 1 and len(history.err.strip().splitlines()) == 1, history.err
    assert "schema version 4" in history.err
    assert path.read_bytes() == before
