"""``simtool digest --verify --json`` on every APK of Android's own apksig test corpus.

``tests/corpus/apksig-golden/manifest.json`` records, per file, per apksigner build
(``debian-31.0.2`` and ``aosp-main-2025-03``) and per invocation (``default``,
``min-sdk-24``, ``min-sdk-28``, ``upstream_sdk_range``, ``with_v4_signature_file``) the exit
code, the verdict and each signer's certificate digests. We assert agreement with the AOSP-main
build (the newer behaviour, which knows v3.1) on every invocation: same verdict and exit status,
same signer certificates (subject, SHA-256, SHA-1, MD5), the same SDK ranges where apksigner
prints them, and every scheme apksigner verified also verified by us.

Deliberate differences from AOSP main (asserted as such, each with its reason):

=====================================================  ==========  =====================================
file (invocations)                                     apksigner   simtool digest
=====================================================  ==========  =====================================
empty-unsigned.apk (all 3)                             Java stack  one-line error, exit != 0 (same
                                                       trace       verdict: no AndroidManifest.xml)
v2-only-truncated-cd.apk (both)                        Java stack  one-line error, exit != 0 (same
                                                       trace       verdict: central directory cut)
v2-only-with-rsa-pss-sha256-2048.apk (default)         Java stack  not verified (no v1 for the
                                                       trace       manifest's min SDK < 24), exit != 0
v2-only-with-rsa-pss-sha256-2048.apk (min-sdk-24)      Java stack  VERIFIED, signer CN=rsa-2048 — the
                                                       trace       JVM lacks "SHA256withRSA/PSS"; apksig's
                                                                   own tests expect this APK to verify
v2-only-with-rsa-pss-sha256-2048-sig-does-not-verify   Java stack  not verified (upstream expects
  .apk (both)                                          trace       V2_SIG_DID_NOT_VERIFY), exit != 0
stamp-malformed-signature.apk (both)                   "Verifies"  VERIFIED, exit 0: a broken source
                                                       then NPE,   stamp must not block a verified APK
                                                       exit 1      (apksig testSourceStampBlock_
                                                                   malformedSignature)
=====================================================  ==========  =====================================

Where the two apksigner builds disagree we follow AOSP main; ``DEBIAN_DIFFERS`` lists those
cases with the reason (mostly: Debian's 31.0.2 predates v3.1) and a test keeps the list exact.
``docs/simtool-digest-conformance.md`` has the same tables with counts.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from tests.rig.apksigner import (CertDigests, Verification, lineage_certs, parse_verify_output,
                                missing_tools)
from tests.rig.digest_cli import (assert_one_line_error, normalise_scheme, printed_schemes,
                                  run_digest, run_digest_batch, signer_certs, verified_schemes)

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "apksig-golden"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
AOSP = "aosp-main-2025-03"
DEBIAN = "debian-31.0.2"
ALL = "*"

#: (file, invocation or ALL) -> why our answer differs from AOSP-main apksigner's.
DELIBERATE: dict[tuple[str, str], str] = {
    ("empty-unsigned.apk", ALL):
        "apksigner throws ApkFormatException (Missing AndroidManifest.xml) with a stack trace; "
        "we print a one-line error; both exit non-zero",
    ("v2-only-truncated-cd.apk", ALL):
        "apksigner throws ApkFormatException (not a ZIP archive) with a stack trace; we print a "
        "one-line error; both exit non-zero",
    ("v2-only-with-rsa-pss-sha256-2048.apk", "default"):
        "apksigner throws NoSuchAlgorithmException (no SHA256withRSA/PSS provider in this JVM); "
        "we do not verify either: v2 only, and the manifest's min SDK < 24 needs v1",
    ("v2-only-with-rsa-pss-sha256-2048.apk", "min-sdk-24"):
        "apksigner throws NoSuchAlgorithmException (no SHA256withRSA/PSS provider in this JVM); "
        "the RSA-PSS signature is valid and we verify it (signer CN=rsa-2048)",
    ("v2-only-with-rsa-pss-sha256-2048-sig-does-not-verify.apk", ALL):
        "apksigner throws NoSuchAlgorithmException; we report the bad RSA-PSS signature "
        "(apksig's test expects V2_SIG_DID_NOT_VERIFY); both exit non-zero",
    ("stamp-malformed-signature.apk", ALL):
        "apksigner prints 'Verifies' then dies with a NullPointerException printing the broken "
        "source stamp (exit 1); a broken stamp must not block a verified APK (apksig's "
        "testSourceStampBlock_malformedSignature), so we say verified, exit 0",
}

#: Cases where we VERIFY although apksigner's run did not (exit 1 from a crash).
VERIFIES_DESPITE_APKSIGNER = {
    ("v2-only-with-rsa-pss-sha256-2048.apk", "min-sdk-24"),
    ("stamp-malformed-signature.apk", "default"),
    ("stamp-malformed-signature.apk", "min-sdk-24"),
}

#: (file, invocation) where Debian's apksigner 31.0.2 disagrees with AOSP main (we follow AOSP).
_V31 = "Debian 31.0.2 predates v3.1: it skips the v3.1 block (0x1b93ad61) and prints only the original key (the v1/v2 signer)"
_V31_28 = ("Debian 31.0.2 predates v3.1: for min SDK 28 it sees no v3 signer covering the range "
           "(the rotated key is only in the v3.1 block) and throws 'APK verified, but has not "
           "verified using any of v1, v2 or v3 schemes'")
DEBIAN_DIFFERS: dict[tuple[str, str], str] = {
    ("v1-only-11-signers.apk", "default"): "AOSP main allows at most 10 v1 signers; 31.0.2 has no limit",
    ("v1-only-11-signers.apk", "min-sdk-24"): "AOSP main allows at most 10 v1 signers; 31.0.2 has no limit",
    ("v2-only-11-signers.apk", "min-sdk-24"): "AOSP main allows at most 10 v2 signers; 31.0.2 has no limit",
    ("v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "default"): _V31,
    ("v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "min-sdk-24"): _V31,
    ("v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "upstream_sdk_range"): _V31_28.replace("28", "33"),
    ("v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "min-sdk-28"): _V31_28,
    ("v31-rsa-2048_2-tgt-34-1-tgt-28.apk", "default"): _V31,
    ("v31-rsa-2048_2-tgt-34-1-tgt-28.apk", "min-sdk-24"): _V31,
    ("v31-rsa-2048_2-tgt-34-1-tgt-28.apk", "min-sdk-28"): _V31_28,
    ("v31-rsa-2048_2-tgt-10000-dev-release.apk", "default"): _V31,
    ("v31-rsa-2048_2-tgt-10000-dev-release.apk", "with_v4_signature_file"): _V31,
    ("v31-rsa-2048_2-tgt-10000-dev-release.apk", "min-sdk-24"): _V31,
    ("v31-rsa-2048_2-tgt-10000-dev-release.apk", "min-sdk-28"): _V31_28,
    ("v41-digest-mismatched-with-v31.apk", "default"): _V31,
    ("v41-digest-mismatched-with-v31.apk", "min-sdk-24"): _V31,
    ("v41-digest-mismatched-with-v31.apk", "min-sdk-28"): _V31_28,
    ("v41-digest-mismatched-with-v31.apk", "with_v4_signature_file"):
        "AOSP main checks the v4.1 .idsig digest against the v3.1 block; 31.0.2 cannot",
    ("stamp-2-v31-tgt-signers.apk", "default"): _V31,
    ("stamp-2-v31-tgt-signers.apk", "min-sdk-24"): _V31,
    ("stamp-2-v31-tgt-signers.apk", "min-sdk-28"): _V31_28,
    ("v31-block-stripped-v3-attr-value-33.apk", "default"):
        "AOSP main sees the v3.0 signer's rotation-min-SDK attribute (33) without a v3.1 block "
        "and rejects the stripping; 31.0.2 does not know the attribute",
    ("v31-block-stripped-v3-attr-value-33.apk", "min-sdk-24"):
        "AOSP main rejects the stripped v3.1 block (see default); 31.0.2 does not know the attribute",
}


@dataclass(frozen=True)
class Invocation:
    """One recorded apksigner run: which file, which invocation, what AOSP main said, and the
    SDK / v4 options to give our CLI for the same question."""

    file: str
    name: str
    aosp: Verification
    min_sdk: int | None
    max_sdk: int | None
    with_idsig: bool

    @property
    def id(self) -> str:
        return f"{self.file}::{self.name}"


def _options(command: str) -> tuple[int | None, int | None, bool]:
    argv = shlex.split(command)
    def value(flag: str) -> int | None:
        return int(argv[argv.index(flag) + 1]) if flag in argv else None
    return value("--min-sdk-version"), value("--max-sdk-version"), "--v4-signature-file" in argv


def _invocations() -> list[Invocation]:
    out = []
    for entry in MANIFEST["files"]:
        for name, rec in entry["apksigner"][AOSP].items():
            lo, hi, idsig = _options(rec["command"])
            out.append(Invocation(entry["file"], name,
                                  parse_verify_output(rec["stdout"], rec["stderr"], rec["exit_code"]),
                                  lo, hi, idsig))
    return out


INVOCATIONS = _invocations()


def deliberate(inv: Invocation) -> str | None:
    """The reason this invocation deliberately differs from AOSP main, or None."""
    return DELIBERATE.get((inv.file, inv.name)) or DELIBERATE.get((inv.file, ALL))


@pytest.fixture(scope="session")
def corpus_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """Our report (``--verify --json``) for every recorded invocation: one process per SDK
    option set over all the files recorded with it (see run_digest_batch), two at a time.

    Each APK is copied alone into its own folder (with its ``.idsig`` beside it only for the
    ``--v4-signature-file`` invocation), since we pick up a ``.idsig`` next to the APK by
    ourselves, as the issue asks."""
    root = tmp_path_factory.mktemp("golden")
    groups: dict[tuple[int | None, int | None], list[tuple[Invocation, Path]]] = {}
    for inv in INVOCATIONS:
        folder = root / inv.id.replace("::", "__")
        folder.mkdir()
        apk = folder / inv.file
        shutil.copyfile(CORPUS / inv.file, apk)
        if inv.with_idsig:
            shutil.copyfile(CORPUS / (inv.file + ".idsig"), folder / (inv.file + ".idsig"))
        groups.setdefault((inv.min_sdk, inv.max_sdk), []).append((inv, apk))

    def run(key: tuple[int | None, int | None]) -> dict[str, dict]:
        members = groups[key]
        reports = run_digest_batch([apk for _, apk in members], verify=True,
                                   min_sdk=key[0], max_sdk=key[1])
        return {inv.id: reports[apk] for inv, apk in members}

    out: dict[str, dict] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for part in pool.map(run, groups):
            out.update(part)
    return out


def _assert_not_verified(report: dict) -> None:
    assert report["verified"] is False, f"verified, apksigner does not: {report['signers']}"
    assert report["errors"] and all(isinstance(e, str) and e and "\n" not in e
                                    for e in report["errors"])


def _assert_same_signers(report: dict, theirs: Verification) -> None:
    assert signer_certs(report) == {s.cert for s in theirs.app_signers}
    ours_ranges = {(s["sha256"], s["min_sdk"], s["max_sdk"]) for s in report["signers"]}
    for s in theirs.app_signers:
        if s.min_sdk is not None:
            assert (s.cert.sha256, s.min_sdk, s.max_sdk) in ours_ranges, (s, ours_ranges)


@pytest.mark.parametrize("inv", INVOCATIONS, ids=lambda i: i.id)
def test_agrees_with_aosp_apksigner(corpus_runs: dict[str, dict], inv: Invocation) -> None:
    """Same verdict, signers and SDK ranges as AOSP-main apksigner (or the listed deliberate
    difference); exit statuses follow the verdicts (run_digest_batch, test_exit_status_*)."""
    report = corpus_runs[inv.id]
    why = deliberate(inv)
    if why is None:
        assert not inv.aosp.crashed, f"unlisted apksigner crash on {inv.id}"
        if not (inv.aosp.verifies and inv.aosp.exit_code == 0):
            _assert_not_verified(report)
            return
        assert report["verified"] is True and report["errors"] == [], report["errors"]
        _assert_same_signers(report, inv.aosp)
        aosp_ok = {n for n, ok in inv.aosp.schemes.items() if ok and n.startswith("v")}
        assert aosp_ok <= verified_schemes(report)
        assert {normalise_scheme(s["scheme"]) for s in report["signers"]} == printed_schemes(aosp_ok)
        return
    # Deliberate differences: apksigner crashed; assert the answer it should have given.
    assert inv.aosp.crashed, f"{inv.id} is listed as deliberate but apksigner did not crash"
    if (inv.file, inv.name) in VERIFIES_DESPITE_APKSIGNER:
        assert report["verified"] is True, why
        if inv.file.startswith("stamp-"):
            _assert_same_signers(report, inv.aosp)  # printed before the crash
        else:
            assert signer_certs(report) == {_rsa_2048_from_corpus()}
    else:
        _assert_not_verified(report)


@pytest.mark.parametrize("name", ["golden-aligned-v1v2v3-out.apk", "v2-only-truncated-cd.apk",
                                  "empty-unsigned.apk", "v2-only-with-rsa-pkcs1-sha512-4096-digest-mismatch.apk",
                                  "stamp-malformed-signature.apk"])
def test_exit_status_single_file(name: str, tmp_path: Path) -> None:
    """One file per process: exit 0 exactly when AOSP's verdict (or our deliberate one) is
    "verified"; a failure says why on one line (stderr) without a traceback."""
    inv = next(i for i in INVOCATIONS if i.file == name and i.name == "default")
    expect_ok = (inv.aosp.verifies and inv.aosp.exit_code == 0) or (name, "default") in VERIFIES_DESPITE_APKSIGNER
    apk = tmp_path / name
    shutil.copyfile(CORPUS / name, apk)
    run = run_digest([apk], json_out=False, verify=True)
    assert "Traceback" not in run.stderr + run.stdout
    if expect_ok:
        assert run.exit_code == 0, run.stderr
    else:
        assert_one_line_error(run)
        assert name in run.stderr


def _rsa_2048_from_corpus() -> CertDigests:
    """CN=rsa-2048's certificate, read (with zipfile + cryptography, not our code) from the v1
    signature of golden-aligned-v1-out.apk, and checked to be inside the RSA-PSS APK."""
    with zipfile.ZipFile(CORPUS / "golden-aligned-v1-out.apk") as z:
        block = next(n for n in z.namelist() if n.startswith("META-INF/") and n.endswith(".RSA"))
        cert = pkcs7.load_der_pkcs7_certificates(z.read(block))[0]
    der = cert.public_bytes(Encoding.DER)
    assert der in (CORPUS / "v2-only-with-rsa-pss-sha256-2048.apk").read_bytes()
    return CertDigests.of_der("CN=rsa-2048", der)


def test_default_mode_names_the_same_signers(tmp_path: Path) -> None:
    """Without --verify (signatures over signed data only) the signers of every APK that AOSP
    apksigner verifies by default are the same (one process for all of them)."""
    cases = [inv for inv in INVOCATIONS if inv.name == "default" and not deliberate(inv)
             and inv.aosp.verifies and inv.aosp.exit_code == 0]
    apks = []
    for inv in cases:
        apks.append(tmp_path / inv.file)
        shutil.copyfile(CORPUS / inv.file, apks[-1])
    reports = run_digest_batch(apks)
    for inv, apk in zip(cases, apks):
        assert reports[apk]["verified"] is True, (inv.id, reports[apk]["errors"])
        _assert_same_signers(reports[apk], inv.aosp)
    assert len(cases) >= 20


#: Files whose flaw only --verify can see (it hashes the file's bytes); without --verify we
#: check signatures over the signed data only, as the issue specifies for the default mode.
SEEN_ONLY_WITH_VERIFY = {
    "v1-sha1-sha256-manifest-and-sf-with-sha1-wrong-in-manifest.apk":
        "the wrong value is MANIFEST.MF's SHA-1 of resources.arsc: only hashing the entry finds it",
}


def test_default_mode_rejects_what_aosp_rejects(tmp_path: Path) -> None:
    """Without --verify, every APK that AOSP apksigner rejects by default is also unverified,
    except the listed ones whose flaw lies in bytes only --verify hashes."""
    cases = [inv for inv in INVOCATIONS if inv.name == "default" and not deliberate(inv)
             and not (inv.aosp.verifies and inv.aosp.exit_code == 0)]
    apks = []
    for inv in cases:
        apks.append(tmp_path / inv.file)
        shutil.copyfile(CORPUS / inv.file, apks[-1])
    reports = run_digest_batch(apks)
    verified = {inv.file for inv, apk in zip(cases, apks) if reports[apk]["verified"]}
    assert verified == set(SEEN_ONLY_WITH_VERIFY)
    assert len(cases) >= 30


def test_debian_differences_listed_exactly() -> None:
    """DEBIAN_DIFFERS (and the docs table) names exactly the invocations where the two apksigner
    builds give a different exit code, verdict or signer set."""
    found = set()
    for entry in MANIFEST["files"]:
        builds = entry["apksigner"]
        for name, a in builds[AOSP].items():
            d = builds[DEBIAN][name]
            key = lambda r: (r["exit_code"], r["verifies"], sorted(s["cert_sha256"] for s in r["signers"]))
            if key(a) != key(d):
                found.add((entry["file"], name))
    assert found == set(DEBIAN_DIFFERS)


def test_rig_parser_matches_manifest() -> None:
    """The rig's parser reads every recorded apksigner output (both builds) the way the
    manifest's own parsed fields say."""
    for entry in MANIFEST["files"]:
        for build in entry["apksigner"].values():
            for rec in build.values():
                got = parse_verify_output(rec["stdout"], rec["stderr"], rec["exit_code"])
                assert got.verifies == rec["verifies"]
                assert got.schemes == rec["schemes"]
                assert [(s.cert.subject, s.cert.sha256, s.cert.sha1, s.cert.md5) for s in got.signers] == [
                    (s["dn"], s["cert_sha256"], s["cert_sha1"], s["cert_md5"]) for s in rec["signers"]]


def test_corpus_files_are_the_recorded_ones() -> None:
    """Every corpus file is in the manifest with its recorded SHA-256, and vice versa."""
    listed = {e["file"]: e["sha256"] for e in MANIFEST["files"]}
    on_disk = {p.name for p in CORPUS.glob("*.apk")}
    assert on_disk == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == digest, name


def conformance_counts() -> dict[str, int]:
    """Counts for docs/simtool-digest-conformance.md (run this module as a script)."""
    files = {i.file for i in INVOCATIONS}
    differing_files = {i.file for i in INVOCATIONS if deliberate(i)}
    return {"files": len(files), "files_agree": len(files - differing_files),
            "files_deliberate": len(differing_files), "invocations": len(INVOCATIONS),
            "invocations_agree": sum(1 for i in INVOCATIONS if not deliberate(i)),
            "invocations_deliberate": sum(1 for i in INVOCATIONS if deliberate(i)),
            "debian_differs": len(DEBIAN_DIFFERS)}


if __name__ == "__main__":
    print(conformance_counts())


@pytest.mark.parametrize("name", ["v31-rsa-2048_2-tgt-33-1-tgt-28.apk", "stamp-2-v31-tgt-signers.apk",
                                  "v1-only-two-signers.apk"])
def test_text_output_mirrors_aosp_apksigner(name: str, tmp_path: Path) -> None:
    """Text output, min SDK 24: the same signer lines as AOSP main, labels with the SDK ranges
    included ("Signer (minSdkVersion=32 (dev release=true), maxSdkVersion=2147483647) …")."""
    inv = next(i for i in INVOCATIONS if i.file == name and i.name == "min-sdk-24")
    apk = tmp_path / name
    shutil.copyfile(CORPUS / name, apk)
    run = run_digest([apk], json_out=False, verify=True, min_sdk=24)
    assert run.exit_code == 0, run.stderr
    ours = parse_verify_output(run.stdout, "", run.exit_code)
    assert [(s.label, s.cert) for s in ours.app_signers] == [(s.label, s.cert) for s in inv.aosp.app_signers]


LINEAGE_FILES = ["golden-aligned-v1v2v3-lineage-out.apk", "golden-aligned-v2v3-lineage-out.apk",
                 "golden-aligned-v3-lineage-out.apk", "v1v2v3-with-rsa-2048-lineage-3-signers.apk"]


@pytest.mark.skipif(bool(missing_tools()), reason="needs Debian's apksigner")
def test_lineage_matches_apksigner_lineage_command(tmp_path: Path) -> None:
    """The rotation lineage of every corpus APK that has one (v3.0 block) equals what
    ``apksigner lineage --in APK --print-certs`` (Debian 31.0.2) reads from it, oldest first,
    and the recommended SIM hash is the original certificate's SHA-1."""
    apks = []
    for name in LINEAGE_FILES:
        apks.append(tmp_path / name)
        shutil.copyfile(CORPUS / name, apks[-1])
    reports = run_digest_batch(apks, min_sdk=28)
    for apk in apks:
        theirs = lineage_certs(apk)
        assert len(theirs) >= 2, apk.name
        ours = [(e["subject"], e["sha1"], e["sha256"]) for e in reports[apk]["lineage"]]
        assert ours == [(c.subject, c.sha1, c.sha256) for c in theirs], apk.name
        assert reports[apk]["recommended_sha1"] == theirs[0].sha1, apk.name
