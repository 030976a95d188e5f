"""``wifiq render --state`` after real refreshes against knot: the latest refresh, and
``--delta`` for the change since the refresh before (the full config after the first).

The state is the one ``wifiq refresh`` writes; the refresh's own ``[[outputs]]`` (full and
delta) are rendered alongside, and ``wifiq render --state`` must print the very same text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rig.knot import zone
from tests.rig.netns import can_make_namespaces
from tests.wifiq_resolve.conftest import BASE_RECORDS, PARENT, knot, wifiq  # noqa: F401 (fixtures)

from .test_render_kernel import _nft_elements

NFT_REASON = can_make_namespaces()


def _config(wifiq, knot, outputs: Path) -> str:  # noqa: F811
    path = wifiq.home / "wifiq.toml"
    path.write_text(
        f'state = "{wifiq.state}"\n[selection]\nplmns = ["505-01", "505-02"]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n'
        "[holddown]\nrefreshes = 1\n"
        f'[[outputs]]\ntarget = "nftables"\npath = "{outputs / "full.nft"}"\n'
        f'[[outputs]]\ntarget = "nftables"\npath = "{outputs / "delta.nft"}"\ndelta = true\n'
        f'[[outputs]]\ntarget = "mikrotik"\npath = "{outputs / "delta.rsc"}"\ndelta = true\n'
    )
    return str(path)


def test_render_from_state_full_and_delta(wifiq, knot, tmp_path: Path) -> None:  # noqa: F811
    outputs = tmp_path / "out"
    outputs.mkdir()
    state = ("--state", str(wifiq.state))
    missing = wifiq("render", "nftables", *state)
    assert missing.code == 2 and "no state file at" in missing.err and "Traceback" not in missing.err
    config = _config(wifiq, knot, outputs)

    assert wifiq("refresh", "--config", config).code == 3
    full = wifiq("render", "nftables", *state)
    assert full.code == 0, full.err
    assert "203.0.113.10" in full.out and "2001:db8::10" in full.out and "198.51.100.20" in full.out
    assert full.out == (outputs / "full.nft").read_text()  # what refresh's outputs wrote
    first = wifiq("render", "mikrotik", *state, "--delta")
    assert first.code == 0, first.err
    assert "FULL configuration" in first.out and "/ip firewall mangle" in first.out
    assert first.out == (outputs / "delta.rsc").read_text()  # a first run emits the full config
    as_json = wifiq("render", "nftables", *state, "--delta", "--json").json
    assert as_json["mode"] == "full"

    records = [r.replace("203.0.113.10", "203.0.113.12") for r in BASE_RECORDS]
    knot.write_zone(PARENT, zone(PARENT, records, serial=2))
    knot.reload()
    assert wifiq("refresh", "--config", config).code == 3
    delta = wifiq("render", "mikrotik", *state, "--delta")
    assert delta.code == 0, delta.err
    assert "DELTA since" in delta.out
    assert "address=203.0.113.12" in delta.out and "203.0.113.10" in delta.out
    assert "2001:db8::10" not in delta.out.split("changes:")[1]  # unchanged: not in the delta
    assert delta.out == (outputs / "delta.rsc").read_text()
    nft_delta = wifiq("render", "nftables", *state, "--delta")
    assert nft_delta.out == (outputs / "delta.nft").read_text()
    assert wifiq("render", "nftables", *state, "--delta", "--json").json["mode"] == "delta"
    later = wifiq("render", "nftables", *state)
    assert "203.0.113.12" in later.out and "203.0.113.10" not in later.out

    # Nothing changed in the latest refresh: the delta is empty of commands.
    assert wifiq("refresh", "--config", config).code == 0
    quiet = wifiq("render", "mikrotik", *state, "--delta")
    assert quiet.code == 0 and "changes: +0 -0 addresses" in quiet.out
    assert "add address=" not in quiet.out and "remove" not in quiet.out


@pytest.mark.skipif(NFT_REASON is not None, reason=NFT_REASON or "")
def test_state_delta_applied_by_nft_equals_next_full(wifiq, knot, tmp_path: Path) -> None:  # noqa: F811
    """Full config of refresh N + ``render --state --delta`` after N+1 = full config of N+1, in
    the kernel of a throwaway namespace."""
    outputs = tmp_path / "out"
    outputs.mkdir()
    config = _config(wifiq, knot, outputs)
    state = ("--state", str(wifiq.state))
    assert wifiq("refresh", "--config", config).code == 3
    (tmp_path / "n.nft").write_text(wifiq("render", "nftables", *state).out)
    knot.write_zone(PARENT, zone(PARENT, [r for r in BASE_RECORDS if "mnc001" not in r]
                                 + ["epdg.epc.mnc001.mcc505 IN AAAA 2001:db8::12"], serial=2))
    knot.reload()
    assert wifiq("refresh", "--config", config).code == 3
    (tmp_path / "delta.nft").write_text(wifiq("render", "nftables", *state, "--delta").out)
    (tmp_path / "n1.nft").write_text(wifiq("render", "nftables", *state).out)
    applied = _nft_elements(f"nft -f {tmp_path}/n.nft; nft -f {tmp_path}/delta.nft")
    assert applied == _nft_elements(f"nft -f {tmp_path}/n1.nft")
    assert "2001:db8::12" in applied["epdg6"] and "2001:db8::10" not in applied["epdg6"]
    assert "203.0.113.10" not in applied["epdg4"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "x.json", "--delta"], "--state and --delta read the state"),
        (["--previous", "x.json"], "--previous goes with --from"),
    ],
)
def test_state_and_file_options_do_not_mix(wifiq, argv: list[str], message: str) -> None:  # noqa: F811
    run = wifiq("render", "nftables", "--state", str(wifiq.state), *argv)
    assert run.code == 2 and message in run.err and run.err.count("\n") == 1


def test_state_document_per_operator_changes() -> None:
    """Pure logic: names folded into operators as refresh does; an address that left one name
    but is still held by another name of the operator is no change for that operator."""
    from wifiq.holddown import AddressState
    from wifiq.operators import load_operators
    from wifiq.render_state import first_refresh, previous_document, state_document
    from wifiq.store import LatestRefresh, RunRecord
    from wifiq.store.db import HistoryEvent

    epdg, sos = "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org", "sos.epdg.epc.mnc001.mcc505.pub.3gppnetwork.org"
    run = RunRecord(2, 1764151200.0, 1764151201.0, "changed", 4, 0, "0.1.0")
    latest = LatestRefresh(
        run=run,
        previous=RunRecord(1, 1764147600.0, 1764147601.0, "changed", 4, 0, "0.1.0"),
        active=(AddressState(epdg, "203.0.113.12", 4, 1.0, 2.0), AddressState(sos, "203.0.113.10", 4, 1.0, 2.0)),
        changes=(
            HistoryEvent(2, run.refreshed_at, epdg, "203.0.113.12", 4, "added", "new"),
            HistoryEvent(2, run.refreshed_at, epdg, "203.0.113.10", 4, "removed", "gone"),
            HistoryEvent(2, run.refreshed_at, epdg, "2001:db8::10", 6, "removed", "NXDOMAIN"),
        ),
        plmns={epdg: ("505-01",), sos: ("505-01",)},
    )
    doc = state_document(latest, load_operators(user_files=False))
    [telstra] = doc["operators"]
    assert telstra["brand"] == "Telstra" and doc["refreshed_at"] == "2025-11-26T10:00:00Z"
    assert telstra["active"] == ["203.0.113.10", "203.0.113.12"]
    assert telstra["added"] == ["203.0.113.12"]
    assert telstra["removed"] == [{"address": "2001:db8::10", "reason": "NXDOMAIN"}]  # .10 still on sos
    before = previous_document(doc, latest.previous.refreshed_at)
    assert before["operators"][0]["active"] == ["203.0.113.10", "2001:db8::10"]
    assert before["refreshed_at"] == "2025-11-26T09:00:00Z" and not first_refresh(before)


def test_full_output_from_the_state_removes_what_history_held(wifiq, knot, tmp_path: Path) -> None:  # noqa: F811
    """An operator that lost every address refreshes ago still gets its removal lines from
    ``render --state`` (its history holds an address); one that never had an address gets none
    (a world render is not a line per listed operator); a ``--from`` file of the same refresh,
    whose ``removed`` entries are empty by then, cannot know and names neither."""
    path = wifiq.home / "wifiq.toml"
    path.write_text(
        f'state = "{wifiq.state}"\n[selection]\nplmns = ["505-01", "505-02", "505-03"]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n[holddown]\nrefreshes = 1\n'
    )
    config, state = str(path), ("--state", str(wifiq.state))
    assert wifiq("refresh", "--config", config).code == 3
    first = wifiq("render", "aruba-os", *state).out
    assert "netdestination WIFIQ-505-02-" in first and "505-03" not in first
    knot.write_zone(PARENT, zone(PARENT, [r for r in BASE_RECORDS if "mnc002" not in r], serial=2))
    knot.reload()
    assert wifiq("refresh", "--config", config, "--allow-mass-removal").code == 3  # 505-02 lost every address
    assert wifiq("refresh", "--config", config).code == 0  # nothing changed: no removed entries now
    later = wifiq("render", "aruba-os", *state)
    assert later.code == 0, later.err
    removal = [line for line in later.out.splitlines() if "505-02" in line]
    assert removal and all(line.strip().startswith("no ") for line in removal)
    assert "no netdestination WIFIQ-505-02-" in later.out and "505-03" not in later.out
    (tmp_path / "now.json").write_text(wifiq("refresh", "--config", config, "--json").out)
    from_file = wifiq("render", "aruba-os", "--from", str(tmp_path / "now.json"))
    assert from_file.code == 0, from_file.err
    assert "505-02" not in from_file.out and "505-03" not in from_file.out
    cx = wifiq("render", "aruba-cx", *state).out
    assert "no class ip WIFIQ-505-02-" in cx and "505-03" not in cx


def test_refresh_output_after_a_failed_write_removes_what_the_file_held(wifiq, knot, tmp_path: Path) -> None:  # noqa: F811
    """A refresh ``[[outputs]]`` full file that could not be written when an operator lost its
    addresses is written by a later refresh (whose own ``removed`` entries are empty by then)
    with that operator's removal lines: the file it replaces held its objects."""
    out = tmp_path / "out"
    out.mkdir()
    path = wifiq.home / "wifiq.toml"
    path.write_text(
        f'state = "{wifiq.state}"\n[selection]\nplmns = ["505-01", "505-02"]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n[holddown]\nrefreshes = 1\n'
        f'[[outputs]]\ntarget = "aruba-os"\npath = "{out / "full.aos"}"\n'
    )
    config = str(path)
    assert wifiq("refresh", "--config", config).code == 3
    assert "netdestination WIFIQ-505-02-" in (out / "full.aos").read_text()
    knot.write_zone(PARENT, zone(PARENT, [r for r in BASE_RECORDS if "mnc002" not in r], serial=2))
    knot.reload()
    kept = (out / "full.aos").read_text()
    # The output cannot be written this time: the file says another DSCP (refused, one line).
    (out / "full.aos").write_text(kept.replace("marked DSCP ef (46)", "marked DSCP af41 (34)"))
    failed = wifiq("refresh", "--config", config, "--allow-mass-removal")
    assert failed.code != 0 and "previous-dscp=34" in failed.err, failed.err
    (out / "full.aos").write_text(kept)
    later = wifiq("refresh", "--config", config)
    assert later.code in (0, 3), later.err
    text = (out / "full.aos").read_text()
    assert "no netdestination WIFIQ-505-02-" in text and "  host 198.51.100.20" not in text
