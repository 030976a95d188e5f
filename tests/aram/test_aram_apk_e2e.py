"""`aram add --apk` and `aram check --apk` end to end: APKs freshly signed by Debian's apksigner
(keys from keytool, one rotated A→B with a v3 lineage), the card on the PC/SC rig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simtool.aram.rules import AccessRule, encode_ref_ar_do
from tests.aram.test_aram_e2e import insert, jrun, rule_hex, run
from tests.rig import apksigner as signer

from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401,E402  (the fixture)

UNSIGNED = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden" / "golden-aligned-in.apk"


@pytest.fixture(scope="module")
def apks(tmp_path_factory):
    missing = signer.missing_tools()
    if missing:
        pytest.fail(f"Debian signing tools missing: {', '.join(missing)} (scripts/setup installs them)")
    work = tmp_path_factory.mktemp("aram-apks")
    a = signer.make_key(work, "carrier-a", "RSA", "CN=Carrier A")
    b = signer.make_key(work, "carrier-b", "EC", "CN=Carrier B")
    plain = signer.sign(UNSIGNED, work / "plain.apk", [a], v1=True, v2=True, v3=False)  # minSdk 23: v1 needed
    lineage = signer.rotate(work / "a-b.lineage", a, b)
    rotated = signer.sign(UNSIGNED, work / "rotated.apk", [a, b], v1=True, v2=True, v3=True,
                          lineage=lineage)
    return {"a": a, "b": b, "plain": plain, "rotated": rotated}


def test_add_from_apk_stores_its_sha1_and_check_grants(pcsc_rig, apks):
    card = insert(pcsc_rig, "spec")
    run(pcsc_rig, "aram", "add", "--apk", str(apks["plain"]), "--apdu-always", check_rc=0)
    sha1 = apks["a"].cert.sha1.upper()
    assert [r.upper() for r in card.state()["rules"]] == [rule_hex(int(sha1, 16), apdu=True)]
    out = jrun(pcsc_rig, "aram", "check", "--apk", str(apks["plain"]))
    assert out["results"] and all(r["granted"] and r["rule_index"] == 1 for r in out["results"])


@pytest.mark.parametrize("key,algo", [("a", "sha1"), ("b", "sha1"), ("a", "sha256"), ("b", "sha256")])
def test_rotated_apk_granted_by_old_or_new_key_hash(pcsc_rig, apks, key, algo):
    digest = getattr(apks[key].cert, algo)
    insert(pcsc_rig, "spec", rules=(encode_ref_ar_do(AccessRule(bytes.fromhex(digest))).hex(),))
    proc = run(pcsc_rig, "aram", "check", "--apk", str(apks["rotated"]), "--json")
    results = {(r["min_sdk"], r["max_sdk"]): r for r in json.loads(proc.stdout)["results"]}
    # below API 28 Android checks the v1/v2 signer (A) only; from 28 the v3 lineage (A and B)
    assert set(results) == {(23, 27), (28, 2**31 - 1)}
    assert results[(28, 2**31 - 1)]["granted"]
    if key == "a":
        assert proc.returncode == 0 and results[(23, 27)]["granted"]
    else:
        assert proc.returncode == 8 and not results[(23, 27)]["granted"]
        assert "no rule holds" in results[(23, 27)]["reasons"][0]


def test_check_explains_why_not(pcsc_rig, apks):
    sha1 = apks["a"].cert.sha1
    insert(pcsc_rig, "spec", rules=(rule_hex(int(sha1, 16), aid=bytes.fromhex("A000000151")),
                                    rule_hex(int(sha1, 16), package="com.other.app")))
    proc = run(pcsc_rig, "aram", "check", "--apk", str(apks["plain"]), "--package", "com.example.app", "--json")
    assert proc.returncode == 8
    reasons = json.loads(proc.stdout)["results"][0]["reasons"]
    assert any("A000000151" in r for r in reasons) and any("com.other.app" in r for r in reasons)


def test_add_from_rotated_apk_picks_the_hash_that_works_everywhere(pcsc_rig, apks):
    insert(pcsc_rig, "spec")
    run(pcsc_rig, "aram", "add", "--apk", str(apks["rotated"]), check_rc=0)
    assert jrun(pcsc_rig, "aram", "list")[0]["hash"] == apks["a"].cert.sha1.upper()
    out = jrun(pcsc_rig, "aram", "check", "--apk", str(apks["rotated"]))
    assert len(out["results"]) == 2 and all(r["granted"] for r in out["results"])


# The package golden-aligned-in.apk declares in its AndroidManifest.xml (<manifest package=…>).
TINYAPP = "android.appsecurity.cts.tinyapp"


def test_check_reads_the_package_from_the_apk(pcsc_rig, apks):
    sha1 = apks["a"].cert.sha1
    insert(pcsc_rig, "spec", rules=(rule_hex(int(sha1, 16), package=TINYAPP),))
    out = jrun(pcsc_rig, "aram", "check", "--apk", str(apks["plain"]))
    assert out["package"] == TINYAPP
    assert out["results"] and all(r["granted"] for r in out["results"])
    # an explicit --package still wins over the manifest's
    proc = run(pcsc_rig, "aram", "check", "--apk", str(apks["plain"]), "--package", "com.other.app",
               "--json")
    assert proc.returncode == 8
    assert any(TINYAPP in r for r in json.loads(proc.stdout)["results"][0]["reasons"])
