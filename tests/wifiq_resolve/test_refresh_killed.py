"""A refresh killed (SIGKILL) at any moment leaves a consistent state and no stale lock.

A knot with wildcard records answers every name of a large selection, so one refresh takes
long enough (thousands of lookups, then one big transaction) to be killed at many points of
both the resolving and the writing.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import time

import pytest

from tests.rig.knot import KnotServer, have_knot, zone

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


def test_sigkill_at_any_point_leaves_state_consistent(wifiq, wildcard_knot):
    args = ["refresh", "--state", str(wifiq.state), "--resolver", wildcard_knot.address,
            *SELECTION]
    start = time.monotonic()
    first = wifiq(*args)
    took = time.monotonic() - start
    assert first.code in (3, 5), first.err  # 5: changed, and published names outside the zone are REFUSED
    runs, active = check_consistent(wifiq.state)
    assert runs == 1 and active > 1000
    rng = random.Random(4)
    killed_before_end = 0
    # A few kills while resolving, more near the end where the transaction is written.
    fractions = [rng.uniform(0.3, 0.7) for _ in range(4)]
    fractions += [rng.uniform(0.75, 1.05) for _ in range(6)]
    for fraction in sorted(fractions):
        proc = wifiq.popen(*args)
        time.sleep(took * fraction)
        if proc.poll() is None:
            killed_before_end += 1
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        runs_now, active_now = check_consistent(wifiq.state)
        assert runs_now >= runs and active_now == active  # nothing lost, nothing half-written
        runs = runs_now
    assert killed_before_end >= 3  # kills landed while the refresh was running
    after = wifiq(*args, "--wait", "0")  # the lock died with the killed processes
    assert after.code in (0, 4), after.err  # nothing changed in DNS, so nothing changed here
    assert check_consistent(wifiq.state) == (runs + 1, active)


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
    import subprocess
    import sys

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
