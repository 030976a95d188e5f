"""A state file of 0 bytes (truncated, left by a crash or a full disk, created by ``touch``)
is not a first refresh: before, ``refresh`` made a new state in it without a word (the
history, the hold-down counters and the addresses kept through failures gone, every address
reported as new) and ``history`` died with a traceback. Now every command refuses it in one
line, untouched, and ``refresh --allow-empty-state`` starts a new state in it, saying so on
stderr and in ``--json`` (``new_state``)."""

from __future__ import annotations

from pathlib import Path

from .conftest import operator

TELSTRA = ("--plmn", "505-01")


def _lines(err: str) -> list[str]:
    return err.strip().splitlines()


def test_an_empty_state_file_is_refused_untouched_by_every_command(wifiq, silent):
    wifiq.state.touch()
    run = wifiq.refresh(*TELSTRA, "--resolver", silent.address)
    assert run.code == 1 and run.out == "", run.err
    (line,) = _lines(run.err)  # refused before any lookup: no other line
    assert line.startswith(f"wifiq: error: state file {wifiq.state}: empty (0 bytes), not a "
                           "wifiq state: its history, hold-down counters and the addresses "
                           "kept through failures are gone"), line
    assert "--allow-empty-state" in line
    assert wifiq.state.stat().st_size == 0
    assert sorted(p.name for p in wifiq.state.parent.iterdir() if "state" in p.name) == [
        "state.sqlite", "state.sqlite.lock"]  # no -wal or -shm: SQLite never opened it
    for args in (("history", *TELSTRA), ("render", "nftables"), ("probe", *TELSTRA)):
        shown = wifiq(*args, "--state", str(wifiq.state))
        assert shown.code == 1 and "Traceback" not in shown.err, (args, shown.err)
        assert _lines(shown.err) == [f"wifiq: error: state file {wifiq.state}: empty (0 bytes), "
                                     "not a wifiq state: nothing to read (truncated, a crash, a "
                                     "full disk or touch?)"], (args, shown.err)
    assert wifiq.state.stat().st_size == 0


def test_allow_empty_state_starts_a_new_state_and_says_so(wifiq, knot):
    first = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--json")
    assert first.code == 3 and first.json["new_state"] == "missing", first.err
    assert "warning" not in first.err  # no file at all: an ordinary first refresh
    wifiq.state.write_bytes(b"")  # truncated
    refused = wifiq.refresh(*TELSTRA, "--resolver", knot.address)
    assert refused.code == 1 and "--allow-empty-state" in refused.err
    run = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--allow-empty-state", "--json")
    assert run.code == 3, run.err
    assert run.json["new_state"] == "empty"
    assert f"wifiq: warning: state file {wifiq.state} was empty (0 bytes): a new state is " \
           "started in it (--allow-empty-state); its history before is lost" in _lines(run.err)
    assert operator(run.json, "505-01")["added"] == ["203.0.113.10", "2001:db8::10"]
    again = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--json")
    assert again.code == 0 and again.json["new_state"] is None, again.err
    assert wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--allow-empty-state").code == 0
    shown = wifiq("history", *TELSTRA, "--state", str(wifiq.state), "--json")
    assert shown.code == 0 and len(shown.json["operators"][0]["changes"]) == 4  # 2 names x 2


def test_a_state_directory_that_is_missing_is_still_a_first_refresh(wifiq, knot, tmp_path: Path):
    state = tmp_path / "new" / "dir" / "state.sqlite"
    run = wifiq("refresh", *TELSTRA, "--resolver", knot.address, "--state", str(state), "--json")
    assert run.code == 3 and run.json["new_state"] == "missing", run.err
    assert state.stat().st_size > 0
