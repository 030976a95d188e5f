"""End to end: ``simtool arf`` through pyscard + pcscd + vpcd against the simulated card's
PKCS#15 application, in both layouts (Android's fixed ids; a chain reachable only through the
DODF) and on a card holding both ARA-M and ARF rules.

The CLI runs in a subprocess because PCSCLITE_CSOCK_NAME must be set before a process's first
PC/SC call (the rig's ``env`` carries it).
"""

from __future__ import annotations

import json
import subprocess
import sys

from simtool.lab.vcard.pkcs15 import LAB_ARF_ALL_APPS_HASH, LAB_ARF_HASH

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

LAB = LAB_ARF_HASH.hex().upper()
ALL_APPS = LAB_ARF_ALL_APPS_HASH.hex().upper()


def run(rig, *args: str, check_rc: int | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "simtool.cli", *args], env={**rig.env, **(env or {})},
                          capture_output=True, text=True, timeout=90)
    if check_rc is not None:
        assert proc.returncode == check_rc, f"rc={proc.returncode}\nstdout={proc.stdout}\nstderr={proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def jrun(rig, *args: str, check_rc: int = 0, env: dict | None = None) -> dict:
    return json.loads(run(rig, *args, "--json", check_rc=check_rc, env=env).stdout)


def test_list_android_layout_both_ways_agree(pcsc_rig):
    pcsc_rig.insert_card("arf")
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["acrf"] == "4300" and doc["acmf"] == "4200" and doc["refresh_tag"] == "0000000000000001"
    assert doc["found_by"] == "EF.DIR record 2" and doc["android_accf"] == "4310"
    assert doc["android_hashes"] == [LAB] and doc["warnings"] == [] and doc["chain_error"] is None
    by_hash = {r["hash"]: r for r in doc["rules"]}
    assert by_hash[LAB]["android"] is True and by_hash[LAB]["target"] == "FFFFFFFFFFFF"
    assert by_hash[ALL_APPS]["android"] is False and by_hash[ALL_APPS]["target"] == "all"
    assert "not the AID FFFFFFFFFFFF" in by_hash[ALL_APPS]["android_reason"]
    text = run(pcsc_rig, "arf", "list", check_rc=0)
    assert "android: yes" in text.stdout and "ACRF 4300" in text.stdout and text.stderr == ""


def test_list_dodf_only_layout_warns_android_reads_nothing(pcsc_rig):
    pcsc_rig.insert_card("arf-dodf")  # T=0 as well: 61xx/6Cxx recovery on every read
    doc = jrun(pcsc_rig, "arf", "list")
    assert doc["acrf"] == "4401" and doc["android_hashes"] == []
    assert "SELECT 4300 answers 6A82" in doc["android_error"]
    lab = next(r for r in doc["rules"] if r["hash"] == LAB)
    assert lab["in_chain"] and not lab["android"] and "not read by Android" in lab["android_reason"]
    assert doc["warnings"] == [f"the two reads disagree: Android does not read {LAB}"]
    text = run(pcsc_rig, "arf", "list", check_rc=0)
    assert "warning: the two reads disagree" in text.stderr


def test_list_on_a_card_without_arf_fails_in_one_line(pcsc_rig):
    pcsc_rig.insert_card("spec")
    proc = run(pcsc_rig, "arf", "list", check_rc=5)
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1
    assert "A000000063504B43532D3135" in proc.stderr and "no ARF" in proc.stderr


# --- writing ----------------------------------------------------------------------------------

ADM_ENV = {"SIMTOOL_ADM": "3132333435363738"}  # the simulated card's ADM1: ASCII 12345678
NEW = "11" * 20
NEW256 = "22" * 32


def updates(card) -> list[str]:
    """UPDATE BINARY commands the card received."""
    return [c.upper() for c, _ in card.state()["apdus"] if c.upper()[2:4] == "D6"]


def test_add_delete_apply_android_layout(pcsc_rig):
    card = pcsc_rig.insert_card("arf")
    refused = run(pcsc_rig, "arf", "add", "--hash", NEW, check_rc=5)  # no ADM: the card says 6982
    assert "6982" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert card.state()["files"]["4310"].startswith("30160414" + LAB)
    doc = jrun(pcsc_rig, "arf", "add", "--hash", NEW, "--hash", NEW256, "--adm", env=ADM_ENV)
    assert doc["after"] == [LAB, NEW, NEW256] and doc["verified"] and doc["android_reads"]
    assert doc["refresh_tag_before"] == "0000000000000001" and doc["refresh_tag_after"] == "0000000000000002"
    files = card.state()["files"]
    assert files["4310"].startswith("3016" + "0414" + LAB + "3016" + "0414" + NEW + "3022" + "0420" + NEW256)
    assert len(files["4310"]) == 96 * 2 and files["4310"].endswith("FF" * (96 - 24 - 24 - 36))
    assert files["4200"].startswith("301004080000000000000002")
    listed = jrun(pcsc_rig, "arf", "list")
    assert listed["android_hashes"] == [LAB, NEW, NEW256] and listed["warnings"] == []
    again = jrun(pcsc_rig, "arf", "add", "--hash", NEW, "--adm", env=ADM_ENV)
    assert again["changed"] is False and again["updates"] == 0
    # the file holds 96 bytes: 84 are used, one more SHA-1 condition (24) does not fit
    full = run(pcsc_rig, "arf", "add", "--hash", "33" * 20, "--adm", check_rc=2, env=ADM_ENV)
    assert "EF.ACCF 4310 is full: the new content needs 108 bytes, the file holds 96" in full.stderr
    assert card.state()["files"]["4310"] == files["4310"]  # nothing written
    doc = jrun(pcsc_rig, "arf", "delete", "--hash", LAB, "--adm", env=ADM_ENV)
    assert doc["after"] == [NEW, NEW256] and doc["refresh_tag_after"] == "0000000000000003"
    doc = jrun(pcsc_rig, "arf", "apply", "--hash", NEW256, "--hash", "44" * 20, "--adm", env=ADM_ENV)
    assert doc["before"] == [NEW, NEW256] and doc["after"] == [NEW256, "44" * 20]
    assert jrun(pcsc_rig, "arf", "list")["android_hashes"] == [NEW256, "44" * 20]
    doc = jrun(pcsc_rig, "arf", "delete", "--all", "--adm", env=ADM_ENV)
    assert doc["after"] == [] and card.state()["files"]["4310"] == "FF" * 96


def test_dry_run_sends_no_update_and_trace_shows_apdus(pcsc_rig):
    card = pcsc_rig.insert_card("arf")
    before = card.state()["files"]
    doc = jrun(pcsc_rig, "arf", "add", "--hash", NEW, "--dry-run", "--adm", env=ADM_ENV)
    assert doc["dry_run"] and not doc["verified"] and doc["updates"] == 2
    unsent = [a["command"] for a in doc["apdus"] if not a["sent"] and a["command"][2:4] == "D6"]
    assert unsent == ["00D60018183016" + "0414" + NEW, "00D6000B0102"]  # ACCF, then the tag's last byte
    assert card.state()["files"] == before and updates(card) == []
    traced = run(pcsc_rig, "arf", "add", "--hash", NEW, "--trace", "--adm", check_rc=0, env=ADM_ENV)
    assert "apdu > 00D6" in traced.stderr and "3132333435363738" not in traced.stderr  # ADM redacted


def test_write_on_the_dodf_only_layout_notes_android_does_not_read_it(pcsc_rig):
    card = pcsc_rig.insert_card("arf-dodf")
    proc = run(pcsc_rig, "arf", "add", "--hash", NEW, "--adm", check_rc=0, env=ADM_ENV)
    assert "verified by reading back" in proc.stdout
    assert "does not reach ACCF 4402" in proc.stderr
    files = card.state()["files"]
    assert files["4402"].startswith("3016" + "0414" + LAB + "3016" + "0414" + NEW)
    assert files["4400"].startswith("301004080000000000000002")
    listed = jrun(pcsc_rig, "arf", "list")
    assert [r["hash"] for r in listed["rules"] if r["accf"] == "4402"] == [LAB, NEW]
    assert listed["android_hashes"] == []
    doc = jrun(pcsc_rig, "arf", "delete", "--hash", NEW, "--adm", env=ADM_ENV)
    assert doc["after"] == [LAB]


# --- rules check: the whole card, Android's order ------------------------------------------------

def signed_apk(tmp_path, name: str) -> tuple[str, str]:
    """An APK signed (v1 + v2) with a new RSA key by the Debian tools: (its path, the SHA-1 of
    its certificate in hex)."""
    from tests.rig import apksigner as signer

    from tests.aram.test_aram_apk_e2e import UNSIGNED

    missing = signer.missing_tools()
    assert not missing, f"Debian signing tools missing: {', '.join(missing)} (scripts/setup installs them)"
    key = signer.make_key(tmp_path, name, "RSA", f"CN={name}")
    apk = signer.sign(UNSIGNED, tmp_path / "app.apk", [key], v1=True, v2=True, v3=False)
    return str(apk), key.cert.sha1.upper()


def test_rules_check_names_the_granting_source_on_a_card_holding_both(pcsc_rig, tmp_path):
    from simtool.aram.rules import AccessRule, encode_ref_ar_do

    apk, app_sha1 = signed_apk(tmp_path, "carrier-arf")
    # ARA-M holds the app's hash; the ARF holds the lab hash and (added below) the app's too
    card = pcsc_rig.insert_card("aram-arf", rules=(encode_ref_ar_do(AccessRule(bytes.fromhex(app_sha1))),))
    doc = jrun(pcsc_rig, "rules", "check", "--apk", str(apk))
    assert [s["state"] for s in doc["sources"]] == ["absent", "used", "not read"]
    assert doc["results"] and all(r["granted"] and r["source"] == "ARA-M" for r in doc["results"])
    text = run(pcsc_rig, "rules", "check", "--apk", str(apk), check_rc=0)
    assert "GRANTED by ARA-M, rule 1" in text.stdout
    # the ARF's own rule does not count while the card has an ARA-M
    doc = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    reasons = doc["results"][0]["reasons"]
    assert any("ARF holds the app's hash" in r and "the card's ARA-M answers" in r for r in reasons), reasons
    # move the app's rule from ARA-M to the ARF: an ARA-M with no rules is still an ARA-M, Android
    # uses its empty answer and never reads the ARF, so the app is not granted
    run(pcsc_rig, "arf", "add", "--apk", str(apk), "--adm", check_rc=0, env=ADM_ENV)
    run(pcsc_rig, "aram", "delete", "--all", check_rc=0)
    doc = jrun(pcsc_rig, "rules", "check", "--apk", str(apk), check_rc=8)
    assert not any(r["granted"] for r in doc["results"])
    assert app_sha1 in card.state()["files"]["4310"].upper()


def test_rules_check_on_an_arf_only_card_grants_through_the_arf(pcsc_rig):
    pcsc_rig.insert_card("arf")
    doc = jrun(pcsc_rig, "rules", "check", "--hash", LAB)
    assert [s["state"] for s in doc["sources"]] == ["absent", "absent", "used"]
    assert doc["results"][0]["source"] == "ARF" and doc["results"][0]["rule"] == f"ACCF 4310 hash {LAB}"
    pcsc_rig.remove_all_cards()
    pcsc_rig.insert_card("arf-dodf")
    doc = jrun(pcsc_rig, "rules", "check", "--hash", LAB, check_rc=8)
    assert "4300" in doc["results"][0]["reasons"][-1]


# --- the README's lines ---------------------------------------------------------------------------

def readme_arf_commands() -> list[list[str]]:
    """The `simtool arf` / `simtool rules` lines of the README's ARF block."""
    import re
    import shlex
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text.split("## simtool arf", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    out = []
    for line in re.sub(r"\\\n\s*", " ", block).splitlines():
        argv = shlex.split(line, comments=True)
        if argv[:2] in (["simtool", "arf"], ["simtool", "rules"]):
            out.append(argv)
    return out


def test_readme_arf_lines_run(pcsc_rig):
    from tests.lab.test_readme_lab import APK

    commands = readme_arf_commands()
    assert [c[1] for c in commands] == ["arf", "arf", "rules", "arf"]
    pcsc_rig.insert_card("arf", iccid="8988211000000000043")
    results = []
    for argv in commands:
        args = [str(APK) if a == "app.apk" else a for a in argv[1:]]
        results.append(run(pcsc_rig, *args, check_rc=0, env=ADM_ENV))
    listed, added, checked, deleted = results
    assert "android: yes" in listed.stdout
    assert "verified by reading back" in added.stdout
    assert "GRANTED by ARF, ACCF 4310 hash" in checked.stdout
    assert "dry run: 2 UPDATE BINARY command(s) not sent" in deleted.stdout


def test_card_info_sees_arf_without_aram(pcsc_rig):
    pcsc_rig.insert_card("arf")
    info = jrun(pcsc_rig, "card", "info")
    assert info["arf"] is True and info["ara_m"] is False
    pcsc_rig.remove_all_cards()
    pcsc_rig.insert_card("aram-arf")
    info = jrun(pcsc_rig, "card", "info")
    assert info["arf"] is True and info["ara_m"] is True
