"""``wifiq refresh`` and ``wifiq history`` against a real knot whose zone changes between
refreshes (``knotc reload``): diffs, hold-down, exit statuses, failures that remove nothing."""

from __future__ import annotations

import sqlite3
import time

from tests.rig.knot import zone

from .conftest import BASE_RECORDS, PARENT, operator, zones

TELSTRA = ["--plmn", "505-01"]


def set_zone(knot, records, serial):
    knot.write_zone(PARENT, zone(PARENT, records, serial=serial))
    knot.reload()


def write_config(wifiq, knot, refreshes=2, extra_resolvers=(), name="wifiq.toml"):
    path = wifiq.home / name
    resolvers = ", ".join(f'"{r}"' for r in (knot.address, *extra_resolvers))
    path.write_text(
        f'state = "{wifiq.state}"\n[selection]\nplmns = ["505-01", "505-02"]\n'
        f"[resolve]\nresolvers = [{resolvers}]\ntimeout = 0.3\nretries = 0\n"
        f"[holddown]\nrefreshes = {refreshes}\n"
    )
    return str(path)


def test_first_refresh_changes_then_silence(wifiq, knot):
    first = wifiq.refresh(*TELSTRA, "--resolver", knot.address)
    assert first.code == 3, first.err
    assert "+ 203.0.113.10" in first.out and "+ 2001:db8::10" in first.out
    again = wifiq.refresh(*TELSTRA, "--resolver", knot.address)
    assert (again.code, again.out, again.err) == (0, "", "")
    doc = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--json").json
    assert doc["status"] == "unchanged"
    telstra = operator(doc, "505-01")
    assert telstra["active"] == ["203.0.113.10", "2001:db8::10"] and telstra["unchanged"] == 2


def test_change_added_at_once_removed_after_hold_down(wifiq, knot):
    config = write_config(wifiq, knot, refreshes=2)
    assert wifiq("refresh", "--config", config).code == 3
    records = [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS]
    set_zone(knot, records, serial=2)
    run = wifiq("refresh", "--config", config, "--json")
    assert run.code == 3, run.err
    telstra = operator(run.json, "505-01")
    assert telstra["added"] == ["203.0.113.12"] and telstra["removed"] == []
    assert "203.0.113.10" in telstra["active"]  # held down: one answer without it so far
    run = wifiq("refresh", "--config", config, "--json")
    assert run.code == 3
    telstra = operator(run.json, "505-01")
    assert telstra["removed"][0]["address"] == "203.0.113.10"
    assert "missing from 2 successful refreshes" in telstra["removed"][0]["reason"]
    assert telstra["active"] == ["203.0.113.12", "2001:db8::10"]
    assert wifiq("refresh", "--config", config).code == 0
    history = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.state), "--json").json
    changes = history["operators"][0]["changes"]
    assert [(c["change"], c["address"]) for c in changes if c["name"].startswith("epdg")] == [
        ("added", "203.0.113.10"), ("added", "2001:db8::10"),
        ("added", "203.0.113.12"), ("removed", "203.0.113.10")]
    assert len(history["operators"][0]["seen"]) == 4
    text = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.state))
    assert "- 203.0.113.10" in text.out and "active now:" in text.out


def test_nxdomain_starts_hold_down_and_does_not_empty(wifiq, knot):
    config = write_config(wifiq, knot, refreshes=2)
    wifiq("refresh", "--config", config)
    set_zone(knot, [r for r in BASE_RECORDS if "mnc001" not in r], serial=2)
    run = wifiq("refresh", "--config", config, "--json")
    assert run.code == 0, run.out  # NXDOMAIN once: nothing removed yet, nothing new
    assert operator(run.json, "505-01")["active"] == ["203.0.113.10", "2001:db8::10"]
    run = wifiq("refresh", "--config", config, "--json")
    assert run.code == 3
    telstra = operator(run.json, "505-01")
    assert telstra["active"] == []
    assert all("NXDOMAIN" in r["reason"] for r in telstra["removed"])


def test_no_failure_removes_an_address(wifiq, knot, silent):
    config = write_config(wifiq, knot, refreshes=1)
    assert wifiq("refresh", "--config", config).code == 3
    # The zone drops 505-01's epdg records, but every refresh below has a failure for them.
    set_zone(knot, [r for r in BASE_RECORDS if "mnc001" not in r], serial=2)
    dead = wifiq.refresh(*TELSTRA, "--plmn", "505-02", "--resolver", silent.address, "--json")
    assert dead.code == 1 and dead.json["status"] == "failed"
    assert "last good addresses" in dead.err
    telstra = operator(dead.json, "505-01")
    assert telstra["active"] == ["203.0.113.10", "2001:db8::10"] and telstra["removed"] == []
    assert telstra["kept"] == ["203.0.113.10", "2001:db8::10"]
    assert {f["reason"].split()[1] for f in telstra["failed"]} == {"no"}  # "A no answer after …"
    # One resolver answers NXDOMAIN, the other is dead: still incomplete, still kept.
    both = write_config(wifiq, knot, refreshes=1, extra_resolvers=(silent.address,),
                        name="both.toml")
    part = wifiq("refresh", "--config", both, "--json")
    assert part.code == 4 and part.json["status"] == "partial"
    assert operator(part.json, "505-01")["active"] == ["203.0.113.10", "2001:db8::10"]
    # SERVFAIL: 505's names move under a zone knot cannot load.
    knot.set_zones({**zones(BASE_RECORDS, serial=3), f"mcc505.{PARENT}": None})
    servfail = wifiq("refresh", "--config", config, "--json")
    assert servfail.code == 1 and servfail.json["status"] == "failed"
    assert operator(servfail.json, "505-01")["active"] == ["203.0.113.10", "2001:db8::10"]
    assert "SERVFAIL" in operator(servfail.json, "505-01")["failed"][0]["reason"]
    knot.set_zones(zones([r for r in BASE_RECORDS if "mnc001" not in r], serial=4))
    # Only a complete answer lets the hold-down run (refreshes = 1: removed at once).
    done = wifiq("refresh", "--config", config, "--json")
    assert done.code == 3 and operator(done.json, "505-01")["active"] == []


def test_concurrent_refreshes_wait_or_refuse(wifiq, knot):
    from wifiq.store import RefreshLock

    assert wifiq.refresh(*TELSTRA, "--resolver", knot.address).code == 3
    with RefreshLock(wifiq.state, wait=0):
        busy = wifiq.refresh(*TELSTRA, "--resolver", knot.address, "--wait", "0.3")
        assert busy.code == 1
        assert "another wifiq refresh is using" in busy.err and "--wait" in busy.err
        waiting = wifiq.popen("refresh", "--state", str(wifiq.state), *TELSTRA,
                              "--resolver", knot.address, "--wait", "30")
        time.sleep(1.0)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    two = [wifiq.popen("refresh", "--state", str(wifiq.state), *TELSTRA,
                       "--resolver", knot.address) for _ in range(2)]
    assert [p.wait(timeout=60) for p in two] == [0, 0]
    for p in two:
        p.communicate()
    with sqlite3.connect(wifiq.state) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 4


def test_unusable_state_file_is_a_clear_error(wifiq, knot):
    wifiq.state.write_text("this is not a database\n" * 100)
    run = wifiq.refresh(*TELSTRA, "--resolver", knot.address)
    assert run.code == 1 and "state file" in run.err and "Traceback" not in run.err
    assert wifiq.state.read_text().startswith("this is not a database")


def test_config_outputs_rendered_when_addresses_change(wifiq, knot):
    full, delta = wifiq.home / "wifiq.nft", wifiq.home / "wifiq-delta.rsc"
    config = write_config(wifiq, knot, refreshes=1)
    with open(config, "a") as fh:
        fh.write(f'[[outputs]]\ntarget = "nftables"\npath = "{full}"\n'
                 f'[[outputs]]\ntarget = "mikrotik"\npath = "{delta}"\ndelta = true\ndscp = 46\n')
    first = wifiq("refresh", "--config", config)
    assert first.code == 3 and f"wrote nftables output {full}" in first.err, first.err
    text = full.read_text()
    assert "203.0.113.10" in text and "2001:db8::10" in text and "198.51.100.20" in text
    assert "203.0.113.10" in delta.read_text()
    stamp = full.stat().st_mtime_ns
    quiet = wifiq("refresh", "--config", config)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "") and full.stat().st_mtime_ns == stamp
    set_zone(knot, [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS], serial=2)
    changed = wifiq("refresh", "--config", config)
    assert changed.code == 3
    text = full.read_text()
    assert "203.0.113.12" in text and "203.0.113.10" not in text
    change = delta.read_text()
    assert "203.0.113.12" in change and "203.0.113.10" in change  # add one, remove the other
    assert "2001:db8::10" not in change  # unchanged addresses are not in the delta


def test_bad_output_target_is_refused_before_any_lookup(wifiq, knot):
    config = write_config(wifiq, knot)
    with open(config, "a") as fh:
        fh.write(f'[[outputs]]\ntarget = "no-such-gear"\npath = "{wifiq.home / "x"}"\n')
    run = wifiq("refresh", "--config", config)
    assert run.code == 2 and "outputs[0].target" in run.err and "no-such-gear" in run.err
    assert not wifiq.state.exists()  # nothing was resolved or stored


def test_history_finds_the_state_through_the_config_file(wifiq, knot):
    config = write_config(wifiq, knot)
    assert wifiq("refresh", "--config", config).code == 3
    shown = wifiq("history", "--plmn", "505-01", "--config", config, "--json")
    assert shown.code == 0, shown.err
    assert "203.0.113.10" in shown.out
    # without --config or --state it looks in the (empty) user data dir: a clear error
    missing = wifiq("history", "--plmn", "505-01")
    assert missing.code == 2 and "no state file at" in missing.err


def test_state_lives_in_the_user_data_dir_by_default(wifiq, knot):
    run = wifiq("refresh", *TELSTRA, "--resolver", knot.address)
    assert run.code == 3, run.err
    default = wifiq.home / "data" / "wifiq" / "state.sqlite"  # $XDG_DATA_HOME/wifiq (platformdirs)
    assert default.is_file() and not wifiq.state.exists()
    with sqlite3.connect(default) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert wifiq("history", *TELSTRA).code == 0  # history finds it there too
