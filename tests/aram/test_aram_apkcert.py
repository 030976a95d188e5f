"""`aram add --apk` names the certificate it stores (CN) and its role, so it can be compared
with apksigner's output: on a rotated APK apksigner's Signer #1 is the current signer, while the
hash stored is the lineage's original key (it matches on every Android version)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simtool.apk import inspect_apk
from simtool.aram.apkcert import common_name, rule_certificate
from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401  (the fixture)

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
ROTATED = CORPUS / "v1v2v3-with-rsa-2048-lineage-3-signers.apk"
PLAIN = CORPUS / "golden-aligned-v1-out.apk"


def test_common_name() -> None:
    assert common_name("CN=rsa-2048") == "rsa-2048"
    assert common_name("O=Example, CN=My App\\, Inc., C=US") == "My App\\, Inc."
    assert common_name("O=Example") is None


def test_rotated_apk_stores_the_original_key_and_says_so() -> None:
    cert = rule_certificate(inspect_apk(ROTATED))
    assert (cert.cn, cert.role) == ("rsa-2048", "original key of the signing lineage")
    assert cert.signer_subject == "CN=rsa-2048_3" and cert.signer_sha1 != cert.sha1
    assert cert.words().startswith("certificate CN=rsa-2048 (original key of the signing lineage; "
                                   "apksigner's Signer #1 is the current signer CN=rsa-2048_3, SHA-1 D619")
    plain = rule_certificate(inspect_apk(PLAIN))
    assert plain.role == "signer" and plain.words() == "certificate CN=rsa-2048 (signer)"


def test_add_apk_prints_cn_and_role_beside_the_hash(pcsc_rig, tmp_path) -> None:
    card = pcsc_rig.insert_card("spec")
    cmd = [sys.executable, "-m", "simtool.cli", "aram", "add", "--apk", str(ROTATED)]
    proc = subprocess.run(cmd, env=pcsc_rig.env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    sha1 = rule_certificate(inspect_apk(ROTATED)).sha1.upper()
    assert proc.stderr.splitlines()[0] == (
        "certificate CN=rsa-2048 (original key of the signing lineage; apksigner's Signer #1 is the current "
        f"signer CN=rsa-2048_3, SHA-1 D61927EE23436D810B9B37524F14F96CCC6F88A5): SHA-1 {sha1}")
    assert sha1 in card.state()["rules"][0]
    again = subprocess.run([*cmd, "--json"], env=pcsc_rig.env, capture_output=True, text=True, timeout=60)
    doc = json.loads(again.stdout)
    assert doc["already_present"] is True
    assert doc["certificate"] == {"sha1": sha1, "subject": "CN=rsa-2048", "cn": "rsa-2048",
                                  "role": "original key of the signing lineage", "signer_subject": "CN=rsa-2048_3",
                                  "signer_sha1": "D61927EE23436D810B9B37524F14F96CCC6F88A5"}
