"""Issue 9 (3): no traceback for any input, secret or option — one line, the documented exit
status, and never a character of a secret in a message."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from simtool.card.adm import AdmError, parse_adm_key
from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

CORPUS = hi.CORPUS
GOOD = CORPUS / "golden-aligned-v1v2v3-out.apk"
HASH = "ab" * 20


def _simtool(*args: str, env: dict[str, str] | None = None,
             env_bytes: dict[bytes, bytes] | None = None) -> subprocess.CompletedProcess[bytes]:
    environ: dict[bytes, bytes] = {k.encode(): v.encode() for k, v in os.environ.items()}
    environ.pop(b"SIMTOOL_KEYSTORE_PASSWORD", None)
    environ.pop(b"SIMTOOL_ADM", None)
    environ.update({k.encode(): v.encode() for k, v in (env or {}).items()})
    environ.update(env_bytes or {})
    return subprocess.run([*simtool_argv(), *args], capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL, env=environ)  # type: ignore[arg-type]


def _one_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode("utf-8")  # our messages are UTF-8 text, whatever the input
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(("value", "shown"), [("\u00b2", "'²'"), ("9" * 5000, "(5000 characters)"),
                                              ("", "''"), ("2147483648", "'2147483648'"),
                                              ("٣٠", "'٣٠'")])
def test_malformed_min_sdk_is_one_line_and_others_still_reported(tmp_path: Path, value: str,
                                                                  shown: str) -> None:
    bad = tmp_path / "bad.apk"
    bad.write_bytes(hi.zip_bytes([("AndroidManifest.xml", hi.axml_with_min_sdk(value))]))
    proc = _simtool("digest", str(bad), str(GOOD))
    assert proc.returncode == 1
    err = _one_line(proc)
    assert "malformed minSdkVersion" in err and shown in err and len(err) < 300, err
    assert b"Verifies" in proc.stdout  # the good APK after it is still reported
    # With --min-sdk-version the manifest's value is not needed (as in apksigner).
    given = _simtool("digest", "--min-sdk-version", "24", str(bad))
    assert b"malformed minSdkVersion" not in given.stderr and b"Missing META-INF/MANIFEST.MF" in given.stdout


def test_numeric_and_codename_min_sdk_still_read(tmp_path: Path) -> None:
    from simtool.apk.axml import parse_manifest_sdk
    assert parse_manifest_sdk(hi.axml_with_min_sdk("21"), "x").min_sdk == 21
    assert parse_manifest_sdk(hi.axml_with_min_sdk(" 28 "), "x").min_sdk == 28
    assert parse_manifest_sdk(hi.axml_with_min_sdk("Q"), "x").min_sdk == 29


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key, cert = hi.make_key_and_cert("CN=secret test", 1024)
    return hi.write_pkcs12(tmp_path_factory.mktemp("ks") / "k.p12", key, cert, b"s3cret")


SECRET_CHARS = ("ä", "\udce4", "\\xe4", "e4", "position")


def _no_secret(err: str) -> None:
    for token in SECRET_CHARS:
        assert token not in err, err


def test_password_file_not_utf8(tmp_path: Path, keystore: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_bytes("s3crät\n".encode("latin-1"))
    proc = _simtool("digest", "--password-file", str(pw), str(keystore))
    assert proc.returncode == 1
    err = _one_line(proc)
    assert f"{pw} is not valid UTF-8 text" in err
    _no_secret(err)


def test_password_env_with_stray_byte(keystore: Path) -> None:
    proc = _simtool("digest", str(keystore), env_bytes={b"SIMTOOL_KEYSTORE_PASSWORD": b"s3cr\xe4t"})
    assert proc.returncode == 1
    err = _one_line(proc)
    assert "$SIMTOOL_KEYSTORE_PASSWORD is not valid UTF-8 text" in err
    _no_secret(err)
    ok = _simtool("digest", str(keystore), env={"SIMTOOL_KEYSTORE_PASSWORD": "s3cret"})
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize(("content", "code", "message"), [
    ("٨٨٨٨\n".encode(), 9, "ADM key must be 16 hex digits or up to 8 ASCII decimal digits"),
    ("１２３４\n".encode(), 9, "ADM key must be 16 hex digits or up to 8 ASCII decimal digits"),
    (b"1234\xe4\n", 1, "is not valid UTF-8 text"),
], ids=["arabic-indic-digits", "fullwidth-digits", "latin-1"])
def test_adm_file_hostile(tmp_path: Path, content: bytes, code: int, message: str) -> None:
    adm = tmp_path / "adm"
    adm.write_bytes(content)
    proc = _simtool("aram", "add", "--hash", HASH, "--adm-file", str(adm), "--reader", "none")
    assert proc.returncode == code, proc.stderr
    err = _one_line(proc)
    assert message in err
    _no_secret(err)
    for ch in content.decode("utf-8", errors="ignore").strip():
        assert ch.isascii() or ch not in err, err


def test_adm_env_with_stray_byte() -> None:
    proc = _simtool("aram", "add", "--hash", HASH, "--adm", "--reader", "none",
                    env_bytes={b"SIMTOOL_ADM": b"1234\xff"})
    assert proc.returncode == 1
    err = _one_line(proc)
    assert "$SIMTOOL_ADM is not valid UTF-8 text" in err


def test_parse_adm_key_unicode_digits() -> None:
    with pytest.raises(AdmError) as info:
        parse_adm_key("٨٨")
    assert "٨" not in str(info.value)
    assert parse_adm_key("1234") == b"1234\xff\xff\xff\xff"
    assert parse_adm_key("0011223344556677") == bytes.fromhex("0011223344556677")


def test_pkcs12_with_a_5000_byte_integer(tmp_path: Path) -> None:
    """A MAC iteration count of 5000 bytes (its decimal form could not even be printed)."""
    der = hi.der
    sha1 = der(0x30, bytes.fromhex("06052b0e03021a") + der(0x05, b""))
    auth_safe = der(0x30, b"")
    pfx = der(0x30, der(0x02, b"\x03")
              + der(0x30, bytes.fromhex("06092a864886f70d010701") + der(0xA0, der(0x04, auth_safe)))
              + der(0x30, der(0x30, sha1 + der(0x04, bytes(20))) + der(0x04, bytes(8))
                    + der(0x02, b"\x7f" + bytes(4999))))
    ks = tmp_path / "huge.p12"
    ks.write_bytes(pfx)
    proc = _simtool("digest", str(ks), env={"SIMTOOL_KEYSTORE_PASSWORD": "x"})
    assert proc.returncode == 1
    assert "ASN.1 INTEGER of 5000 bytes is too large" in _one_line(proc)


def test_pkcs12_mac_iterations_over_the_cap(tmp_path: Path) -> None:
    """Two million rounds of the (pure Python) PKCS#12 KDF would cost seconds per input."""
    der = hi.der
    sha1 = der(0x30, bytes.fromhex("06052b0e03021a") + der(0x05, b""))
    pfx = der(0x30, der(0x02, b"\x03")
              + der(0x30, bytes.fromhex("06092a864886f70d010701") + der(0xA0, der(0x04, der(0x30, b""))))
              + der(0x30, der(0x30, sha1 + der(0x04, bytes(20))) + der(0x04, bytes(8))
                    + der(0x02, (2_000_000).to_bytes(3, "big"))))
    ks = tmp_path / "slow.p12"
    ks.write_bytes(pfx)
    proc = _simtool("digest", str(ks), env={"SIMTOOL_KEYSTORE_PASSWORD": "x"})
    assert proc.returncode == 1
    assert "MAC iteration count 2000000 is out of range" in _one_line(proc)


def test_password_file_without_line_break(keystore: Path) -> None:
    """/dev/zero as --password-file: only the first 64 KiB are read, then one line."""
    proc = _simtool("digest", "--password-file", "/dev/zero", str(keystore))
    assert proc.returncode == 1
    assert "no line break in the first 65536 bytes" in _one_line(proc)


def test_jks_with_an_unreadable_password_file_is_an_error(tmp_path: Path) -> None:
    """A JKS is readable without a password (integrity then unchecked, with a warning), but a
    password that was given and cannot be read must not silently become "no password"."""
    _key, cert = hi.make_key_and_cert("jks", 1024)
    ks = tmp_path / "k.jks"
    ks.write_bytes(hi.jks_of_certificates(cert.public_bytes(serialization.Encoding.DER), 1))
    pw = tmp_path / "pw"
    pw.write_bytes("s3crät\n".encode("latin-1"))
    proc = _simtool("digest", "--password-file", str(pw), str(ks))
    assert proc.returncode == 1 and proc.stdout == b""
    err = _one_line(proc)
    assert f"{pw} is not valid UTF-8 text" in err
    _no_secret(err)
    bad_env = _simtool("digest", str(ks), env_bytes={b"SIMTOOL_KEYSTORE_PASSWORD": b"s3cr\xe4t"})
    assert bad_env.returncode == 1 and bad_env.stdout == b""
    none_given = _simtool("digest", str(ks))  # nothing given, no terminal: digests + warning
    assert none_given.returncode == 0, none_given.stderr
    assert b"integrity digest was not checked" in none_given.stdout + none_given.stderr
