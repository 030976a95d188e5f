"""A refresh killed (SIGKILL) at any moment leaves a consistent state and no stale lock.

A knot with wildcard records answers every name of a large selection, so one refresh takes
long enough (thousands of lookups, then one big transaction) to be killed at many points of
both the resolving and the writing.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.rig.knot import KnotServer, have_knot, zone
from wifiq import checkpoint

from .conftest import PARENT

SELECTION = ["--country", "US", "--samples", "2"]


@pytest.fixture
def wildcard_knot(tmp_path):
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs the Debian package knot)")
    records = [f"*.{PARENT}. IN A 192.0.2.1", f"*.{PARENT}. IN AAAA 2001:db8::1"]
    server = KnotServer(tmp_path / "knot", {PARENT: zone(PARENT, records)}).start()
    yield server
    server.stop()


def check_consistent(path):
    """Every stored run is whole; every active address was observed; changes belong to runs."""
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = db.execute("SELECT id, lookups, status FROM runs").fetchall()
        for run_id, lookups, status in runs:
            stored = db.execute(
                "SELECT COUNT(*) FROM (SELECT DISTINCT name, rdtype, resolver, sample "
                "FROM observations WHERE run_id = ?)", (run_id,)).fetchone()[0]
            assert stored == lookups and status in {"unchanged", "changed", "partial", "failed"}
        orphans = db.execute(
            "SELECT COUNT(*) FROM addresses a WHERE NOT EXISTS (SELECT 1 FROM observations o "
            "WHERE o.name = a.name AND o.address = a.address)").fetchone()[0]
        assert orphans == 0
        stray = db.execute(
            "SELECT COUNT(*) FROM changes WHERE run_id NOT IN (SELECT id FROM runs)").fetchone()[0]
        assert stray == 0
        return len(runs), db.execute("SELECT COUNT(*) FROM addresses").fetchone()[0]


def kill_at(wifiq, args: list[str], point: str, marker) -> None:
    """Run ``wifiq *args`` until it reaches ``point`` (wifiq/checkpoint.py), then SIGKILL it."""
    marker.unlink(missing_ok=True)
    env = {**wifiq.env, checkpoint.PAUSE_AT: point, checkpoint.MARKER: str(marker)}
    proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240  # generous: only a hung process takes this long
        while not marker.exists():
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"refresh ended (exit {proc.returncode}) before {point}: {err}")
            assert time.monotonic() < deadline, f"refresh did not reach {point}"
            time.sleep(0.01)
        assert marker.read_text() == point and proc.poll() is None  # paused right there
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_at_any_point_leaves_state_consistent(wifiq, wildcard_knot, tmp_path):
    """Killed at observed points — while resolving (first lookup, a quarter, half, the last),
    inside the transaction (observations inserted; every row written, before COMMIT) and just
    after COMMIT — the state is always the previous one or the new one, whole, and the lock
    dies with the process. The points are announced by the process itself, so the outcome does
    not depend on how loaded the machine is."""
    args = ["refresh", "--state", str(wifiq.state), "--resolver", wildcard_knot.address,
            *SELECTION]
    first = wifiq(*args, timeout=300)
    assert first.code in (3, 5), first.err  # 5: changed, and published names outside the zone are REFUSED
    runs, active = check_consistent(wifiq.state)
    assert runs == 1 and active > 1000
    with sqlite3.connect(wifiq.state) as db:
        lookups = db.execute("SELECT lookups FROM runs").fetchone()[0]
    assert lookups > 1000
    marker = tmp_path / "checkpoint"
    before_commit = [f"lookups:{n}" for n in (1, lookups // 4, lookups // 2, lookups)]
    before_commit += ["store:observations", "store:commit"]
    for point in before_commit:
        kill_at(wifiq, args, point, marker)
        assert check_consistent(wifiq.state) == (runs, active), point  # the previous state, whole
    kill_at(wifiq, args, "stored", marker)
    assert check_consistent(wifiq.state) == (runs + 1, active)  # the new state, whole
    after = wifiq(*args, "--wait", "0", timeout=300)  # the lock died with the killed processes
    assert after.code in (0, 4), after.err  # nothing changed in DNS, so nothing changed here
    assert check_consistent(wifiq.state) == (runs + 2, active)


def test_checkpoints_are_inert_without_the_environment(monkeypatch, tmp_path):
    """Only both variables together pause; the marker names the point reached."""
    import threading

    calls: list[int] = []
    monkeypatch.delenv(checkpoint.PAUSE_AT, raising=False)
    monkeypatch.setenv(checkpoint.MARKER, str(tmp_path / "m"))
    assert not checkpoint.enabled()
    checkpoint.reached("stored")  # returns at once
    monkeypatch.setenv(checkpoint.PAUSE_AT, "lookups:3")
    monkeypatch.setattr(checkpoint, "PAUSE_SECONDS", 0.0)
    update = checkpoint.counting(calls.append)
    update(2)
    assert not (tmp_path / "m").exists()
    worker = threading.Thread(target=update, args=(2,))
    worker.start()
    worker.join(10)
    assert (tmp_path / "m").read_text() == "lookups:3" and calls == [2, 2]


WRITER = r"""
import sys, time
from pathlib import Path
from wifiq.holddown import AddressState
from wifiq.resolve import Lookup, Outcome
from wifiq.store import StateStore

state, marker = Path(sys.argv[1]), Path(sys.argv[2])


class PausingLookups(list):
    # The store iterates the lookups twice (count of failures, then the INSERTs): the second
    # pass stops half-way, inside the transaction, and waits to be killed.
    passes = 0

    def __iter__(self):
        PausingLookups.passes += 1
        for index, item in enumerate(list.__iter__(self)):
            if PausingLookups.passes == 2 and index == len(self) // 2:
                marker.write_text("in transaction")
                time.sleep(120)
            yield item


lookups = PausingLookups(
    Lookup(f"n{i}.example", "A", "127.0.0.1", 0, Outcome.ADDRESSES, ("192.0.2.9",))
    for i in range(2000))
active = [AddressState(f"n{i}.example", "192.0.2.9", 4, 1.0, 1.0) for i in range(2000)]
with StateStore(state) as store:
    store.record_refresh(refreshed_at=1.0, finished_at=1.0, status="changed", wifiq_version="x",
                         lookups=lookups, active=active, replaced_names=[], changes=[],
                         name_plmns=[])
"""


def test_sigkill_inside_the_transaction_keeps_the_previous_state(
    wifiq, wildcard_knot, tmp_path
):
    assert wifiq.refresh("--plmn", "505-01", "--resolver", wildcard_knot.address).code == 3
    before = check_consistent(wifiq.state)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(wifiq.state), str(marker)],
                            env=wifiq.env)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert check_consistent(wifiq.state) == before  # nothing of the killed write is visible
    with sqlite3.connect(wifiq.state) as db:
        assert db.execute("SELECT COUNT(*) FROM observations WHERE name LIKE 'n%.example'"
                          ).fetchone()[0] == 0
    again = wifiq.refresh("--plmn", "505-01", "--resolver", wildcard_knot.address, "--wait", "0")
    assert again.code == 0, again.err
