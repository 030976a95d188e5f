"""``wifiq refresh`` from cron never loses a change: exit statuses that signal a change even
when some names fail, outputs that failed (a real full disk) redone with the accumulated
change, reports that could not be printed printed again, the on-change command retried, paths
that would overwrite the config or the state refused, and permanent failures told in one line.
Against a real knot on loopback; the full disk is a tiny tmpfs in a private mount namespace."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rig.knot import KnotServer, have_knot, zone
from tests.rig.tinyfs import TinyFs

from .conftest import BASE_RECORDS, PARENT, operator, zones

ZSR = "epdg.epc.mnc099.mcc231 IN A 203.0.113.99"  # 231-99, brand "ŽSR" (not latin-1)


@pytest.fixture
def knot(tmp_path: Path) -> Iterator[KnotServer]:
    if not have_knot():
        pytest.skip("knotd is not installed (scripts/setup installs the Debian package knot)")
    server = KnotServer(tmp_path / "knot", zones(BASE_RECORDS + [ZSR])).start()
    yield server
    server.stop()


@pytest.fixture
def tinyfs(tmp_path: Path) -> Iterator[TinyFs]:
    fs = TinyFs(tmp_path / "tiny")
    yield fs
    fs.stop()


def set_zone(knot, records, serial):
    knot.write_zone(PARENT, zone(PARENT, records, serial=serial))
    knot.reload()


def config(wifiq, knot, *, plmns=("505-01", "999-01"), extra="", top="", name="wifiq.toml"):
    """A config with one failing name pair (999-01: SERVFAIL) unless ``plmns`` says otherwise."""
    path = wifiq.home / name
    listed = ", ".join(f'"{p}"' for p in plmns)
    path.write_text(
        f'state = "{wifiq.state}"\n{top}[selection]\nplmns = [{listed}]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n'
        f"[holddown]\nrefreshes = 1\n{extra}"
    )
    return str(path)


def outputs(*items):
    return "".join(f'[[outputs]]\ntarget = "{t}"\npath = "{p}"\n' + ("delta = true\n" if d else "")
                   for t, p, d in items)


def in_ns(fs: TinyFs, wifiq, *args: str):
    return fs.run([sys.executable, "-m", "wifiq.cli", *args], env=wifiq.env)


# -- item 3: exit statuses ----------------------------------------------------------------------


def test_a_change_is_signalled_while_other_names_fail(wifiq, knot):
    cfg = config(wifiq, knot)
    first = wifiq("refresh", "--config", cfg, "--json")
    assert first.code == 5, first.err  # changed, and 999-01 answers SERVFAIL
    assert first.json["status"] == "partial"  # the JSON status keeps its values
    again = wifiq("refresh", "--config", cfg)
    assert again.code == 4, again.err  # nothing changed, 999-01 still fails
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS], 2)
    changed = wifiq("refresh", "--config", cfg)
    assert changed.code == 5 and "+ 203.0.113.12" in changed.out
    clean = config(wifiq, knot, plmns=("505-01",), name="clean.toml")
    assert wifiq("refresh", "--config", clean).code == 0


# -- item 2: durable outputs and news -------------------------------------------------------------


def test_output_on_a_full_disk_is_written_by_the_next_refresh(wifiq, knot, tinyfs):
    full, delta = tinyfs.dir / "wifiq.nft", tinyfs.dir / "changes.rsc"
    cfg = config(wifiq, knot, plmns=("505-01",),
                 extra=outputs(("nftables", full, False), ("mikrotik", delta, True)))
    tinyfs.fill()
    failed = in_ns(tinyfs, wifiq, "refresh", "--config", cfg)
    assert failed.returncode == 1 and "No space left on device" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr and "+ 203.0.113.10" in failed.stdout
    tinyfs.free()
    redone = in_ns(tinyfs, wifiq, "refresh", "--config", cfg)
    assert redone.returncode == 3, redone.stderr  # DNS unchanged, but the outputs were behind
    assert "203.0.113.10" in tinyfs.run(["cat", str(full)]).stdout
    assert "203.0.113.10" in tinyfs.run(["cat", str(delta)]).stdout
    assert in_ns(tinyfs, wifiq, "refresh", "--config", cfg).returncode == 0
    # Two changes while the disk is full: the delta gets both, accumulated.
    tinyfs.fill()
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS], 2)
    assert in_ns(tinyfs, wifiq, "refresh", "--config", cfg).returncode == 1
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS]
             + ["epdg.epc.mnc001.mcc505 IN A 203.0.113.13"], 3)
    assert in_ns(tinyfs, wifiq, "refresh", "--config", cfg).returncode == 1
    tinyfs.free()
    last = in_ns(tinyfs, wifiq, "refresh", "--config", cfg)
    assert last.returncode == 3, last.stderr
    nft = tinyfs.run(["cat", str(full)]).stdout
    assert "203.0.113.12" in nft and "203.0.113.13" in nft and "203.0.113.10" not in nft
    change = tinyfs.run(["cat", str(delta)]).stdout
    assert "203.0.113.12" in change and "203.0.113.13" in change and "203.0.113.10" in change
    assert "2001:db8::10" not in change  # unchanged since the run it reflects


def test_outputs_behind_symbolic_links_write_the_linked_files(wifiq, knot):
    """An output path that is a link (e.g. into /etc/nftables.d) stays a link: the file it
    points to gets each new version, keeping its mode; before, the first refresh replaced the
    link by a plain file and the linked file kept the old addresses."""
    real_dir = wifiq.home / "nftables.d"
    real_dir.mkdir()
    real = real_dir / "epdg.nft"
    real.write_text("# placeholder\n")
    real.chmod(0o640)
    link = wifiq.home / "wifiq.nft"
    link.symlink_to(real)
    dangling = wifiq.home / "changes.rsc"
    dangling.symlink_to(real_dir / "changes.rsc")  # not there yet: created, as echo > link
    cfg = config(wifiq, knot, plmns=("505-01",),
                 extra=outputs(("nftables", link, False), ("mikrotik", dangling, True)))
    assert wifiq("refresh", "--config", cfg).code == 3
    assert link.is_symlink() and dangling.is_symlink()
    assert "203.0.113.10" in real.read_text() and (real.stat().st_mode & 0o777) == 0o640
    assert "203.0.113.10" in (real_dir / "changes.rsc").read_text()
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS], 2)
    assert wifiq("refresh", "--config", cfg).code == 3
    assert link.is_symlink() and "203.0.113.12" in real.read_text()
    assert "203.0.113.10" not in real.read_text()
    assert sorted(p.name for p in real_dir.iterdir()) == ["changes.rsc", "epdg.nft"]
    loop = wifiq.home / "loop.nft"
    loop.symlink_to(loop)
    with open(cfg, "a") as fh:
        fh.write(outputs(("nftables", loop, False)))
    refused = wifiq("refresh", "--config", cfg)
    assert refused.code == 2 and "outputs[2].path" in refused.err, refused.err
    assert "Traceback" not in refused.err


def test_a_report_that_could_not_be_printed_is_printed_by_the_next_refresh(wifiq, knot):
    cfg = config(wifiq, knot, plmns=("505-01",))
    with open("/dev/full", "w") as full:
        proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli", "refresh", "--config", cfg],
                                env=wifiq.env, stdout=full, stderr=subprocess.PIPE, text=True)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith("wifiq: error: cannot print the report")
    assert "Traceback" not in err and "Exception ignored" not in err
    again = wifiq("refresh", "--config", cfg)
    assert again.code == 3, again.err  # nothing new in DNS, but news not yet told
    assert "earlier changes, not reported" in again.out and "+ 203.0.113.10" in again.out
    assert wifiq("refresh", "--config", cfg).out == ""  # told once it was printed


def test_json_carries_the_changes_no_report_has_shown(wifiq, knot):
    cfg = config(wifiq, knot, plmns=("505-01",))
    with open("/dev/full", "w") as full:
        proc = subprocess.Popen([sys.executable, "-m", "wifiq.cli", "refresh", "--config", cfg,
                                 "--json"], env=wifiq.env, stdout=full, stderr=subprocess.PIPE)
        proc.communicate(timeout=60)
    assert proc.returncode == 1
    doc = wifiq("refresh", "--config", cfg, "--json")
    assert doc.code == 3 and doc.json["status"] == "changed"  # the JSON status keeps its values
    told = {(e["change"], e["address"]) for e in doc.json["unreported"]}
    assert told == {("added", "203.0.113.10"), ("added", "2001:db8::10")}
    assert wifiq("refresh", "--config", cfg, "--json").json["unreported"] == []


def test_a_delta_counts_as_applied_only_once_on_change_succeeded(wifiq, knot):
    delta, flag = wifiq.home / "changes.rsc", wifiq.home / "fail"
    applied = wifiq.home / "applied"
    hook = wifiq.home / "apply.sh"
    hook.write_text(f'#!/bin/sh\n[ -e "{flag}" ] && exit 7\ncat "{delta}" >> "{applied}"\n')
    hook.chmod(0o755)
    cfg = config(wifiq, knot, plmns=("505-01",), top=f'on_change = "{hook}"\n',
                 extra=outputs(("mikrotik", delta, True)))
    assert wifiq("refresh", "--config", cfg).code == 3
    assert "203.0.113.10" in applied.read_text()
    flag.touch()
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS], 2)
    failed = wifiq("refresh", "--config", cfg)
    assert failed.code == 1 and "exited with status 7" in failed.err
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS]
             + ["epdg.epc.mnc001.mcc505 IN A 203.0.113.13"], 3)
    assert wifiq("refresh", "--config", cfg).code == 1  # still failing: retried, not lost
    flag.unlink()
    applied.write_text("")
    done = wifiq("refresh", "--config", cfg)
    assert done.code == 3, done.err
    change = applied.read_text()  # the delta since the last applied one: both changes
    assert "203.0.113.12" in change and "203.0.113.13" in change and "203.0.113.10" in change
    assert "2001:db8::10" not in change
    applied.write_text("")
    assert wifiq("refresh", "--config", cfg).code == 0 and applied.read_text() == ""


def test_a_brand_the_locale_cannot_encode_is_escaped_not_a_traceback(wifiq, knot):
    cfg = config(wifiq, knot, plmns=("231-99",))
    wifiq.env["PYTHONIOENCODING"] = "latin-1"
    run = wifiq("refresh", "--config", cfg)
    assert run.code == 3 and "Traceback" not in run.err, run.err
    assert "231-99 \\u017dSR: +1" in run.out and "+ 203.0.113.99" in run.out
    assert wifiq("refresh", "--config", cfg).out == ""  # it was reported


def test_on_change_runs_after_commit_and_is_retried_until_it_succeeds(wifiq, knot):
    seen, flag = wifiq.home / "seen", wifiq.home / "fail"
    hook = wifiq.home / "hook.sh"
    hook.write_text(f'#!/bin/sh\nenv | grep ^WIFIQ_ | sort >> "{seen}"\necho --- >> "{seen}"\n'
                    f'[ ! -e "{flag}" ]\n')
    hook.chmod(0o755)
    nft = wifiq.home / "wifiq.nft"
    cfg = config(wifiq, knot, top=f'on_change = "{hook} --from-wifiq"\n',
                 extra=outputs(("nftables", nft, False)))
    flag.touch()
    first = wifiq("refresh", "--config", cfg)
    assert first.code == 1 and "on-change command" in first.err and "exited with status 1" \
        in first.err, first.err
    assert "runs again on the next refresh" in first.err and nft.exists()
    flag.unlink()
    retried = wifiq("refresh", "--config", cfg)
    assert retried.code == 5, retried.err  # DNS unchanged; the change is delivered now
    calls = seen.read_text().split("---\n")[:-1]
    assert len(calls) == 2 and "WIFIQ_EXIT_STATUS=5" in calls[1]
    assert "WIFIQ_STATUS=partial" in calls[1] and f"WIFIQ_OUTPUTS={nft}" in calls[1]
    assert wifiq("refresh", "--config", cfg).code == 4  # nothing new: the command is not run
    assert len(seen.read_text().split("---\n")) == 3
    missing = wifiq("refresh", "--config", cfg, "--on-change", "no-such-program-x")
    assert missing.code == 2 and "no program 'no-such-program-x'" in missing.err


# -- item 4: paths and state identity -----------------------------------------------------------


@pytest.mark.parametrize("which", ["config", "state", "wal", "lock", "twice", "symlink"])
def test_an_output_that_would_overwrite_a_file_of_wifiq_is_refused(wifiq, knot, which):
    cfg = Path(config(wifiq, knot))
    link = wifiq.home / "innocent.nft"
    link.symlink_to(cfg)
    target = {"config": cfg, "state": wifiq.state, "wal": Path(f"{wifiq.state}-wal"),
              "lock": Path(f"{wifiq.state}.lock"), "twice": wifiq.home / "x.nft",
              "symlink": link}[which]
    extra = [("nftables", target, False)]
    if which == "twice":  # the same file under two spellings
        extra.append(("mikrotik", wifiq.home / "." / "x.nft", True))
    before = cfg.read_text()
    with open(cfg, "a") as fh:
        fh.write(outputs(*extra))
    text = cfg.read_text()
    run = wifiq("refresh", "--config", str(cfg))
    assert run.code == 2 and len(run.err.strip().splitlines()) == 1, run.err
    assert "outputs[" in run.err and "Traceback" not in run.err
    assert cfg.read_text() == text and before in text
    assert not wifiq.state.exists()  # refused before any lookup or store


def test_another_programs_database_with_a_meta_table_is_refused_untouched(wifiq, knot):
    with sqlite3.connect(wifiq.state) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY)")
    before = wifiq.state.read_bytes()
    run = wifiq.refresh("--plmn", "505-01", "--resolver", knot.address)
    assert run.code == 1 and "not a wifiq state file" in run.err, run.err
    assert wifiq.state.read_bytes() == before
    assert not Path(f"{wifiq.state}-wal").exists()
    history = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.state))
    assert history.code == 1 and "not a wifiq state file" in history.err


def test_a_state_from_before_the_marks_is_adopted_without_old_news(wifiq, knot):
    assert wifiq.refresh("--plmn", "505-01", "--resolver", knot.address).code == 3
    with sqlite3.connect(wifiq.state) as db:  # as the previous wifiq left it
        db.execute("PRAGMA application_id = 0")
        db.execute("DROP TABLE deliveries")
        db.execute("DROP TABLE failing")
    run = wifiq.refresh("--plmn", "505-01", "--resolver", knot.address)
    assert (run.code, run.out) == (0, ""), run.err  # its changes were reported back then
    with sqlite3.connect(wifiq.state) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == 0x57694651
        assert db.execute("SELECT value FROM meta WHERE key = 'application'").fetchone() == (
            "wifiq",)


def test_history_and_render_read_a_state_on_a_read_only_file_system(wifiq, knot, tmp_path):
    assert wifiq.refresh("--plmn", "505-01", "--resolver", knot.address).code == 3
    tinyfs = TinyFs(tmp_path / "ro", size=4 << 20)
    try:
        _read_only_commands(wifiq, tinyfs)
    finally:
        tinyfs.stop()


def _read_only_commands(wifiq, tinyfs):
    copy = tinyfs.dir / "state.sqlite"
    assert tinyfs.run(["cp", str(wifiq.state), str(copy)]).returncode == 0
    tinyfs.read_only()
    history = in_ns(tinyfs, wifiq, "history", "--plmn", "505-01", "--state", str(copy))
    assert history.returncode == 0 and "203.0.113.10" in history.stdout, history.stderr
    render = in_ns(tinyfs, wifiq, "render", "nftables", "--state", str(copy))
    assert render.returncode == 0 and "203.0.113.10" in render.stdout, render.stderr


def test_observations_older_than_the_retention_are_deleted(tmp_path):
    from wifiq.holddown import AddressState
    from wifiq.resolve import Lookup, Outcome
    from wifiq.store import StateStore

    day = 86400.0
    with StateStore(tmp_path / "s.sqlite") as store:
        for n in range(5):
            at = 1_000_000 + n * day
            store.record_refresh(
                refreshed_at=at, finished_at=at, status="unchanged", wifiq_version="t",
                lookups=[Lookup("a.example", "A", "127.0.0.1:53", 0, Outcome.ADDRESSES,
                                ("192.0.2.1",), 300)],
                active=[AddressState("a.example", "192.0.2.1", 4, 1_000_000, at)],
                replaced_names=["a.example"], changes=[], name_plmns=[],
                retention=2.5 * day)
        runs = [r[0] for r in store._db.execute(
            "SELECT DISTINCT run_id FROM observations ORDER BY run_id")]
        assert runs == [3, 4, 5] and len(store.runs()) == 5  # runs and changes are kept


def test_retention_in_the_config(wifiq, knot):
    cfg = config(wifiq, knot, top='retention = "2h"\n')
    from wifiq.config import load_config

    assert load_config(Path(cfg)).retention == 7200
    assert load_config(Path(config(wifiq, knot, top='retention = "forever"\n'))).retention \
        is None
    bad = wifiq("refresh", "--config", config(wifiq, knot, top='retention = "10s"\n'))
    assert bad.code == 2 and "retention" in bad.err


# -- item 7: quiet when permanent ---------------------------------------------------------------


def test_a_failure_that_persists_is_one_line_per_kind(wifiq, knot):
    cfg = config(wifiq, knot)
    first = wifiq("refresh", "--config", cfg)
    assert "! epdg.epc.mnc001.mcc999" in first.out  # new: every name told
    again = wifiq("refresh", "--config", cfg)
    assert again.code == 4
    lines = again.out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("2 names still failing since "), again.out
    assert "SERVFAIL" in lines[0]
    verbose = wifiq("refresh", "--config", cfg, "--verbose")
    assert "! epdg.epc.mnc001.mcc999" in verbose.out and "! sos.epdg" in verbose.out
    doc = wifiq("refresh", "--config", cfg, "--json").json
    assert len(operator(doc, "999-01")["failed"]) == 2


def test_when_everything_fails_one_line_per_kind(wifiq, silent):
    run = wifiq.refresh("--plmn", "505-01", "--plmn", "505-02", "--resolver", silent.address)
    assert run.code == 1
    lines = run.out.strip().splitlines()
    assert lines == ["4 names failed: timeout (last good kept; --verbose lists them)"], run.out


def test_a_refresh_killed_after_its_commit_loses_no_news_and_no_reload(wifiq, knot):
    once, calls = wifiq.home / "kill-once", wifiq.home / "calls"
    hook = wifiq.home / "hook.sh"  # the first call kills wifiq (its parent) with SIGKILL
    hook.write_text(f'#!/bin/sh\nif [ -e "{once}" ]; then rm "{once}"; kill -9 $PPID; exit 0; '
                    f'fi\necho reload >> "{calls}"\n')
    hook.chmod(0o755)
    cfg = config(wifiq, knot, plmns=("505-01",), top=f'on_change = "{hook}"\n')
    once.touch()
    killed = wifiq("refresh", "--config", cfg)
    assert killed.code == -9 and killed.out == ""  # state committed, nothing told or reloaded
    after = wifiq("refresh", "--config", cfg)
    assert after.code == 3, after.err
    assert "earlier changes, not reported" in after.out and "+ 203.0.113.10" in after.out
    assert calls.read_text() == "reload\n"
    assert wifiq("refresh", "--config", cfg).code == 0 and calls.read_text() == "reload\n"
