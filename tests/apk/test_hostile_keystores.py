"""Issue 9 (5): DSA without warning noise; RC2-40 PKCS#12 (old keytool) read without OpenSSL's
legacy provider; a cipher nobody here decrypts is named, not called a wrong password.

Keystores are made here by keytool (with the system properties that make JDK 17 write what old
keytool wrote: certificates under pbeWithSHAAnd40BitRC2-CBC) and by ``openssl pkcs12 -legacy``.
``CRYPTOGRAPHY_OPENSSL_NO_LEGACY=1`` makes ``cryptography`` run without OpenSSL's legacy provider,
as on systems that do not ship it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization

from simtool.apk import rc2
from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

PASSWORD = "secret12"
OLD_KEYTOOL = ["-J-Dkeystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_40",
               "-J-Dkeystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndDESede",
               "-J-Dkeystore.pkcs12.macAlgorithm=HmacPBESHA1"]


def _digest(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRYPTOGRAPHY_OPENSSL_NO_LEGACY": "1", "PYTHONWARNINGS": "default",
           "SIMTOOL_KEYSTORE_PASSWORD": password}
    return subprocess.run([*simtool_argv(), "digest", *args], capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL)


def _sh(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=120).stdout


def _keytool_sha1(ks: Path, alias: str) -> str:
    out = _sh("keytool", "-list", "-v", "-keystore", str(ks), "-storepass", PASSWORD,
              "-alias", alias)
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("SHA1:"))
    return line.split("SHA1:")[1].strip().replace(":", "").lower()


@pytest.mark.parametrize("keyalg", ["DSA", "RSA"])
def test_old_keytool_rc2_40_keystore(tmp_path: Path, keyalg: str) -> None:
    ks = tmp_path / "old.p12"
    _sh("keytool", "-genkeypair", "-keystore", str(ks), "-storetype", "PKCS12", "-storepass",
        PASSWORD, "-keypass", PASSWORD, "-alias", "old", "-keyalg", keyalg, "-keysize", "2048",
        "-dname", "CN=Old Keytool", "-validity", "100", *OLD_KEYTOOL)
    info = subprocess.run(["openssl", "pkcs12", "-info", "-noout", "-legacy", "-in", str(ks),
                           "-passin", f"pass:{PASSWORD}"], capture_output=True, text=True)
    assert "pbeWithSHA1And40BitRC2-CBC" in info.stdout + info.stderr
    proc = _digest(str(ks))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no CryptographyDeprecationWarning for DSA, nothing else
    assert f"Signer #1 certificate SHA-1 digest: {_keytool_sha1(ks, 'old')}" in proc.stdout
    wrong = _digest(str(ks), password="nope")
    assert wrong.returncode == 1
    assert "keystore password is wrong (PKCS#12 MAC does not match)" in wrong.stderr


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
@pytest.mark.parametrize(("pbe", "readable"), [("PBE-SHA1-RC2-40", True), ("PBE-SHA1-RC2-128", True),
                                               ("PBE-SHA1-3DES", True), ("PBE-SHA1-2DES", True),
                                               ("PBE-SHA1-RC4-128", False)])
def test_openssl_legacy_pkcs12(tmp_path: Path, pbe: str, readable: bool) -> None:
    key, cert = hi.make_key_and_cert("CN=openssl legacy", 1024)
    (tmp_path / "k.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    hi.write_pem(tmp_path / "c.pem", cert)
    out = tmp_path / "legacy.p12"
    made = subprocess.run(["openssl", "pkcs12", "-export", "-legacy", "-certpbe", pbe, "-keypbe",
                           "PBE-SHA1-3DES", "-inkey", str(tmp_path / "k.pem"), "-in",
                           str(tmp_path / "c.pem"), "-out", str(out), "-passout",
                           f"pass:{PASSWORD}"], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this openssl cannot write {pbe}: {made.stderr.strip()[:100]}")
    proc = _digest("--json", str(out))
    if readable:
        assert proc.returncode == 0, proc.stderr
        (report,) = json.loads(proc.stdout)
        assert report["recommended_sha1"] == cert.fingerprint(hashes.SHA1()).hex()
    else:
        assert proc.returncode == 1
        assert "pbeWithSHAAnd128BitRC4" in proc.stderr and "the password is right" in proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_dsa_apk_without_warning_noise() -> None:
    apk = hi.CORPUS / "v2-only-with-dsa-sha256-2048.apk"
    proc = _digest("--verify", "--min-sdk-version", "24", str(apk))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize(("key", "bits", "plain", "cipher"), [  # RFC 2268 section 5
    ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
    ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
    ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
    ("88", 64, "0000000000000000", "61a8a244adacccf0"),
    ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
])
def test_rc2_rfc2268_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    k = rc2.expand_key(bytes.fromhex(key), bits)
    assert rc2.encrypt_block(k, bytes.fromhex(plain)).hex() == cipher
    assert rc2.decrypt_block(k, bytes.fromhex(cipher)).hex() == plain


def test_rc2_40_cbc_matches_openssl(tmp_path: Path) -> None:
    """Our RC2-40-CBC decryption against the openssl command's encryption (when this openssl
    has the legacy provider; otherwise the keytool test above is the cross-check)."""
    key, iv = bytes.fromhex("0102030405"), bytes.fromhex("0011223344556677")
    plain = bytes(range(64))
    (tmp_path / "p").write_bytes(plain)
    made = subprocess.run(["openssl", "enc", "-rc2-40-cbc", "-nopad", "-K", key.hex(), "-iv",
                           iv.hex(), "-in", str(tmp_path / "p"), "-provider", "legacy",
                           "-provider", "default"], capture_output=True)
    if made.returncode != 0:
        pytest.skip("this openssl has no legacy provider")
    assert rc2.cbc_decrypt(key, 40, iv, made.stdout) == plain
