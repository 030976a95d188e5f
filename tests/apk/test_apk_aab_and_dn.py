"""Real keytool + apksigner: a JAR-signed .aab, and a subject DN with quoting and a
multi-valued RDN printed exactly as apksigner prints it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "apksig-golden"
SIMTOOL = str(Path(sys.executable).with_name("simtool"))
DNAME = "CN=Alice Example, OU=Dev+L=Town, O=Acme\\, Inc, ST=Some State, C=US, EMAILADDRESS=a@b.c"


def _sh(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ks = tmp_path_factory.mktemp("dn") / "ks.jks"
    _sh("keytool", "-genkeypair", "-keystore", str(ks), "-storepass", "secret12", "-keypass",
        "secret12", "-alias", "a", "-keyalg", "RSA", "-keysize", "2048", "-dname", DNAME,
        "-validity", "1000")
    return ks


def _sign(key: Path, src: Path, out: Path, *extra: str) -> Path:
    _sh("apksigner", "sign", "--ks", str(key), "--ks-pass", "pass:secret12", *extra,
        "--out", str(out), str(src))
    return out


def _digest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SIMTOOL, "digest", *args], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ), stdin=subprocess.DEVNULL)


def test_certificate_lines_equal_apksigner(key: Path, tmp_path: Path) -> None:
    apk = _sign(key, CORPUS / "golden-aligned-in.apk", tmp_path / "s.apk")
    theirs = _sh("apksigner", "verify", "--print-certs", str(apk)).stdout.splitlines()
    ours = _digest(str(apk))
    assert ours.returncode == 0, ours.stderr
    wanted = [ln for ln in theirs if ln.startswith("Signer #1 certificate")]
    assert len(wanted) == 4 and all(ln in ours.stdout.splitlines() for ln in wanted)
    assert 'O="Acme, Inc"' in wanted[0] and "OU=Dev + L=Town" in wanted[0]


def test_jar_signed_aab(key: Path, tmp_path: Path) -> None:
    aab = tmp_path / "app.aab"
    with zipfile.ZipFile(aab, "w") as z:
        z.writestr("base/manifest/AndroidManifest.xml", b"\x0a\x05hello")
        z.writestr("base/dex/classes.dex", b"dex\n035\0" + b"x" * 100)
        z.writestr("BundleConfig.pb", b"")
    signed = _sign(key, aab, tmp_path / "signed.aab", "--v1-signing-enabled", "true",
                   "--v2-signing-enabled", "false", "--v3-signing-enabled", "false",
                   "--min-sdk-version", "1")
    proc = _digest("--json", "--verify", str(signed))
    assert proc.returncode == 0, proc.stderr
    (report,) = json.loads(proc.stdout)
    assert report["kind"] == "aab" and report["schemes"]["v1"] is True
    assert report["signers"][0]["subject"].startswith("CN=Alice Example")
    unsigned = _digest("--json", str(aab))
    assert unsigned.returncode == 1
    assert json.loads(unsigned.stdout)[0]["errors"] == ["Missing META-INF/MANIFEST.MF"]


def test_tampered_aab_entry_fails_full_verify(key: Path, tmp_path: Path) -> None:
    aab = tmp_path / "app.aab"
    with zipfile.ZipFile(aab, "w") as z:
        z.writestr("base/dex/classes.dex", b"dex\n035\0" + b"x" * 100, zipfile.ZIP_STORED)
    signed = _sign(key, aab, tmp_path / "signed.aab", "--v2-signing-enabled", "false",
                   "--v3-signing-enabled", "false", "--min-sdk-version", "1")
    data = bytearray(signed.read_bytes())
    at = data.find(b"x" * 100)
    data[at] = ord("y")
    bad = tmp_path / "bad.aab"
    bad.write_bytes(bytes(data))
    assert _digest(str(bad)).returncode == 0  # signatures over the .SF still verify
    proc = _digest("--json", "--verify", str(bad))
    assert proc.returncode == 1
    assert "digest of base/dex/classes.dex does not match" in json.loads(proc.stdout)[0]["errors"][0]


def test_v1_algorithm_unsupported_on_old_api_levels(tmp_path: Path) -> None:
    """An EC key's JAR signature (SHA-256 with ECDSA) cannot be verified before API 18:
    verifying for API 10+ fails with apksigner's own message; for 18+ it verifies."""
    ks = tmp_path / "ec.p12"
    _sh("keytool", "-genkeypair", "-keystore", str(ks), "-storetype", "PKCS12", "-storepass",
        "secret12", "-keypass", "secret12", "-alias", "e", "-keyalg", "EC", "-groupname",
        "secp256r1", "-dname", "CN=ec", "-validity", "10")
    apk = _sign(ks, CORPUS / "golden-aligned-in.apk", tmp_path / "ec.apk",
                "--min-sdk-version", "18")
    theirs = subprocess.run(["apksigner", "verify", "--min-sdk-version", "10", str(apk)],
                            capture_output=True, text=True, timeout=60)
    assert theirs.returncode != 0
    (error_line,) = [ln for ln in theirs.stdout.splitlines() + theirs.stderr.splitlines()
                     if ln.startswith("ERROR:")]
    ours = _digest("--min-sdk-version", "10", str(apk))
    assert ours.returncode == 1 and error_line in ours.stdout.splitlines()
    assert _digest("--min-sdk-version", "18", str(apk)).returncode == 0
