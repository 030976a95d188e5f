"""Probe results stored as spans (schema 3): an unchanged run of probes adds only its
``probe_runs`` row; a change of answer, a gap or retention cuts spans exactly; a run is stored
whole or not at all; a state written before spans (one row per probe, made by wifiq at commit
ddcedd2: ``data/make_state_before_spans.py``) reads the same read-only and after migration.

The store cases feed ``StateStore.record_probes`` made-up results (no network); the CLI cases
probe a UDP port of addresses on a throwaway namespace's loopback that nothing answers (ICMP
port unreachable) or that only swallows datagrams (silent), and the test interrupts them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.checkpoints import kill_at
from tests.rig.netns import REPO, can_make_namespaces, run
from wifiq import checkpoint
from wifiq.holddown import AddressState
from wifiq.probe.decision import Outcome, ProbeResult
from wifiq.probe.report import reachability_news
from wifiq.store import ProbeSpan, StateStore

FIXTURE = Path(__file__).parent / "data" / "state-before-spans.sqlite"
NAME = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
CHOSEN = "aes-cbc-256/hmac-sha2-256-128/prf-hmac-sha2-256/modp14"
A, B, C = "192.0.2.10", "192.0.2.11", "2001:db8::12"
T0 = 1796515200.0  # 2026-12-06T00:00:00Z
STEP = 900.0


def result(address: str, port: int, outcome: Outcome = Outcome.ANSWERED,
           rtt: float | None = 0.010, *, requests: int = 1,
           steps: tuple[str, ...] = ()) -> ProbeResult:
    answered = outcome is Outcome.ANSWERED
    detail = {Outcome.ANSWERED: "proposal 1 chosen", Outcome.SILENT: "no reply to 3 requests",
              Outcome.UNREACHABLE: "ICMP port unreachable"}.get(outcome, outcome.value)
    return ProbeResult(address, port, outcome, None if outcome is Outcome.SILENT else rtt,
                       CHOSEN if answered else None,
                       ("NAT_DETECTION_SOURCE_IP",) if answered else (), (), 14, requests,
                       detail, steps)


def record(store: StateStore, run: int, results: list[ProbeResult], *,
           retention: float | None = None, refresh_run: int | None = None):
    at = T0 + run * STEP
    return store.record_probes(probed_at=at, finished_at=at + 1, status="partial",
                               results=results, refresh_run=refresh_run, retention=retention)


def rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        out = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
               for t in ("probe_runs", "probe_spans")}
    db.close()
    return out


def summary(spans: list[ProbeSpan]) -> list[tuple[object, ...]]:
    return [(s.address, s.port, s.outcome.value, s.first.id, s.last.id, s.probes)
            for s in spans]


def test_first_run_then_unchanged_runs_add_only_the_run_row(tmp_path):
    path = tmp_path / "s.sqlite"
    with StateStore(path) as store:
        first = record(store, 0, [result(a, p) for a in (A, B, C) for p in (500, 4500)])
        assert first.previous == {}  # never probed before
        after_first = rows(path)
        size = store.size()
        for run in range(1, 40):
            stored = record(store, run, [result(a, p, rtt=0.010 + run / 1000)
                                         for a in (A, B, C) for p in (500, 4500)])
            assert stored.previous == {(a, p): True for a in (A, B, C) for p in (500, 4500)}
        assert rows(path) == {"probe_runs": 40, "probe_spans": after_first["probe_spans"]}
        assert after_first["probe_spans"] == 6
        assert store.size() == size  # 39 unchanged runs: not one page more
        spans = store.probe_spans([A, B, C])
    assert summary(spans) == [(a, p, "answered", 1, 40, 40) for a in (A, B) for p in (500, 4500)
                              ] + [(C, p, "answered", 1, 40, 40) for p in (500, 4500)]
    span = spans[0]
    assert (span.rtt_min_ms, span.rtt_max_ms, span.rtt_last_ms) == (10.0, 49.0, 49.0)
    assert span.rtt_avg_ms == pytest.approx(sum(10.0 + run for run in range(40)) / 40)


def test_requests_and_steps_do_not_cut_a_span_but_the_key_fields_do(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        record(store, 0, [result(A, 500)])
        record(store, 1, [result(A, 500, requests=2, steps=("COOKIE",))])  # loss, load
        record(store, 2, [ProbeResult(A, 500, Outcome.ANSWERED, 0.01, CHOSEN,
                                      ("NAT_DETECTION_SOURCE_IP",), (), 5, 1,
                                      "proposal 1 chosen", ("INVALID_KE_PAYLOAD 5",))])
        record(store, 3, [ProbeResult(A, 500, Outcome.ANSWERED, 0.01, CHOSEN.replace("256", "128"),
                                      ("NAT_DETECTION_SOURCE_IP",), (), 5, 1,
                                      "proposal 1 chosen", ())])
        spans = store.probe_spans([A])
    assert [(s.first.id, s.last.id, s.group, s.requests, s.steps) for s in spans] == [
        (1, 2, 14, 2, ("COOKIE",)), (3, 3, 5, 1, ("INVALID_KE_PAYLOAD 5",)), (4, 4, 5, 1, ())]


# per run: the outcome of B port 500 (A answers throughout)
FLAPS = [Outcome.ANSWERED, Outcome.SILENT, Outcome.SILENT, Outcome.ANSWERED,
         Outcome.UNREACHABLE, Outcome.NO_PROPOSAL_CHOSEN, Outcome.NO_PROPOSAL_CHOSEN]


def test_flapping_outcomes_make_a_span_per_change_and_news_exactly_then(tmp_path):
    news = []
    with StateStore(tmp_path / "s.sqlite") as store:
        for run, outcome in enumerate(FLAPS):
            results = [result(A, 500), result(B, 500, outcome)]
            stored = record(store, run, results, refresh_run=run + 1)
            news.append(reachability_news(results, stored.previous))
        spans = store.probe_spans([A, B])
    assert summary(spans) == [
        (A, 500, "answered", 1, 7, 7),
        (B, 500, "answered", 1, 1, 1), (B, 500, "silent", 2, 3, 2),
        (B, 500, "answered", 4, 4, 1), (B, 500, "unreachable", 5, 5, 1),
        (B, 500, "no_proposal_chosen", 6, 7, 2)]
    assert [s.first.refresh_run for s in spans[1:]] == [1, 2, 4, 5, 6]
    assert news == [
        [],
        [f"reachability: {B} port 500 silent (was reachable): no reply to 3 requests"],
        [],
        [f"reachability: {B} port 500 answered (was not reachable): proposal 1 chosen"],
        [f"reachability: {B} port 500 unreachable (was reachable): ICMP port unreachable"],
        [f"reachability: {B} port 500 no_proposal_chosen (was not reachable): "
         "no_proposal_chosen"],
        []]


def test_an_address_that_disappears_and_returns_starts_a_new_span(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        record(store, 0, [result(A, 500), result(B, 500)])
        record(store, 1, [result(A, 500)])  # B not active: not probed
        record(store, 2, [result(A, 500)])
        back = record(store, 3, [result(A, 500), result(B, 500)])
        record(store, 4, [result(A, 500), result(B, 500)])
        spans = store.probe_spans([A, B])
    assert back.previous == {(A, 500): True, (B, 500): True}  # same answer: no news
    assert summary(spans) == [(A, 500, "answered", 1, 5, 5), (B, 500, "answered", 1, 1, 1),
                              (B, 500, "answered", 4, 5, 2)]


def test_a_run_interrupted_while_stored_leaves_nothing_then_the_next_run_goes_on(
        tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    with StateStore(path) as store:
        record(store, 0, [result(A, 500), result(B, 500)])
        record(store, 1, [result(A, 500), result(B, 500)])
        before = store.probe_spans([A, B])
        real = checkpoint.reached

        def interrupt(point: str) -> None:
            if point == "store:probes":  # every row of the run written, not committed
                raise KeyboardInterrupt
            real(point)

        monkeypatch.setattr(checkpoint, "reached", interrupt)
        with pytest.raises(KeyboardInterrupt):
            record(store, 2, [result(A, 500, Outcome.SILENT), result(B, 500)],
                   retention=STEP / 2)
        monkeypatch.setattr(checkpoint, "reached", real)
        assert store.probe_spans([A, B]) == before
        assert rows(path) == {"probe_runs": 2, "probe_spans": 2}
        again = record(store, 3, [result(A, 500, Outcome.SILENT), result(B, 500)])
        assert again.previous == {(A, 500): True, (B, 500): True}
        assert summary(store.probe_spans([A, B])) == [
            (A, 500, "answered", 1, 2, 2), (A, 500, "silent", 3, 3, 1),
            (B, 500, "answered", 1, 3, 3)]


def test_retention_trims_partly_expired_spans_and_deletes_expired_ones(tmp_path):
    path = tmp_path / "s.sqlite"
    plan = [Outcome.SILENT, Outcome.ANSWERED, Outcome.ANSWERED, Outcome.ANSWERED,
            Outcome.ANSWERED, Outcome.ANSWERED]
    with StateStore(path) as store:
        for run, outcome in enumerate(plan):
            record(store, run, [result(A, 500, outcome, rtt=0.010 + run / 1000),
                                result(B, 500)], retention=3.5 * STEP)
        spans = store.probe_spans([A, B])
        runs = store.probe_runs(0, 100)
    # runs at 0..5 x STEP; the last run keeps runs newer than 1.5 x STEP: 2, 3, 4, 5 (ids 3-6)
    assert [r.id for r in runs] == [3, 4, 5, 6]
    assert summary(spans) == [(A, 500, "answered", 3, 6, 4), (B, 500, "answered", 3, 6, 4)]
    assert spans[0].rtt_min_ms == 11.0  # the RTT figures still cover the forgotten probes
    assert rows(path) == {"probe_runs": 4, "probe_spans": 2}
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_retention_forgetting_every_run(tmp_path):
    with StateStore(tmp_path / "s.sqlite") as store:
        record(store, 0, [result(A, 500)])
        stored = record(store, 10, [result(A, 500)], retention=STEP)
        assert stored.previous == {(A, 500): True}  # read before the old run was forgotten
        assert summary(store.probe_spans([A])) == [(A, 500, "answered", stored.run_id,
                                                    stored.run_id, 1)]


def read_everything(path: Path, *, read_only: bool) -> list[ProbeSpan]:
    with StateStore(path, read_only=read_only) as store:
        return store.probe_spans([A, B, C, "192.0.2.13"])


def test_a_state_written_before_spans_reads_the_same_read_only_and_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    with sqlite3.connect(path) as db:
        old = db.execute("SELECT probe_run, address, port, outcome, rtt_ms FROM probes "
                         "ORDER BY probe_run, address, port").fetchall()
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    db.close()
    read_only = read_everything(path, read_only=True)
    assert path.read_bytes() == FIXTURE.read_bytes()  # read as it is, not migrated
    migrated = read_everything(path, read_only=False)
    assert migrated == read_only
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert db.execute("SELECT 1 FROM sqlite_master WHERE name = 'probes'").fetchone() is None
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    # every old row is one probe of exactly one span, with its outcome
    expanded = sorted((run, s.address, s.port, s.outcome.value) for s in migrated
                      for run in range(s.first.id, s.last.id + 1))
    assert expanded == sorted((r[0], r[1], r[2], r[3]) for r in old)
    assert summary([s for s in migrated if s.address == B and s.port == 500]) == [
        (B, 500, "answered", 1, 2, 2), (B, 500, "silent", 3, 4, 2), (B, 500, "answered", 5, 6, 2)]
    assert summary([s for s in migrated if s.address == "192.0.2.13"]) == [
        ("192.0.2.13", 500, "unreachable", 1, 3, 3), ("192.0.2.13", 500, "unreachable", 6, 6, 1),
        ("192.0.2.13", 4500, "unreachable", 1, 3, 3),
        ("192.0.2.13", 4500, "unreachable", 6, 6, 1)]
    a500 = next(s for s in migrated if s.address == A and s.port == 500)
    rtts = [r[4] for r in old if r[1] == A and r[2] == 500]
    assert (a500.rtt_min_ms, a500.rtt_max_ms, a500.rtt_last_ms) == (min(rtts), max(rtts),
                                                                    rtts[-1])
    assert a500.rtt_avg_ms == pytest.approx(sum(rtts) / len(rtts))
    # and the next run of probes goes on from the migrated spans
    with StateStore(path) as store:
        same_as_before = ProbeResult(  # what make_state_before_spans.py stored for A
            A, 500, Outcome.ANSWERED, 0.016, CHOSEN,
            ("NAT_DETECTION_SOURCE_IP", "NAT_DETECTION_DESTINATION_IP"),
            ("882fe56d6fd20dbc2251613b2ebe5beb",), 14, 1, "proposal 1 chosen")
        stored = record(store, 6, [same_as_before, result(B, 500, Outcome.SILENT)])
        assert stored.previous == {(A, 500): True, (B, 500): True}
        spans = store.probe_spans([A, B])
    assert [(s.first.id, s.last.id) for s in spans if s.port == 500] == [
        (1, 7), (1, 2), (3, 4), (5, 6), (7, 7)]


MIGRATE = """
import sys
from collections.abc import Iterator
from pathlib import Path
from wifiq.store import StateStore
StateStore(Path(sys.argv[1])).close()
"""


def test_a_probe_migration_killed_midway_leaves_the_old_state_whole(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    kill_at("store:migrated", ["-c", MIGRATE, str(path)], tmp_path / "marker")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert db.execute("SELECT COUNT(*) FROM probes").fetchone()[0] == 44
    db.close()
    assert read_everything(path, read_only=False) == read_everything(path, read_only=True)


def test_history_of_a_state_written_before_spans(tmp_path):
    path = tmp_path / "old.sqlite"
    shutil.copy(FIXTURE, path)
    args = ["-m", "wifiq.cli", "history", "--plmn", "505-01", "--state", str(path)]
    for migrated in (False, True):
        if migrated:
            StateStore(path).close()  # opened for writing: migrated
        done = subprocess.run([sys.executable, *args, "--json"], capture_output=True, text=True,
                              cwd=REPO, timeout=60)
        assert done.returncode == 0, done.stderr
        reach = {(r["address"], r["port"]): r
                 for r in json.loads(done.stdout)["operators"][0]["reachability"]}
        b500 = reach[(B, 500)]
        assert (b500["reachable"], b500["probed"]) == (4, 6)
        assert b500["latest"] == {"at": "2026-12-06T01:15:01Z", "outcome": "answered",
                                  "rtt_ms": 30.0, "detail": "proposal 1 chosen",
                                  "refresh_run": 5}
        assert [(s["from"], s["outcome"], s["probes"], s["refresh_run"])
                for s in b500["spans"]] == [
            ("2026-12-06T00:00:01Z", "answered", 2, 1), ("2026-12-06T00:30:01Z", "silent", 2, 3),
            ("2026-12-06T01:00:01Z", "answered", 2, None)]
        assert b500["spans"][1]["rtt_ms"] is None
        assert b500["spans"][2]["rtt_ms"] == {"min": 28.0, "avg": 29.0, "max": 30.0}
        assert [(p["outcome"], p["refresh_run"]) for p in b500["history"]] == [
            ("answered", 1), ("answered", 2), ("silent", 3), ("silent", 4), ("answered", None),
            ("answered", 5)]
        text = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                              cwd=REPO, timeout=60)
        assert ("      2026-12-06T00:30:01Z .. 2026-12-06T00:45:01Z  silent x2  "
                "no reply to 3 requests  (refresh 3)") in text.stdout.splitlines()
        assert (path.read_bytes() == FIXTURE.read_bytes()) is not migrated


# -- the CLI: interrupted while probing, killed while storing -----------------------------------


def state_with(path: Path, addresses: list[str]) -> None:
    with StateStore(path) as store:
        store.record_refresh(
            refreshed_at=T0, finished_at=T0, status="changed", wifiq_version="t", lookups=[],
            active=[AddressState(NAME, a, 4, T0, T0) for a in addresses],
            replaced_names=[NAME], changes=[], name_plmns=[(NAME, "505-01", "epdg")])


#: The state's addresses: on the loopback of a throwaway namespace (a DNS answer of 127.0.0.1
#: would not be probed: docs/wifiq-probe.md, "Which addresses are probed").
D1, D2 = "192.0.2.1", "192.0.2.2"
PORT = 40500  # nothing else listens in a fresh namespace

SINK = f"""
import socket, time
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("{D1}", {PORT}))
print("ready", flush=True)
sink.recvfrom(4096)
print("got", flush=True)
time.sleep(120)
"""


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace with D1 and D2 on its loopback."""
    reason = can_make_namespaces()
    if reason:
        pytest.skip(reason)
    name = f"wq{os.getpid()}-spans"
    run("ip", "netns", "add", name)
    try:
        run("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up")
        for address in (D1, D2):
            run("ip", "netns", "exec", name, "ip", "addr", "add", f"{address}/32", "dev", "lo")
        yield name
    finally:
        run("ip", "netns", "delete", name, check=False)


def probe_args(path: Path, port: int, *extra: str) -> list[str]:
    return ["-m", "wifiq.cli", "probe", "--plmn", "505-01", "--state", str(path), "--port",
            str(port), *extra]


def in_netns(netns: str, args: list[str]) -> list[str]:
    """``python *args`` run inside ``netns``: the same process (``ip netns exec`` execs it)."""
    return ["ip", "netns", "exec", netns, sys.executable, *args]


def test_ctrl_c_while_probing_stores_nothing_and_the_next_run_is_whole(tmp_path, netns):
    path = tmp_path / "s.sqlite"
    state_with(path, [D1, D2])
    sink = subprocess.Popen(in_netns(netns, ["-c", SINK]), stdout=subprocess.PIPE, text=True)
    proc = None
    try:  # the sink takes D1's datagram and never answers
        assert sink.stdout is not None and sink.stdout.readline() == "ready\n"
        proc = subprocess.Popen(
            in_netns(netns, probe_args(path, PORT, "--timeout", "30", "--retries", "0")),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert sink.stdout.readline() == "got\n"  # the probes are in flight
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        sink.kill()
        sink.communicate(timeout=30)
        if proc is not None and proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert rows(path) == {"probe_runs": 0, "probe_spans": 0}
    # the next run: nothing listens on that port now -> ICMP port unreachable, stored whole
    done = subprocess.run(in_netns(netns, probe_args(path, PORT, "--timeout", "2")),
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert rows(path) == {"probe_runs": 1, "probe_spans": 2}
    assert {s.outcome for s in read_everything_at(path)} == {Outcome.UNREACHABLE}


def test_killed_while_storing_the_run_keeps_the_previous_state(tmp_path, netns):
    path = tmp_path / "s.sqlite"
    state_with(path, [D1])
    args = probe_args(path, PORT, "--timeout", "2")
    first = subprocess.run(in_netns(netns, args), cwd=REPO, capture_output=True, text=True,
                           timeout=60)
    assert first.returncode == 1, first.stderr
    before = read_everything_at(path)
    # kill_at runs ``python ARGS``: this python execs ``ip netns exec`` (same pid, same env)
    kill_at("store:probes", ["-c", "import os, sys; os.execvp(sys.argv[1], sys.argv[1:])",
                             *in_netns(netns, args)], tmp_path / "marker")
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert read_everything_at(path) == before
    assert rows(path) == {"probe_runs": 1, "probe_spans": 1}
    again = subprocess.run(in_netns(netns, args), cwd=REPO, capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 1, again.stderr
    assert summary(read_everything_at(path)) == [(D1, PORT, "unreachable", 1, 2, 2)]


def read_everything_at(path: Path) -> list[ProbeSpan]:
    with StateStore(path, read_only=True) as store:
        return store.probe_spans([D1, D2])
