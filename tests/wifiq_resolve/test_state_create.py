"""A new state file appears whole or not at all (wifiq/store/create.py).

Before, SQLite created the state file empty and wrote its first page a little later: a first
refresh killed in between left a 0-byte file, which every command refuses until a person runs
``refresh --allow-empty-state`` — cron stayed blocked. Now the state is built in a temporary
file beside it and linked into place. These tests kill real ``wifiq refresh`` processes
(SIGKILL) at every step of that creation and at a sweep of moments, run two first refreshes
at once, and check that the next plain refresh (no flag) always works and that no temporary
file is left or taken for the state. Every lookup goes to the test's own knot on loopback.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.rig.checkpoints import kill_at, paused_at, resume, start_paused
from wifiq.store import StateStore
from wifiq.store import create as create_module
from wifiq.store.create import TEMP_INFIX, remove_leftovers
from wifiq.store.db import APPLICATION_ID, SCHEMA_VERSION

from .conftest import operator

TELSTRA = ("--plmn", "505-01")
CREATION = ["store:create:empty", "store:set-up", "store:create:committed",
            "store:create:built", "store:create:linked"]


def refresh_args(wifiq, knot, state: Path, *extra: str) -> list[str]:
    return ["refresh", "--state", str(state), *TELSTRA, "--resolver", knot.address,
            "--timeout", "0.3", "--retries", "1", *extra]


def temporaries(state: Path) -> list[str]:
    if not state.parent.exists():  # killed before it made the directory
        return []
    return sorted(p.name for p in state.parent.iterdir() if TEMP_INFIX in p.name)


def assert_whole_new_state(state: Path) -> None:
    """``state`` is a complete wifiq state of this schema, without any refresh yet."""
    uri = f"file:{state}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:  # closed: one left open keeps -wal
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT value FROM meta WHERE key = 'application'").fetchone() == (
            "wifiq",)
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


@pytest.mark.parametrize("point", CREATION)
def test_a_first_refresh_killed_during_creation_leaves_no_state_or_a_whole_one(
        wifiq, knot, tmp_path: Path, point: str):
    state = tmp_path / "var" / "state.sqlite"
    kill_at(point, ["-m", "wifiq.cli", *refresh_args(wifiq, knot, state)], tmp_path / "marker",
            env=wifiq.env)
    left = temporaries(state)
    assert left and all(name.startswith(f"state.sqlite{TEMP_INFIX}") for name in left), left
    if point == "store:create:empty":
        (name,) = left
        assert (state.parent / name).stat().st_size == 0  # the empty file is not the state
    if point == "store:create:linked":
        assert_whole_new_state(state)  # in place; only the temporary name is left
    else:
        assert not state.exists(), point  # not there at all: the next refresh is the first
    shown = wifiq("history", *TELSTRA, "--state", str(state))  # never reads a temporary file
    if state.exists():
        assert shown.code == 0, shown.err
    else:
        assert shown.code == 2 and "no state file at" in shown.err, shown.err
    run = wifiq(*refresh_args(wifiq, knot, state, "--json"))  # no --allow-empty-state
    assert run.code == 3, (point, run.err)
    assert run.json["new_state"] == (None if point == "store:create:linked" else "missing")
    assert operator(run.json, "505-01")["added"] == ["203.0.113.10", "2001:db8::10"]
    assert temporaries(state) == []  # the killed creator's files are gone
    assert sorted(p.name for p in state.parent.iterdir()) == ["state.sqlite",
                                                              "state.sqlite.lock"]
    assert wifiq(*refresh_args(wifiq, knot, state)).code == 0


def reach(wifiq, knot, point: str, state: Path, marker: Path) -> float:
    """Seconds from starting a first refresh until it waits at ``point`` (then killed)."""
    started = time.monotonic()
    proc = start_paused(point, ["-m", "wifiq.cli", *refresh_args(wifiq, knot, state)], marker,
                        env=wifiq.env)
    took = time.monotonic() - started
    proc.kill()
    proc.communicate(timeout=30)
    return took


def test_first_refreshes_killed_at_a_sweep_of_moments(wifiq, knot, tmp_path: Path):
    """Not at announced points but after a delay: 40 kills spread evenly from 30 ms before the
    moment creation starts to 30 ms after the state is in place (both moments measured with
    the checkpoints first, on this machine, now). Whatever each kill hit, the state is absent
    or a whole wifiq state (never 0 bytes), and a plain refresh then works and leaves no
    temporary file."""
    marker = tmp_path / "marker"
    begin = reach(wifiq, knot, "store:create:empty", tmp_path / "c1" / "state.sqlite", marker)
    end = reach(wifiq, knot, "store:create:linked", tmp_path / "c2" / "state.sqlite", marker)
    first, last = begin - 0.03, max(end, begin) + 0.03
    outcomes = {"no state": 0, "no state, temporary file left": 0, "state": 0}
    for step in range(40):
        state = tmp_path / f"sweep{step}" / "state.sqlite"
        proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli",
                                 *refresh_args(wifiq, knot, state)], env=wifiq.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(max(0.0, first + (last - first) * step / 39))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if state.exists():
            with closing(sqlite3.connect(state)) as db:
                assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
                assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            outcomes["state"] += 1
        elif temporaries(state):
            outcomes["no state, temporary file left"] += 1
        else:
            outcomes["no state"] += 1
        run = wifiq(*refresh_args(wifiq, knot, state))  # no --allow-empty-state
        assert run.code in (0, 3), (step, run.err)  # 0: the killed one had already finished
        assert temporaries(state) == [], step
    print(f"creation began {begin * 1000:.0f} ms after the start, the state was in place "
          f"after {end * 1000:.0f} ms; 40 kills left: {outcomes}")


WRITER = r"""
import sys
from pathlib import Path
from wifiq.holddown import AddressState
from wifiq.resolve import Lookup, Outcome
from wifiq.store import StateStore

with StateStore(Path(sys.argv[1])) as store:
    store.record_refresh(
        refreshed_at=1.0, finished_at=1.0, status="changed", wifiq_version="writer",
        lookups=[Lookup("writer.example", "A", "127.0.0.1", 0, Outcome.ADDRESSES,
                        ("192.0.2.9",))],
        active=[AddressState("writer.example", "192.0.2.9", 4, 1.0, 1.0)],
        replaced_names=[], changes=[], name_plmns=[])
    print(store.started, len(store.runs()))
"""


@pytest.mark.parametrize("point", ["store:create:empty", "store:create:built"])
def test_two_first_runs_at_once_the_second_opens_the_first_ones_state(
        wifiq, knot, tmp_path: Path, point: str):
    """A creator (a writer without the refresh lock, as ``wifiq probe`` opens the state) waits
    with its temporary file made (``empty``) or complete (``built``) while a refresh creates
    the state and commits its run. The refresh leaves the waiting creator's file alone (its
    lock is held); the creator, let go, finds the name taken (link, not rename: nothing is
    overwritten), deletes its file and writes into the refresh's state."""
    state = tmp_path / "var" / "state.sqlite"
    marker = tmp_path / "marker"
    with paused_at(point, ["-c", WRITER, str(state)], marker, env=wifiq.env) as writer:
        waiting = temporaries(state)
        assert len(waiting) == 1 and not state.exists()
        run = wifiq(*refresh_args(wifiq, knot, state, "--json"))
        assert run.code == 3 and run.json["new_state"] == "missing", run.err
        assert temporaries(state) == waiting  # a live creator's file is not a leftover
        out, err = resume(writer, marker)
    assert writer.returncode == 0, err
    assert out.split() == ["None", "2"]  # it started nothing: it wrote into the refresh's state
    assert temporaries(state) == []
    with closing(sqlite3.connect(state)) as db:
        versions = [row[0] for row in db.execute("SELECT wifiq_version FROM runs ORDER BY id")]
    assert len(versions) == 2 and versions[1] == "writer"  # the refresh's run is still there
    again = wifiq(*refresh_args(wifiq, knot, state, "--json"))
    assert again.code in (0, 3) and again.json["new_state"] is None, again.err


def test_a_refresh_that_loses_the_race_opens_the_other_state(wifiq, knot, tmp_path: Path):
    """The other way round: the refresh waits with its complete temporary file while the
    writer creates the state; let go, the refresh opens that one (``new_state`` null) and its
    first run adds the addresses; the writer's run stays."""
    state = tmp_path / "var" / "state.sqlite"
    marker = tmp_path / "marker"
    with paused_at("store:create:built",
                   ["-m", "wifiq.cli", *refresh_args(wifiq, knot, state, "--json")], marker,
                   env=wifiq.env) as refresh:
        writer = subprocess.run([sys.executable, "-c", WRITER, str(state)], env=wifiq.env,
                                capture_output=True, text=True, timeout=60)
        assert writer.returncode == 0 and writer.stdout.split() == ["missing", "1"], writer
        out, err = resume(refresh, marker)
    assert refresh.returncode == 3, err
    doc = json.loads(out)
    assert doc["new_state"] is None
    assert operator(doc, "505-01")["added"] == ["203.0.113.10", "2001:db8::10"]
    assert temporaries(state) == []
    with closing(sqlite3.connect(state)) as db:
        assert [r[0] for r in db.execute("SELECT wifiq_version FROM runs ORDER BY id")][0] == \
            "writer"


def test_two_first_refreshes_started_together(wifiq, knot, tmp_path: Path):
    """Two plain refreshes of a missing state at once: one creates it, the other waits for
    the refresh lock and then opens it; both succeed, nothing is lost or left."""
    state = tmp_path / "var" / "state.sqlite"
    procs = [subprocess.Popen([sys.executable, "-m", "wifiq.cli",
                               *refresh_args(wifiq, knot, state, "--json")], env=wifiq.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [proc.communicate(timeout=120) for proc in procs]
    codes = sorted(proc.returncode for proc in procs)
    assert codes == [0, 3], results
    assert sorted(str(json.loads(out)["new_state"]) for out, _ in results) == ["None",
                                                                              "missing"]
    assert temporaries(state) == []
    with closing(sqlite3.connect(state)) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2


def test_only_abandoned_regular_temporaries_are_removed(tmp_path: Path):
    """Leftovers of the state's creators go; anything else with a similar name stays: a
    directory, a symbolic link, another state's temporary file, a name without the infix."""
    state = tmp_path / "state.sqlite"
    dead = tmp_path / f"state.sqlite{TEMP_INFIX}0123456789abcdef"
    dead.write_bytes(b"half a database")
    Path(f"{dead}-wal").write_bytes(b"x")
    orphan = tmp_path / f"state.sqlite{TEMP_INFIX}fedcba9876543210-shm"
    orphan.write_bytes(b"x")  # its file already gone
    keep = [tmp_path / f"state.sqlite{TEMP_INFIX}dir", tmp_path / f"state.sqlite{TEMP_INFIX}link",
            tmp_path / f"other.sqlite{TEMP_INFIX}0123456789abcdef", tmp_path / "state.sqlite.bak"]
    keep[0].mkdir()
    keep[1].symlink_to(dead)
    keep[2].write_bytes(b"")
    keep[3].write_bytes(b"")
    remove_leftovers(state)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in keep)


def test_without_hard_links_the_state_is_renamed_into_place(tmp_path: Path, monkeypatch):
    """A file system without hard links (vfat: EPERM) still gets a whole new state; it is
    renamed into place, which cannot refuse an existing name — there the refresh lock is what
    keeps two first refreshes apart."""
    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(create_module.os, "link", no_links)
    state = tmp_path / "state.sqlite"
    with StateStore(state) as store:
        assert store.started == "missing"
    assert_whole_new_state(state)
    assert temporaries(state) == []


CHANGES = ("mkdir", "flock", "ftruncate", "pwrite64", "fdatasync", "fsync", "unlink", "link")
"""The system calls by which the creation changes the file system (or locks), where the
syscall sweep kills the refresh."""


def creation_syscalls(wifiq, knot, state: Path, trace: Path) -> dict[str, int]:
    """How often a first refresh makes each of :data:`CHANGES` up to the deletion of its
    temporary name after the link that puts the state in place (traced once, now)."""
    traced = subprocess.run(["strace", "-f", "-qq", "-s", "4096", "-o", str(trace),
                             "-e", f"trace={','.join(CHANGES)}", sys.executable, "-m",
                             "wifiq.cli", *refresh_args(wifiq, knot, state)],
                            env=wifiq.env, capture_output=True, text=True, timeout=120)
    assert traced.returncode == 3, traced.stderr  # a first refresh: the addresses are new
    lines = trace.read_text().splitlines()
    main = lines[0].split()[0]  # the main thread's pid: the state is made there
    counts: dict[str, int] = {}
    linked = False
    for line in lines:
        pid, call = line.split(maxsplit=1)
        name = call.split("(", 1)[0]
        if pid == main and name in CHANGES:
            counts[name] = counts.get(name, 0) + 1
            linked = linked or (name == "link" and f'"{state}")' in call)
            if linked and name == "unlink" and TEMP_INFIX in call:
                return counts
    raise AssertionError(f"no link to {state}, then unlink, in the trace: {lines[-5:]}")


def test_first_refreshes_killed_at_a_sweep_of_system_calls(wifiq, knot, tmp_path: Path):
    """The sharpest sweep: strace kills the refresh (SIGKILL, injected as it enters the call,
    so the call never runs) exactly at its n-th mkdir, flock, ftruncate, pwrite64, fdatasync,
    fsync, unlink or link — every one the creation makes, up to deleting its temporary name
    after the link (pwrite64: a spread of them).
    Before this change the first pwrite64 already left a 0-byte state (SQLite's rollback
    journal written, the database not yet), which blocked every later refresh."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (scripts/setup installs the Debian package strace)")
    counts = creation_syscalls(wifiq, knot, tmp_path / "traced" / "state.sqlite",
                               tmp_path / "trace")
    assert counts.get("link") == 1 and counts.get("pwrite64", 0) > 10, counts
    cases = [(name, n) for name in CHANGES if name != "pwrite64"
             for n in range(1, counts.get(name, 0) + 1)]
    writes = counts["pwrite64"]
    cases += [("pwrite64", n) for n in sorted({1, 2, 3, 4, writes // 4, writes // 2,
                                               writes - 1, writes})]
    seen = {"no state": 0, "state": 0}
    for name, n in cases:
        state = tmp_path / f"{name}{n}" / "state.sqlite"
        killed = subprocess.run(
            ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={name}",
             "-e", f"inject={name}:signal=SIGKILL:when={n}",
             sys.executable, "-m", "wifiq.cli", *refresh_args(wifiq, knot, state)],
            env=wifiq.env, capture_output=True, text=True, timeout=120)
        assert killed.returncode in (-signal.SIGKILL, 128 + signal.SIGKILL), (name, n, killed)
        if state.exists():
            assert_whole_new_state(state)
            seen["state"] += 1
        else:
            seen["no state"] += 1
        run = wifiq(*refresh_args(wifiq, knot, state, "--json"))  # no --allow-empty-state
        assert run.code == 3, (name, n, run.err)
        assert operator(run.json, "505-01")["added"] == ["203.0.113.10", "2001:db8::10"]
        assert temporaries(state) == [], (name, n)
    assert seen["no state"] > 0 and seen["state"] > 0  # both sides of the link were hit
    print(f"{len(cases)} kills ({counts}): {seen}")
