"""Recovery and partial reports end to end (CLI through pyscard + pcscd + vpcd)."""

from __future__ import annotations

import json

from simtool.aram.rules import AccessRule
from tests.aram import vectors
from tests.aram.sizes import rules_of_length
from tests.aram.test_aram_e2e import jrun, run, stores

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

SEED = AccessRule(bytes.fromhex(vectors.SEED_HASH), apdu=True)


def rules_file(tmp_path, *rules: AccessRule):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": [
        {"hash": r.hash.hex(), "apdu": "always" if r.apdu is True else "never"} for r in rules if r.hash]}))
    return path


def test_unreadable_card_recovered_by_delete_all_and_apply_blind(pcsc_rig, tmp_path):
    card = pcsc_rig.insert_card("sysmo", rules=rules_of_length(510), capacity=65536)
    path = rules_file(tmp_path, SEED)
    proc = run(pcsc_rig, "aram", "apply", str(path), "--prune")
    assert proc.returncode == 6 and "--blind" in proc.stderr and "delete --all" in proc.stderr
    assert stores(card) == []  # nothing written on an unreadable list
    out = jrun(pcsc_rig, "aram", "apply", str(path), "--prune", "--blind")
    assert out["verified"] and out["verified_by"] == "read-back" and out["confirmed"] == 2
    assert [r.upper() for r in card.state()["rules"]] == [SEED.encoded().hex().upper()]
    n = len(stores(card))
    again = jrun(pcsc_rig, "aram", "apply", str(path), "--prune")
    assert again["plan"]["add"] == [] and len(stores(card)) == n
    pcsc_rig.remove_card(0)

    card = pcsc_rig.insert_card("sysmo", rules=rules_of_length(506), capacity=65536)
    out = jrun(pcsc_rig, "aram", "delete", "--all")
    assert out["verified"] and "without reading" in out["notes"][0] and card.state()["rules"] == []
    n = len(stores(card))
    out = jrun(pcsc_rig, "aram", "delete", "--all")  # empty now: no write at all
    assert out["written"] == 0 and len(stores(card)) == n


def test_pull_during_apply_reports_confirmed_and_unanswered_in_json(pcsc_rig, tmp_path):
    old = AccessRule(SEED.hash, apdu=False)
    state = tmp_path / "card.json"
    # SELECT, GET DATA, the store of the new rule (answered), then the card is pulled
    pcsc_rig.insert_card("aram-applet", state_file=state, rules=[old.encoded()], remove_after_apdus=3)
    path = rules_file(tmp_path, SEED)
    proc = run(pcsc_rig, "aram", "apply", str(path), "--json")
    assert proc.returncode == 4
    out = json.loads(proc.stdout)
    assert [c["state"] for c in out["changes"]] == ["confirmed", "sent, no answer"]
    assert out["confirmed"] == 1 and out["unanswered"] == 1 and out["exit_code"] == 4
    assert "re-insert the card" in out["next"] and "the card confirmed 1 of 2" in proc.stderr
    pcsc_rig.remove_card(0)
    card = pcsc_rig.insert_card("aram-applet", state_file=state)
    assert len(card.state()["rules"]) >= 1  # the app kept a rule across the pull
    jrun(pcsc_rig, "aram", "apply", str(path))
    assert [r.upper() for r in card.state()["rules"]] == [SEED.encoded().hex().upper()]
