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
