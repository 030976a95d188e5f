"""``simtool digest --json`` against Debian's apksigner on APKs the test signs itself.

Fresh keys come from ``keytool`` (RSA 2048 and 4096, EC P-256 and P-384, DSA 2048; PKCS#12,
passwords in files; the big keys make apksigner use SHA-512 and CHUNKED_SHA512 digests);
``apksigner sign`` / ``rotate`` make v1-only, v2-only, v3-only, v1+v2+v3, rotation A→B and
A→B→C, two- and three-signer APKs from the corpus's unsigned ``golden-aligned-in.apk``. For
each APK and each SDK range (default from the manifest, ``--min-sdk-version 24/28``,
``--max-sdk-version 23``) we compare our JSON with ``apksigner verify --print-certs``: the
verdict and exit status, and the signers' subjects and certificate digests. The digests are
also checked against the DER that ``keytool -exportcert`` gives, and the lineage against
``apksigner lineage --print-certs``.

All JVM work happens once per session in two worker threads (about 25 s on 2 cores).

v4: two APKs are also signed with ``--v4-signing-enabled``; apksigner verifies them with
``--v4-signature-file``, we find ``APK.idsig`` beside the APK. One deliberate difference: a
tampered ``.idsig`` (Debian's 31.0.2 still says "Verifies"; we reject it, as AOSP main does).

v3.1: Debian's apksigner 31.0.2 cannot sign with v3.1 (it has no
``--rotation-min-sdk-version``), so the v3.1 case uses the corpus APK that AOSP's tests made
and asserts the documented difference: Debian's build ignores the v3.1 block and prints only
the original key, whereas we (like apksigner from AOSP main) print both signers with their SDK
ranges.
"""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.rig import apksigner as rig
from tests.rig.digest_cli import (normalise_scheme, printed_schemes, run_digest, run_digest_batch,
                                  signer_certs, verified_schemes)

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
UNSIGNED = CORPUS / "golden-aligned-in.apk"

pytestmark = pytest.mark.skipif(
    bool(rig.missing_tools()),
    reason=f"Debian tools missing: {rig.missing_tools()} (scripts/setup installs them)")

KEYS = {  # alias -> (algorithm, distinguished name)
    "rsa": ("RSA", "CN=carrierkit RSA, OU=tests, O=carrierkit, C=GB"),
    "ec": ("EC", "CN=carrierkit EC, O=carrierkit, C=GB"),
    "dsa": ("DSA", "CN=carrierkit DSA, O=carrierkit, C=GB"),
    "rsa4096": ("RSA-4096", "CN=carrierkit RSA 4096, O=carrierkit"),
    "p384": ("EC-P384", "CN=carrierkit EC P-384, O=carrierkit"),
    "rot-a": ("RSA", "CN=rotation A, O=carrierkit"),
    "rot-b": ("EC", "CN=rotation B, O=carrierkit"),
    "rot-c": ("RSA", "CN=rotation C, O=carrierkit"),
}


@dataclass(frozen=True)
class Variant:
    """How one APK is signed: keys (oldest first for a lineage), schemes, signing min SDK,
    the lineage's keys (empty: no rotation), and the SDK ranges to verify it for."""

    name: str
    keys: tuple[str, ...]
    v1: bool
    v2: bool
    v3: bool
    min_sdk: int | None = None
    lineage: tuple[str, ...] = ()
    checks: tuple[tuple[int | None, int | None], ...] = ((None, None), (24, None))
    v4: bool = False  # apksigner also writes APK.idsig beside the APK


VARIANTS = [
    Variant("v1-only-rsa", ("rsa",), True, False, False),
    Variant("v1-only-dsa", ("dsa",), True, False, False),
    Variant("v2-only-rsa", ("rsa",), False, True, False),
    Variant("v2-only-ec", ("ec",), False, True, False),
    Variant("v3-only-rsa", ("rsa",), False, False, True, checks=((None, None), (24, None), (28, None))),
    Variant("v3-only-dsa", ("dsa",), False, False, True, checks=((24, None), (28, None))),
    Variant("all-rsa", ("rsa",), True, True, True),
    Variant("all-ec", ("ec",), True, True, True, checks=((None, None), (24, None), (28, None))),
    Variant("all-dsa", ("dsa",), True, True, True),
    Variant("all-rsa-4096", ("rsa4096",), True, True, True, min_sdk=24,
            checks=((None, None), (28, None))),
    Variant("all-ec-p384", ("p384",), True, True, True, min_sdk=24,
            checks=((None, None), (28, None))),
    Variant("all-rsa-signed-min-sdk-24", ("rsa",), True, True, True, min_sdk=24,
            checks=((None, None), (24, None), (28, None))),
    Variant("v2v3-ec-signed-min-sdk-28", ("ec",), False, True, True, min_sdk=28,
            checks=((None, None), (28, None))),
    Variant("all-ec-v4", ("ec",), True, True, True, v4=True),
    Variant("v2-v4-rsa", ("rsa",), False, True, False, min_sdk=24, v4=True, checks=((24, None),)),
    Variant("rotation-a-b", ("rot-a", "rot-b"), True, True, True, lineage=("rot-a", "rot-b"),
            checks=((None, None), (24, None), (28, None), (None, 23))),
    Variant("rotation-a-b-c", ("rot-a", "rot-c"), True, True, True,
            lineage=("rot-a", "rot-b", "rot-c"),
            checks=((None, None), (28, None), (None, 27))),
    Variant("rotation-a-b-v3-only", ("rot-b",), False, False, True, min_sdk=28,
            lineage=("rot-a", "rot-b"), checks=((None, None), (28, None))),
    Variant("two-signers-rsa-ec", ("rsa", "ec"), True, True, False),
    Variant("three-signers-rsa-ec-dsa", ("rsa", "ec", "dsa"), True, True, False),
]

CASES = [(v, lo, hi) for v in VARIANTS for (lo, hi) in v.checks]


def _case_id(case: tuple[Variant, int | None, int | None]) -> str:
    v, lo, hi = case
    return v.name + (f"-min{lo}" if lo is not None else "") + (f"-max{hi}" if hi is not None else "")


@dataclass(frozen=True)
class Signed:
    """All session artefacts: keys, signed APK paths, lineage files, apksigner verdicts."""

    keys: dict[str, rig.Key]
    apks: dict[str, Path]
    lineages: dict[tuple[str, ...], Path]
    verdicts: dict[str, rig.Verification]


@pytest.fixture(scope="session")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    """Make every key, lineage and APK once, and run apksigner verify on every case."""
    work = tmp_path_factory.mktemp("apksigner-rig")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futs = {alias: pool.submit(rig.make_key, work / "keys", alias, alg, dn)
                for alias, (alg, dn) in KEYS.items()}
        keys = {alias: f.result() for alias, f in futs.items()}

        lineages: dict[tuple[str, ...], Path] = {}
        ab = rig.rotate(work / "a-b.lineage", keys["rot-a"], keys["rot-b"])
        lineages[("rot-a", "rot-b")] = ab
        lineages[("rot-a", "rot-b", "rot-c")] = rig.rotate(
            work / "a-b-c.lineage", keys["rot-b"], keys["rot-c"], lineage_in=ab)

        def sign(v: Variant) -> Path:
            return rig.sign(UNSIGNED, work / f"{v.name}.apk", [keys[k] for k in v.keys],
                            v1=v.v1, v2=v.v2, v3=v.v3, v4=v.v4, min_sdk=v.min_sdk,
                            lineage=lineages[v.lineage] if v.lineage else None)

        apks = dict(zip([v.name for v in VARIANTS], pool.map(sign, VARIANTS)))

        def verify(case: tuple[Variant, int | None, int | None]) -> rig.Verification:
            v, lo, hi = case
            idsig = apks[v.name].with_name(apks[v.name].name + ".idsig") if v.v4 else None
            return rig.verify(apks[v.name], min_sdk=lo, max_sdk=hi, v4_signature_file=idsig)

        verdicts = dict(zip(map(_case_id, CASES), pool.map(verify, CASES)))
    return Signed(keys, apks, lineages, verdicts)


@pytest.fixture(scope="session")
def ours(signed: Signed) -> dict[tuple[str, bool], dict]:
    """Our CLI's report for every case, default mode and ``--verify``: one process per SDK
    range and mode over all the APKs checked for that range (exit status: see run_digest_batch
    and the single-process tests at the end)."""
    groups: dict[tuple[int | None, int | None, bool], list[Variant]] = {}
    for v, lo, hi in CASES:
        for mode in (False, True):
            groups.setdefault((lo, hi, mode), []).append(v)

    def run(key: tuple[int | None, int | None, bool]) -> dict[tuple[str, bool], dict]:
        lo, hi, mode = key
        variants = groups[key]
        reports = run_digest_batch([signed.apks[v.name] for v in variants], verify=mode,
                                   min_sdk=lo, max_sdk=hi)
        return {(_case_id((v, lo, hi)), mode): reports[signed.apks[v.name]] for v in variants}

    out: dict[tuple[str, bool], dict] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(run, groups):
            out.update(part)
    return out


@pytest.mark.parametrize("verify_mode", [False, True], ids=["default", "verify"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_apksigner(signed: Signed, ours: dict, case, verify_mode: bool) -> None:
    """Verdict, exit status and signer certificates agree with apksigner's for this SDK range."""
    variant, _, _ = case
    theirs = signed.verdicts[_case_id(case)]
    report = ours[(_case_id(case), verify_mode)]
    assert not theirs.crashed, f"apksigner crashed on a freshly signed APK: {theirs}"
    assert report["verified"] is (theirs.exit_code == 0) is theirs.verifies, (
        report.get("errors"), theirs.exit_code, theirs.errors)
    if not theirs.verifies:
        assert report["errors"], "an unverified APK must say why"
        return
    assert report["errors"] == []
    expected = {s.cert for s in theirs.app_signers}
    assert signer_certs(report) == expected
    # Independent of both tools: the digests are those of keytool's exported certificate.
    assert expected <= {k.cert for k in signed.keys.values()}
    theirs_ok = {n for n, ok in theirs.schemes.items() if ok and n.startswith("v")}
    assert theirs_ok <= verified_schemes(report)
    assert {normalise_scheme(s["scheme"]) for s in report["signers"]} == printed_schemes(theirs_ok)
    for s in report["signers"]:
        assert s["sha1"] == s["sha1"].lower() and len(s["sha1"]) == 40
        assert s["sha256"] == s["sha256"].lower() and len(s["sha256"]) == 64
        assert s["md5"] == s["md5"].lower() and len(s["md5"]) == 32
        assert isinstance(s["min_sdk"], int) and isinstance(s["max_sdk"], int)
        assert s["min_sdk"] <= s["max_sdk"]


def _verifying_case(signed: Signed, variant: Variant) -> str:
    """The first SDK range without a max for which apksigner verified this APK."""
    for lo, hi in variant.checks:
        cid = _case_id((variant, lo, hi))
        if hi is None and signed.verdicts[cid].verifies:
            return cid
    raise AssertionError(f"apksigner verified {variant.name} for no open SDK range")


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v.lineage], ids=lambda v: v.name)
def test_lineage_and_recommendation(signed: Signed, ours: dict, variant: Variant) -> None:
    """A rotated APK lists its whole lineage (oldest first, as ``apksigner lineage`` reads it
    from the APK) and recommends the ORIGINAL key's SHA-1, which Android matches on every SDK
    (it checks the whole signing-certificate history)."""
    report = ours[(_verifying_case(signed, variant), True)]
    expected = [signed.keys[k].cert for k in variant.lineage]
    assert rig.lineage_certs(signed.apks[variant.name]) == expected
    got = [(e["subject"], e["sha1"], e["sha256"]) for e in report["lineage"]]
    assert got == [(c.subject, c.sha1, c.sha256) for c in expected]
    assert report["recommended_sha1"] == signed.keys[variant.lineage[0]].cert.sha1


@pytest.mark.parametrize("variant", [v for v in VARIANTS if not v.lineage], ids=lambda v: v.name)
def test_recommendation_without_rotation(signed: Signed, ours: dict, variant: Variant) -> None:
    """Without rotation: no lineage; one signer → its SHA-1; several signers → one of theirs
    (Android accepts any of the APK's content signers)."""
    report = ours[(_verifying_case(signed, variant), True)]
    assert report["lineage"] == []
    sha1s = {signed.keys[k].cert.sha1 for k in variant.keys}
    if len(sha1s) == 1:
        assert report["recommended_sha1"] == sha1s.pop()
    else:
        assert report["recommended_sha1"] in sha1s


def test_several_inputs_one_bad(signed: Signed, tmp_path: Path) -> None:
    """Two APKs and a non-APK in one call: with --json one object per input (the bad one
    unverified, saying why) and a non-zero exit; as text, one stderr line naming the bad file
    and the good ones still printed."""
    junk = tmp_path / "notes.apk"
    junk.write_bytes(b"this is not a zip file\n" * 10)
    good = [signed.apks["all-rsa"], signed.apks["all-ec"]]
    run = run_digest([*good, junk])
    assert run.exit_code != 0 and "Traceback" not in run.stderr
    assert [Path(r["path"]).name for r in run.reports] == [p.name for p in (*good, junk)]
    assert [r["verified"] for r in run.reports] == [True, True, False]
    assert run.reports[2]["errors"]
    text = run_digest([*good, junk], json_out=False)
    assert text.exit_code != 0
    assert [ln for ln in text.stderr.splitlines() if "notes.apk" in ln] and "Traceback" not in text.stderr
    for key in (signed.keys["rsa"], signed.keys["ec"]):
        assert key.cert.sha256 in text.stdout


def test_all_verified_exit_zero(signed: Signed) -> None:
    """Exit status 0 when every input verified, with one report per input in order."""
    apks = [signed.apks["all-rsa"], signed.apks["rotation-a-b"], signed.apks["two-signers-rsa-ec"]]
    run = run_digest(apks)
    assert run.exit_code == 0, run.stderr
    assert [Path(r["path"]).name for r in run.reports] == [a.name for a in apks]
    assert all(r["verified"] is True for r in run.reports)


def test_unverified_single_input_exits_non_zero(signed: Signed) -> None:
    """One APK that apksigner rejects for the manifest's SDK range (v2 only, min SDK < 24 needs
    v1): non-zero exit, the reason in the report, no traceback."""
    assert not signed.verdicts["v2-only-rsa"].verifies
    run = run_digest([signed.apks["v2-only-rsa"]])
    assert run.exit_code != 0 and "Traceback" not in run.stderr
    report = run.only()
    assert report["verified"] is False and report["errors"]


V31_APK = "v31-rsa-2048_2-tgt-33-1-tgt-28.apk"
RSA_2048 = rig.CertDigests("CN=rsa-2048", "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8",
                           "0aa07c0f297b4ae834dc85a17eea8c2cf9380ff7", "e995a5ed7137307661f854e66901ee9e")


def test_v31_targeting_sdk_33_differs_from_debian_apksigner(tmp_path: Path) -> None:
    """v3.1 targeting SDK 33 (made by AOSP's apksigner; Debian's cannot make one).

    Deliberate difference: Debian's apksigner 31.0.2 (apksig 0.9) does not know the v3.1 block
    id 0x1b93ad61, so it skips it, reports "v3 scheme: false" and prints only the original key
    CN=rsa-2048. We follow AOSP main: a v3.1 signer CN=rsa-2048_2 from SDK 32 (dev-release flag: 33 and the SDK 32 preview) and the v3.0
    signer CN=rsa-2048 for 24–32 (the v1/v2 signers cover older SDKs with CN=rsa-2048).
    """
    apk = tmp_path / V31_APK
    shutil.copyfile(CORPUS / V31_APK, apk)
    debian = rig.verify(apk)
    assert debian.verifies and debian.schemes.get("v3") is False and "v3.1" not in debian.schemes
    assert [s.cert for s in debian.app_signers] == [RSA_2048]

    report = run_digest([apk], verify=True).only()
    assert report["verified"] is True
    subjects = {s["subject"] for s in report["signers"]}
    assert {"CN=rsa-2048", "CN=rsa-2048_2"} <= subjects
    v31 = [s for s in report["signers"] if s["subject"] == "CN=rsa-2048_2"]
    assert v31 and all(s["min_sdk"] >= 32 for s in v31)  # 32 + "dev release" flag, as AOSP prints
    assert "v3.1" in verified_schemes(report)
    # The original key is in every SDK's signing history: that is the hash for the SIM.
    assert report["recommended_sha1"] == RSA_2048.sha1


@pytest.mark.parametrize("case_id", ["all-rsa", "rotation-a-b", "rotation-a-b-max23",
                                     "three-signers-rsa-ec-dsa", "v3-only-dsa-min28"])
def test_text_output_mirrors_apksigner(signed: Signed, case_id: str) -> None:
    """Without --json the output repeats apksigner's --print-certs lines: the rig's parser of
    apksigner's output reads ours to the same verdict, signer labels, subjects and digests."""
    case = next(c for c in CASES if _case_id(c) == case_id)
    theirs = signed.verdicts[case_id]
    run = run_digest([signed.apks[case[0].name]], json_out=False, min_sdk=case[1], max_sdk=case[2])
    assert run.exit_code == 0, run.stderr
    ours = rig.parse_verify_output(run.stdout, "", run.exit_code)
    assert ours.verifies
    assert [(s.label, s.cert) for s in ours.app_signers] == [(s.label, s.cert) for s in theirs.app_signers]
    assert {k: v for k, v in ours.schemes.items() if v} == {k: v for k, v in theirs.schemes.items() if v}


def test_debian_apksigner_cannot_sign_v31() -> None:
    """Why the v3.1 case comes from the corpus: this apksigner has no
    --rotation-min-sdk-version. If a newer apksigner arrives, this fails as a reminder to sign
    v3.1 APKs here too."""
    proc = subprocess.run([rig.APKSIGNER, "sign", "--help"], capture_output=True, text=True, timeout=120)
    assert "--lineage" in proc.stdout + proc.stderr
    assert "rotation-min-sdk-version" not in proc.stdout + proc.stderr


def test_tampered_idsig_rejected_as_aosp_main_does(signed: Signed, tmp_path: Path) -> None:
    """A v4 signature whose signed root hash was altered.

    Deliberate difference from Debian's apksigner 31.0.2, which still says "Verifies" (only
    "v4 scheme: false"). We follow AOSP main: ``ApkVerifier.verify`` merges the v4 result and
    returns DOES NOT VERIFY when it has errors (V4_SIG_DID_NOT_VERIFY)."""
    import struct

    src = signed.apks["all-ec-v4"]
    apk = tmp_path / src.name
    shutil.copyfile(src, apk)
    idsig = bytearray(src.with_name(src.name + ".idsig").read_bytes())
    # version u32, hashing_info length u32, then: algorithm u32, log2 block size u8, salt
    # (u32 length + bytes), root hash (u32 length + bytes): flip the root hash's first byte.
    salt_len = struct.unpack_from("<I", idsig, 13)[0]
    idsig[17 + salt_len + 4] ^= 0x01
    apk.with_name(apk.name + ".idsig").write_bytes(bytes(idsig))

    debian = rig.verify(apk, v4_signature_file=apk.with_name(apk.name + ".idsig"))
    assert debian.verifies and debian.schemes.get("v4") is False

    run = run_digest([apk])
    assert run.exit_code != 0 and "Traceback" not in run.stderr
    report = run.only()
    assert report["verified"] is False
    assert any("v4" in e for e in report["errors"]), report["errors"]


def test_source_stamp_is_never_the_signer(signed: Signed, tmp_path: Path) -> None:
    """An APK with a source stamp (``--stamp-signer``): apksigner prints the stamp's
    certificate apart ("Source Stamp Signer"); our signers and SIM hash are the APK's key only,
    and the stamp, when reported, is the stamp key's certificate. (APK key EC, stamp RSA: this
    apksigner fails to sign an RSA APK with an EC stamp key.)"""
    apk = rig.sign(UNSIGNED, tmp_path / "stamped.apk", [signed.keys["ec"]], v1=True, v2=True,
                   v3=True, stamp=signed.keys["rsa"])
    theirs = rig.verify(apk)
    assert theirs.verifies and theirs.schemes.get("SourceStamp") is True
    assert [s.cert for s in theirs.signers if s.is_stamp] == [signed.keys["rsa"].cert]
    report = run_digest([apk], verify=True).only()
    assert report["verified"] is True
    assert signer_certs(report) == {signed.keys["ec"].cert}
    assert report["recommended_sha1"] == signed.keys["ec"].cert.sha1
    stamp = report.get("source_stamp")
    if stamp is not None:
        assert (stamp["subject"], stamp["sha256"]) == (signed.keys["rsa"].cert.subject,
                                                       signed.keys["rsa"].cert.sha256)
