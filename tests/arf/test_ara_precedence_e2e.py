"""End to end (pyscard + pcscd + vpcd + the simulated card): the ARAs Android reads before the ARF.

Android's ``UiccCarrierPrivilegeRules`` tries ARA-D, then ARA-M, and reads the ARF only when the
ARA-M cannot be selected and the ARA-D gave no complete answer (``simtool/arf/aras.py``). So:
``arf list`` honours no ARF rule on a card whose ARA-M (or ARA-D) answers, the writes say Android
will not read them, ``rules check`` names ARA-D when its rules grant (its rules come first), and
``--accf`` naming another file than the carrier rule's ACCF is refused.
"""

from __future__ import annotations

import json

from simtool.aram.rules import AccessRule, encode_ref_ar_do
from simtool.lab.vcard.ara_d import LAB_ARA_D_HASH
from simtool.lab.vcard.pkcs15 import LAB_ARF_HASH

from tests.arf.test_arf_e2e import ADM_ENV, jrun, run, signed_apk
from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

LAB = LAB_ARF_HASH.hex().upper()
ARAM_HASH = "AA" * 20
NEW = "22" * 20
H_D, H_M, H_BOTH = "D1" * 20, "A1" * 20, "B0" * 20


def rule(hex_hash: str) -> bytes:
    return encode_ref_ar_do(AccessRule(bytes.fromhex(hex_hash)))


def writes(card) -> list[str]:
    """UPDATE BINARY / UPDATE RECORD commands the card received."""
    return [c.upper() for c, _ in card.state()["apdus"] if c.upper()[2:4] in ("D6", "DC")]


# --- B1: arf list / add / delete / apply on a card whose ARA answers -------------------------------

def test_list_honours_no_arf_rule_when_the_aram_answers(pcsc_rig):
    pcsc_rig.insert_card("aram-arf", iccid="89882110000000001113")
    run(pcsc_rig, "aram", "add", "--hash", ARAM_HASH, check_rc=0)
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["android_reads_arf"] is False and doc["arf_blocked_by"] == "ARA-M"
    assert [(a["source"], a["state"]) for a in doc["aras"]] == [("ARA-D", "absent"), ("ARA-M", "used")]
    assert doc["rules"] and all(r["android"] is False and r["read_by_android"] is False for r in doc["rules"])
    lab = next(r for r in doc["rules"] if r["hash"] == LAB)
    assert lab["android_reason"].startswith("not honoured: the card's ARA-M answers: ARA-M used, 1 rule(s);")
    assert "were the ARF read: honoured" in lab["android_reason"]
    assert doc["warnings"][0].startswith("Android does not read the ARF on this card: the card's ARA-M answers")
    text = run(pcsc_rig, "arf", "list", check_rc=0)
    assert "android: yes" not in text.stdout
    assert "android: NO — not honoured: the card's ARA-M answers" in text.stdout
    assert "Android: does not read the ARF" in text.stdout
    assert "warning: Android does not read the ARF on this card" in text.stderr


def test_an_aram_holding_no_rules_or_answering_6a88_still_keeps_the_arf_unread(pcsc_rig):
    pcsc_rig.insert_card("aram-arf")  # ARA-M answers FF40 00: Android uses it, no rules
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["arf_blocked_by"] == "ARA-M" and "ARA-M used, 0 rule(s)" in doc["warnings"][0]
    assert not any(r["android"] for r in doc["rules"])
    pcsc_rig.remove_all_cards()
    pcsc_rig.insert_card("aram-arf", empty_6a88=True)  # 6A88: Android's rule set in error
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["arf_blocked_by"] == "ARA-M" and doc["aras"][1]["state"] == "error"
    assert "6A88" in doc["warnings"][0] and not any(r["android"] for r in doc["rules"])
    check = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    assert check["card_error"] and "no app gets carrier privileges" in check["results"][0]["reasons"][0]


def test_list_on_a_card_whose_ara_d_answers_and_has_no_aram(pcsc_rig):
    pcsc_rig.insert_card("arad-arf")  # T=0: the ARA-D read goes through GET RESPONSE
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["arf_blocked_by"] == "ARA-D"
    assert [(a["source"], a["state"]) for a in doc["aras"]] == [("ARA-D", "used"), ("ARA-M", "absent")]
    assert all(not r["android"] and "the card's ARA-D answers (and there is no ARA-M)" in r["android_reason"]
               for r in doc["rules"])
    check = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    assert [s["state"] for s in check["sources"]] == ["used", "absent", "not read"]
    check = jrun(pcsc_rig, "rules", "check", "--hash", LAB_ARA_D_HASH.hex())
    assert check["results"][0]["source"] == "ARA-D"


def test_writes_warn_that_android_will_not_read_them_while_the_aram_answers(pcsc_rig):
    card = pcsc_rig.insert_card("aram-arf")
    added = run(pcsc_rig, "arf", "add", "--hash", NEW, "--adm", "--json", check_rc=0, env=ADM_ENV)
    doc = json.loads(added.stdout)
    assert doc["changed"] and doc["verified"] and NEW in doc["after"]
    assert doc["android_reads_arf"] is False and doc["arf_blocked_by"] == "ARA-M"
    assert doc["android_reads"] is False and doc["android_hashes_after"] == []
    assert doc["ara_note"].startswith("the card's ARA-M answers: ARA-M used, 0 rule(s)")
    assert "warning: Android will not read this change: the card's ARA-M answers" in added.stderr
    assert NEW in card.state()["files"]["4310"].upper()  # written all the same (OMAPI reads it)
    for args in (("delete", "--hash", NEW), ("apply", "--hash", NEW)):
        proc = run(pcsc_rig, "arf", *args, "--adm", check_rc=0, env=ADM_ENV)
        assert "warning: Android will not read this change: the card's ARA-M answers" in proc.stderr
    dry = run(pcsc_rig, "arf", "delete", "--all", "--adm", "--dry-run", "--json", check_rc=0, env=ADM_ENV)
    assert json.loads(dry.stdout)["arf_blocked_by"] == "ARA-M" and "warning: Android will not read" in dry.stderr


def test_writes_on_an_arf_only_card_say_android_reads_the_arf(pcsc_rig):
    pcsc_rig.insert_card("arf")
    added = run(pcsc_rig, "arf", "add", "--hash", NEW, "--adm", "--json", check_rc=0, env=ADM_ENV)
    doc = json.loads(added.stdout)
    assert doc["android_reads_arf"] is True and doc["arf_blocked_by"] is None and doc["ara_note"] is None
    assert doc["android_reads"] is True and NEW in doc["android_hashes_after"]
    assert added.stderr == ""


# --- B2: rules check granting through ARA-D -------------------------------------------------------

def seed(tmp_path, ara_d: list[str], ara_m: list[str]):
    """A state file for a new card: the ARA-D's and ARA-M's rules (the ARF files are the profile's)."""
    path = tmp_path / "arad-aram.json"
    path.write_text(json.dumps({"ara_d_rules": [rule(h).hex() for h in ara_d],
                                "rules": [rule(h).hex() for h in ara_m]}))
    return path


def test_rules_check_names_ara_d_and_follows_androids_order(pcsc_rig, tmp_path):
    pcsc_rig.insert_card("arad-aram", state_file=seed(tmp_path, [H_D, H_BOTH], [H_M, H_BOTH]))
    doc = jrun(pcsc_rig, "rules", "check", "--hash", H_D)
    assert [(s["source"], s["state"]) for s in doc["sources"]] == [
        ("ARA-D", "used"), ("ARA-M", "used"), ("ARF", "not read")]
    assert doc["sources"][0]["detail"] == "2 rule(s)" and doc["sources"][1]["detail"] == "2 rule(s)"
    assert doc["results"][0]["source"] == "ARA-D" and doc["results"][0]["rule"].startswith(f"rule 1: {H_D}")
    doc = jrun(pcsc_rig, "rules", "check", "--hash", H_M)
    assert doc["results"][0]["source"] == "ARA-M" and doc["results"][0]["rule"].startswith(f"rule 1: {H_M}")
    # both hold it: ARA-D's rules come first in Android's list, so ARA-D grants
    doc = jrun(pcsc_rig, "rules", "check", "--hash", H_BOTH)
    assert doc["results"][0]["source"] == "ARA-D" and doc["results"][0]["rule"].startswith(f"rule 2: {H_BOTH}")
    text = run(pcsc_rig, "rules", "check", "--hash", H_BOTH, check_rc=0)
    assert f"hash: GRANTED by ARA-D, rule 2: {H_BOTH}" in text.stdout
    # the ARF's rule does not count: both ARAs answer
    doc = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    assert any("ARF holds the app's hash" in r for r in doc["results"][0]["reasons"])


def test_rules_check_apk_granted_by_ara_d(pcsc_rig, tmp_path):
    apk, app = signed_apk(tmp_path, "carrier-arad")
    pcsc_rig.insert_card("arad-aram", state_file=seed(tmp_path, [H_D, app], [app]))
    doc = jrun(pcsc_rig, "rules", "check", "--apk", str(apk))
    assert doc["results"] and all(r["granted"] and r["source"] == "ARA-D" and r["rule"].startswith(f"rule 2: {app}")
                                  for r in doc["results"])
    text = run(pcsc_rig, "rules", "check", "--apk", str(apk), check_rc=0)
    assert f"GRANTED by ARA-D, rule 2: {app}" in text.stdout


# --- B5: --accf naming another file than the carrier rule's ACCF -----------------------------------

def test_accf_other_than_the_carrier_rules_is_refused_and_nothing_written(pcsc_rig):
    card = pcsc_rig.insert_card("arf")
    files = card.state()["files"]
    for command in ("add", "apply"):
        proc = run(pcsc_rig, "arf", command, "--accf", "9999", "--hash", NEW, "--adm", check_rc=2, env=ADM_ENV)
        assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
        assert "--accf 9999: the ACRF already has a FFFFFFFFFFFF rule, its ACCF is 4310" in proc.stderr
    assert writes(card) == [] and card.state()["files"] == files
    # naming the carrier rule's own ACCF is consistent: written there
    doc = jrun(pcsc_rig, "arf", "add", "--accf", "4310", "--hash", NEW, "--adm", env=ADM_ENV)
    assert doc["accf"] == "4310" and NEW in doc["after"] and not doc["rule_added"]
