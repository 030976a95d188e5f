"""Issue 9 (4): where Android / apksigner refuse, so do we — and bundles are verified as JARs.

Each case is checked against Debian's apksigner (or jarsigner for bundles) on the same file:
a stripping-protection attribute shorter than 4 bytes, duplicate ZIP entries, a JAR signature
with signed attributes verified for API < 19, and a jarsigner-signed .aab.
"""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

STRIPPING_PROTECTION_ATTR = 0xBEEFF00D


def _digest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*simtool_argv(), "digest", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def _apksigner(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["apksigner", "verify", *args], capture_output=True, text=True,
                          timeout=120)


def _errors(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("ERROR: ")]


def _same_verdict(path: Path, *sdk: str) -> list[str]:
    """Run both tools (with --verify here); assert the same verdict and ERROR lines."""
    ours = _digest("--verify", *sdk, str(path))
    theirs = _apksigner(*sdk, str(path))
    assert "Traceback" not in ours.stderr
    assert (ours.returncode == 0) == (theirs.returncode == 0 and "DOES NOT VERIFY" not in theirs.stdout), (
        ours.stdout, theirs.stdout, theirs.stderr)
    assert _errors(ours.stdout) == _errors(theirs.stdout + theirs.stderr), (ours.stdout, theirs.stdout)
    return _errors(ours.stdout)


@pytest.fixture(scope="module")
def signer() -> tuple:
    return hi.make_key_and_cert("CN=conformance", 2048)


def _unsigned(*files: tuple[str, bytes]) -> bytes:
    return hi.zip_bytes([("AndroidManifest.xml", hi.manifest_xml()), *files])


@pytest.mark.parametrize("value", [b"", b"\x03", b"\x03\x00\x00"])
def test_short_stripping_protection_attribute_is_malformed(tmp_path: Path, signer: tuple,
                                                           value: bytes) -> None:
    apk = tmp_path / "short.apk"
    apk.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex")), *signer,
                               [(STRIPPING_PROTECTION_ATTR, value)]))
    errors = _same_verdict(apk, "--min-sdk-version", "24")
    assert errors == ["ERROR: APK Signature Scheme v2 signer #1: Malformed additional attribute #1"]


def test_stripping_protection_attribute_of_4_bytes_is_read(tmp_path: Path, signer: tuple) -> None:
    apk = tmp_path / "full.apk"
    apk.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex")), *signer,
                               [(STRIPPING_PROTECTION_ATTR, b"\x03\x00\x00\x00")]))
    ours = _digest("--min-sdk-version", "24", str(apk))
    assert ours.returncode == 1 and "Signature stripped?" in ours.stdout
    plain = tmp_path / "plain.apk"
    plain.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex")), *signer))
    assert _same_verdict(plain, "--min-sdk-version", "24") == []


@pytest.mark.parametrize("duplicate", ["AndroidManifest.xml", "classes.dex"])
def test_duplicate_entries_refused(tmp_path: Path, signer: tuple, duplicate: str) -> None:
    apk = hi.make_v1_apk(tmp_path / "dup.apk", [("classes.dex", b"dex\n035\0")], *signer,
                         extra_raw=[(duplicate, b"other")])
    assert _same_verdict(apk) == [f"ERROR: Duplicate entry: {duplicate}"]
    v2 = tmp_path / "dup-v2.apk"  # a v2-only APK too: Android's ZIP reader refuses it
    v2.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex"), (duplicate, b"again")), *signer))
    ours = _digest("--min-sdk-version", "24", str(v2))
    assert ours.returncode == 1 and f"ERROR: Duplicate entry: {duplicate}" in ours.stdout


def test_signed_attributes_refused_before_api_19(tmp_path: Path, signer: tuple) -> None:
    apk = hi.make_v1_apk(tmp_path / "attrs.apk", [("classes.dex", b"dex\n035\0")], *signer,
                         signed_attributes=True)
    (error,) = _same_verdict(apk, "--min-sdk-version", "18")
    assert "APKs with Signed Attributes broken on platforms with API Level < 19" in error
    assert _same_verdict(apk, "--min-sdk-version", "19") == []
    plain = hi.make_v1_apk(tmp_path / "plain.apk", [("classes.dex", b"dex\n035\0")], *signer)
    assert _same_verdict(plain, "--min-sdk-version", "18") == []


# --- bundles ---------------------------------------------------------------------------------

def _sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def jks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ks = tmp_path_factory.mktemp("aab") / "upload.p12"
    _sh("keytool", "-genkeypair", "-keystore", str(ks), "-storetype", "PKCS12", "-storepass",
        "secret12", "-keypass", "secret12", "-alias", "upload", "-keyalg", "RSA", "-keysize",
        "2048", "-dname", "CN=Upload Key, O=Example", "-validity", "1000")
    return ks


def _bundle(tmp_path: Path) -> Path:
    """A bundle's layout: protobuf manifest under base/manifest/, no AndroidManifest.xml."""
    aab = tmp_path / "app.aab"
    with zipfile.ZipFile(aab, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x08manifest\x1a\x01p")
        z.writestr("base/dex/classes.dex", b"dex\n035\0" + b"x" * 200)
        z.writestr("BundleConfig.pb", b"\x0a\x05\x0a\x031.0")
    return aab


def _jarsign(jks: Path, src: Path, out: Path, *extra: str) -> Path:
    _sh("jarsigner", "-keystore", str(jks), "-storetype", "PKCS12", "-storepass", "secret12",
        *extra, "-signedjar", str(out), str(src), "upload")
    return out


@pytest.mark.parametrize("digestalg", ["SHA-256", "SHA-512"])
def test_jarsigner_signed_bundle_verified_as_jar(tmp_path: Path, jks: Path, digestalg: str) -> None:
    signed = _jarsign(jks, _bundle(tmp_path), tmp_path / "signed.aab", "-digestalg", digestalg)
    assert "jar verified" in _sh("jarsigner", "-verify", str(signed)).stdout
    cert = _sh("keytool", "-exportcert", "-rfc", "-keystore", str(jks), "-storetype", "PKCS12",
               "-storepass", "secret12", "-alias", "upload").stdout
    pem = tmp_path / "upload.pem"
    pem.write_text(cert)
    want = json.loads(_digest("--json", str(pem)).stdout)[0]["signers"][0]
    proc = _digest("--json", "--verify", str(signed))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (report,) = json.loads(proc.stdout)
    assert report["kind"] == "aab" and report["verified"] and report["schemes"]["v1"]
    (got,) = report["signers"]
    assert (got["subject"], got["sha256"], got["sha1"]) == (want["subject"], want["sha256"],
                                                              want["sha1"])
    assert got["min_sdk"] is None and report["min_sdk"] is None
    assert report["recommended_sha1"] is None and report["carrier_certificates"] == []
    text = _digest(str(signed))
    assert text.returncode == 0
    assert "simtool: no SIM hash for a bundle" in text.stdout
    assert not any(ln.startswith("simtool: SIM hash") for ln in text.stdout.splitlines())


def test_tampered_bundle_fails_like_jarsigner(tmp_path: Path, jks: Path) -> None:
    src = _bundle(tmp_path)
    with zipfile.ZipFile(src, "a", zipfile.ZIP_STORED) as z:
        z.writestr("base/assets/a.txt", b"original content")
    signed = _jarsign(jks, src, tmp_path / "signed.aab")
    data = bytearray(signed.read_bytes())
    at = data.find(b"original content")
    data[at] = ord("O")
    bad = tmp_path / "bad.aab"
    bad.write_bytes(bytes(data))
    theirs = subprocess.run(["jarsigner", "-verify", "-strict", str(bad)], capture_output=True,
                            text=True, timeout=120)
    assert "jar verified" not in theirs.stdout
    proc = _digest("--json", "--verify", str(bad))
    assert proc.returncode == 1
    assert "digest of base/assets/a.txt does not match" in json.loads(proc.stdout)[0]["errors"][0]


def test_apksigner_signed_bundle_with_stripping_protection(tmp_path: Path, jks: Path) -> None:
    """apksigner with v2 on writes X-Android-APK-Signed: 2 in the .SF; a bundle is a JAR, so
    that APK-only stripping protection is not asked of it."""
    signed = tmp_path / "signed.aab"
    _sh("apksigner", "sign", "--ks", str(jks), "--ks-pass", "pass:secret12", "--min-sdk-version",
        "21", "--v2-signing-enabled", "true", "--v3-signing-enabled", "false", "--out",
        str(signed), str(_bundle(tmp_path)))
    with zipfile.ZipFile(signed) as z:
        sf = next(n for n in z.namelist() if n.endswith(".SF"))
        assert b"X-Android-APK-Signed: 2" in z.read(sf)
    proc = _digest("--json", "--verify", str(signed))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (report,) = json.loads(proc.stdout)
    assert report["kind"] == "aab" and report["signers"][0]["subject"] == "CN=Upload Key, O=Example"


@pytest.mark.parametrize(("value", "verified"), [(b"\x21\x00", False), (b"\x21\x00\x00\x00", None)])
def test_short_rotation_min_sdk_attribute_in_v3_is_malformed(tmp_path: Path, signer: tuple,
                                                             value: bytes,
                                                             verified: bool | None) -> None:
    """v3's rotation-min-SDK attribute (0x559f8b02) is read with getInt() in AOSP main's apksig:
    2 bytes are "Malformed additional attribute #1"; 4 bytes are read (and, with no v3.1 block,
    name the missing block for SDK 33+)."""
    apk = tmp_path / "v3.apk"
    apk.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex")), *signer,
                               [(0x559F8B02, value)], v3=True))
    plain = tmp_path / "plain.apk"
    plain.write_bytes(hi.v2_sign(_unsigned(("classes.dex", b"dex")), *signer, v3=True))
    assert _digest("--verify", "--min-sdk-version", "28", str(plain)).returncode == 0
    ours = _digest("--min-sdk-version", "28", str(apk))
    assert ours.returncode == 1
    if verified is False:
        assert _errors(ours.stdout) == [
            "ERROR: APK Signature Scheme v3 signer #1: Malformed additional attribute #1"]
    else:
        assert "but a v3.1 block was not found" in ours.stdout
