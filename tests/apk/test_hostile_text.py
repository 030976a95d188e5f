"""Issue 9 (1): no input can print a line that looks like one of ours.

Certificates, keystore aliases, v1-signed APKs and file names holding newlines, CR, ESC
sequences, bidi overrides and NUL go through the real CLI; every line it prints must be one
of the lines it would print anyway, with the input's characters escaped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from carrierkit.textsafe import escape_controls
from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

OUR_PREFIXES = ("Verifies", "DOES NOT VERIFY", "Verified using", "Verified for", "Number of",
                "Signer #1 ", "simtool: SIM hash", "WARNING: ", "ERROR: ")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*simtool_argv(), "digest", *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env=env)


def _assert_safe(text: str, dn: str) -> None:
    """Every line is ours, none carries a raw control/format character, and the hostile DN
    appears only escaped."""
    for line in text.splitlines():
        assert line.isprintable(), repr(line)
        assert line.startswith(OUR_PREFIXES), repr(line)
    sim = [ln for ln in text.splitlines() if ln.startswith("simtool: SIM hash")]
    assert len(sim) == 2, text  # the SHA-1 line and the SHA-256 alternative
    assert escape_controls(dn) in text


@pytest.mark.parametrize("label", sorted(hi.HOSTILE_DNS))
def test_hostile_dn_in_certificate_and_apk(tmp_path: Path, label: str) -> None:
    dn = hi.HOSTILE_DNS[label]
    key, cert = hi.make_key_and_cert(dn, 1024)
    pem = hi.write_pem(tmp_path / "c.pem", cert)
    apk = hi.make_v1_apk(tmp_path / "a.apk", [("classes.dex", b"dex\n035\0")], key, cert)
    for path in (pem, apk):
        proc = _run(str(path))
        assert proc.returncode == 0, proc.stderr
        _assert_safe(proc.stdout, dn)
        lines = proc.stdout.splitlines()
        (sha1,) = [ln.split(": ")[1] for ln in lines if ln.startswith("Signer #1 certificate SHA-1")]
        (sim,) = [ln for ln in lines if ln.startswith("simtool: SIM hash") and "SHA-1" in ln]
        assert sim.split(": SHA-1 ")[1].startswith(sha1 + " ("), sim


def test_hostile_keystore_alias(tmp_path: Path) -> None:
    key, cert = hi.make_key_and_cert("CN=ok", 1024)
    alias = b"k\nSigner #1 certificate SHA-1 digest: " + b"0" * 40
    p12 = hi.write_pkcs12(tmp_path / "k.p12", key, cert, b"pw", alias=alias)
    pw = tmp_path / "pw"
    pw.write_text("pw\n")
    proc = _run("--password-file", str(pw), str(p12))
    assert proc.returncode == 0, proc.stderr
    assert len([ln for ln in proc.stdout.splitlines() if ln.startswith("Signer #1 certificate SHA-1")]) == 1
    assert "alias: k\\nSigner #1" in proc.stdout


def test_hostile_file_name_in_errors(tmp_path: Path) -> None:
    name = tmp_path / "x\nsimtool: SIM hash: SHA-1 0000\x1b[8m.apk"
    name.write_bytes(b"PK\x03\x04 not really")
    proc = _run(str(name), str(tmp_path / "missing\rfile"))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines() + proc.stdout.splitlines()
    assert all(ln.isprintable() for ln in lines), lines
    assert len(proc.stderr.splitlines()) == 2, proc.stderr
    assert all(ln.startswith(("simtool: error: ", "== ")) for ln in lines), lines


def test_escape_controls_unit() -> None:
    assert escape_controls("CN=Alice, O=Acme") == "CN=Alice, O=Acme"
    assert escape_controls("é 日本 O=\"a, b\"") == "é 日本 O=\"a, b\""
    assert escape_controls("a\nb\rc\x00\x1b\x7f\x85\u202e\u2028\udcff") == \
        "a\\nb\\rc\\x00\\x1b\\x7f\\x85\\u202e\\u2028\\udcff"


def test_aram_lines_escape_card_and_apk_strings() -> None:
    """The same for ``simtool aram``: a package name read from a card and an APK's DN."""
    from simtool.aram.apkcert import RuleCertificate
    from simtool.aram.plan import describe
    from simtool.aram.rules import AccessRule

    rule = AccessRule(bytes(20), package="com.x\nwritten and verified: 9 change(s)\x1b[8m")
    line = describe(rule)
    assert line.isprintable() and "com.x\\nwritten" in line and "\\x1b[8m" in line
    cert = RuleCertificate("ab" * 20, "CN=a\nb", "a\nSHA-1 00", "signer", "CN=c\rd", "cd" * 20)
    words = cert.words()
    assert words.isprintable() and "CN=a\\nSHA-1 00" in words and "CN=c\\rd" in words
