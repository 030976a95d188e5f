"""``simtool aram lock`` end to end (CLI subprocess, pcscd + vpcd, the simulated sysmocom card):
a fresh ``sysmo`` card takes direct STORE DATA; after the lock (STORE DATA A1, 9000) a direct add
is refused with exit 5 and the --scp02 hint, and an add through the ISD (SCP02, KVN 0x70)
succeeds and reads back. The lock's own check (a direct delete of an absent AID → 6982) never
changes a rule; a second lock, a card without the lock command and a dry run are refused or
send nothing."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

HASH_A = "11" * 20
HASH_B = "22" * 32
SCP = ("--scp02", "--kvn", "0x70", "--test-key")


def _simtool(rig, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simtool.cli", *args], env=rig.env,
                          capture_output=True, text=True, timeout=60)


def _stores(state: dict) -> list[tuple[str, str]]:
    return [(c, r[-4:]) for c, r in state["apdus"] if c[2:4] == "E2"]


def test_lock_then_direct_add_refused_and_scp02_add_reads_back(pcsc_rig):
    card = pcsc_rig.insert_card("sysmo")
    before = _simtool(pcsc_rig, "aram", "add", "--hash", HASH_A)  # a fresh card: direct writes work
    assert before.returncode == 0, before.stderr
    dry = _simtool(pcsc_rig, "aram", "lock", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    assert doc["dry_run"] is True and doc["locked"] is False and doc["sw"] is None
    assert {"command": "80E2900001A1", "sent": False, "sw": None} in doc["apdus"]
    assert card.state()["aram_locked"] is False
    locked = _simtool(pcsc_rig, "aram", "lock", "--json", "--trace")
    assert locked.returncode == 0, locked.stderr
    doc = json.loads(locked.stdout)
    assert doc == {"locked": True, "dry_run": False, "through_security_domain": False, "sw": "9000",
                   "direct_store_data_sw": "6982"}
    assert "80E2900001A1" in locked.stderr.replace(" ", "").upper()
    state = card.state()
    assert state["aram_locked"] is True and len(state["rules"]) == 1  # the check changed no rule
    assert [sw for _, sw in _stores(state)][-2:] == ["9000", "6982"]
    direct = _simtool(pcsc_rig, "aram", "add", "--hash", HASH_B)
    assert direct.returncode == 5 and "6982" in direct.stderr and "--scp02" in direct.stderr
    assert len(direct.stderr.strip().splitlines()) == 1
    through = _simtool(pcsc_rig, "aram", "add", "--hash", HASH_B, *SCP, "--json")
    assert through.returncode == 0, through.stderr
    assert json.loads(through.stdout)["verified"] is True
    listed = _simtool(pcsc_rig, "aram", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(r["hash"].lower() for r in json.loads(listed.stdout)) == sorted([HASH_A, HASH_B])
    again = _simtool(pcsc_rig, "aram", "lock")  # locked: the direct A1 is refused too
    assert again.returncode == 5 and "status word 6982" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    state_file = card.state_file  # the lock persists: the same card re-inserted is still locked
    pcsc_rig.remove_card()
    pcsc_rig.insert_card("sysmo", state_file=state_file)
    reinserted = _simtool(pcsc_rig, "aram", "add", "--hash", "33" * 20)
    assert reinserted.returncode == 5 and "6982" in reinserted.stderr


def test_lock_through_the_security_domain(pcsc_rig):
    card = pcsc_rig.insert_card("sysmo")
    locked = _simtool(pcsc_rig, "aram", "lock", *SCP, "--json")
    assert locked.returncode == 0, locked.stderr
    doc = json.loads(locked.stdout)
    assert doc["locked"] is True and doc["through_security_domain"] is True
    assert doc["secure_channel"]["scp"] == "SCP02" and doc["secure_channel"]["kvn"] == 0x70
    assert card.state()["aram_locked"] is True
    direct = _simtool(pcsc_rig, "aram", "add", "--hash", HASH_A)
    assert direct.returncode == 5 and "--scp02" in direct.stderr


def test_a_card_without_the_lock_command_is_refused_with_its_status_word(pcsc_rig):
    card = pcsc_rig.insert_card("aram-applet")  # Bertrand Martel's original applet: no A1
    out = _simtool(pcsc_rig, "aram", "lock")
    assert out.returncode == 5
    assert out.stderr.startswith("simtool: error: card refused the ARA-M lock (STORE DATA A1): status word ")
    assert "sysmocom" in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert card.state()["aram_locked"] is False


def test_the_probe_aid_is_one_the_card_does_not_hold():
    from simtool.aram.lock import PROBE_AID, probe_aid

    first = probe_aid(set())
    assert first.startswith(PROBE_AID) and 5 <= len(first) <= 16
    held: set[bytes | None] = {None, b"", first, PROBE_AID + b"\x01"}
    chosen = probe_aid(held)
    assert chosen not in held and chosen == PROBE_AID + b"\x02"
