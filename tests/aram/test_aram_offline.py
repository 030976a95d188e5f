"""Android's verdict on a rule file without a card: `aram check --rules` and `aram apply
--dry-run` with no PC/SC service (a subprocess pointed at a socket that does not exist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simtool.aram.offline import android_findings, plan_without_card, rules_as_card
from simtool.aram.rules import AccessRule
from simtool.cli import main
from tests.aram import vectors

SEED = bytes.fromhex(vectors.SEED_HASH)
GOOD = f'[[rules]]\nhash = "{vectors.SEED_HASH}"\napdu = "always"\n'
EMPTY_AID = f'[[rules]]\nhash = "{vectors.SEED_HASH}"\naid = ""\n'


def no_pcsc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PCSCLITE_CSOCK_NAME=str(cwd / "no-pcscd-here.comm"))
    proc = subprocess.run([sys.executable, "-m", "simtool.cli", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_findings_name_each_rule_android_skips_or_cannot_match() -> None:
    rules = rules_as_card([AccessRule(SEED), AccessRule(SEED, aid=b""), AccessRule(b"\x01\x02"),
                           AccessRule(SEED, aid_implicit=True, aid=None), AccessRule(SEED, perm=None)])
    assert android_findings(rules) == (
        "Android would skip rule 2: AID empty (4F 00) is not FFFFFFFFFFFF",
        "Android would not honour rule 3: hash is 2 bytes: matches no certificate (SHA-1 is 20, SHA-256 32)",
        "Android would skip rule 4: implicit AID (C0) is not a carrier-privilege form",
        "Android would skip rule 5: AR-DO has no PERM-AR-DO (DB)",
    )
    assert android_findings(rules_as_card([AccessRule(SEED)])) == ()
    assert android_findings(rules_as_card([])) == ()


def test_a_rule_that_breaks_the_whole_set_is_one_finding() -> None:
    from simtool.aram.tlv import Tlv

    breaking = AccessRule(SEED, extra_ar=(Tlv(0xD2, b"\x00"),))  # anything after DB: Android throws
    findings = android_findings(rules_as_card([AccessRule(SEED), breaking]))
    assert len(findings) == 1 and findings[0].startswith("Android drops all rules:")


def test_plan_without_card_adds_everything_and_lists_the_writes() -> None:
    offline = plan_without_card([AccessRule(SEED, apdu=True), AccessRule(SEED, apdu=True)], prune=True)
    assert len(offline.plan.add) == 1 and not offline.plan.delete and not offline.findings
    assert offline.writes == (vectors.SEED_STORE_APDU.upper(), "80E2900002F200")
    assert offline.prune_note and "--prune" in offline.prune_note
    assert plan_without_card([], prune=False).writes == ()


def test_check_rules_needs_no_pcsc(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from simtool.card import transport

    def no_card(*a: object, **k: object) -> None:
        raise AssertionError("check --rules must not open a card")

    monkeypatch.setattr(transport, "connect", no_card)
    monkeypatch.setattr(transport, "list_readers", no_card)
    (tmp_path / "bad.toml").write_text(EMPTY_AID)
    (tmp_path / "good.toml").write_text(GOOD)
    assert main(["aram", "check", "--rules", str(tmp_path / "bad.toml")]) == 8
    out = capsys.readouterr()
    assert out.err == "Android would skip rule 1: AID empty (4F 00) is not FFFFFFFFFFFF\n"
    assert "android: NO" in out.out
    assert main(["aram", "check", "--rules", str(tmp_path / "good.toml"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["honoured"] is True and doc["findings"] == [] and doc["rules"][0]["android"] is True
    # with an app: is it granted by the file's rules?
    assert main(["aram", "check", "--rules", str(tmp_path / "good.toml"), "--hash", vectors.SEED_HASH]) == 0
    assert "GRANTED by rule 1" in capsys.readouterr().out
    assert main(["aram", "check", "--rules", str(tmp_path / "bad.toml"), "--hash", vectors.SEED_HASH]) == 8
    assert "rule 1 has the app's hash but skipped: AID empty" in capsys.readouterr().out


def test_check_rules_bad_file_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "typo.toml").write_text('[[rules]]\nhsah = "00"\n')
    assert main(["aram", "check", "--rules", str(tmp_path / "typo.toml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("simtool: error:") and "typo.toml" in err and err.count("\n") == 1


def test_apply_dry_run_without_pcsc_gives_the_plan_and_androids_verdict(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(EMPTY_AID)
    (tmp_path / "good.toml").write_text(GOOD)
    bad = no_pcsc("aram", "apply", "--dry-run", "bad.toml", cwd=tmp_path)
    assert bad.returncode == 8
    assert "Android would skip rule 1: AID empty (4F 00) is not FFFFFFFFFFFF" in bad.stderr
    assert "PC/SC service not available" in bad.stderr.splitlines()[0] and "empty card" in bad.stderr
    assert bad.stdout.startswith(f"add    {vectors.SEED_HASH} (AID empty)")
    forced = no_pcsc("aram", "apply", "--dry-run", "--force", "bad.toml", cwd=tmp_path)
    assert forced.returncode == 0  # a real run with --force would store it
    good = no_pcsc("aram", "apply", "--dry-run", "--prune", "--json", "good.toml", cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    doc = json.loads(good.stdout)
    assert doc["card"] is None and doc["assumed"] == "an empty card" and doc["findings"] == []
    assert [a["command"] for a in doc["apdus"]] == [vectors.SEED_STORE_APDU.upper(), "80E2900002F200"]
    assert not any(a["sent"] for a in doc["apdus"]) and "--prune" in doc["notes"][0]
    # without --dry-run nothing changes: no card is no card
    real = no_pcsc("aram", "apply", "good.toml", cwd=tmp_path)
    assert real.returncode == 3 and "PC/SC service not available" in real.stderr
