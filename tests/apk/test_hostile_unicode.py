"""``simtool digest --json`` on text that is not valid Unicode: certificate names holding a lone
UTF-16 surrogate (BMPString), CESU-8 surrogate bytes (UTF8String) or a surrogate code point
(UniversalString), a manifest package name with a lone UTF-16 surrogate, and file names that are
not UTF-8 (Linux file names are bytes; Python carries the undecodable ones as lone surrogates).

Every output must be strict JSON: it parses, and every string in it is encodable as UTF-8 — no
``\\ud800``-style escape of a lone surrogate, which RFC 8259 leaves undefined and I-JSON (RFC
7493) forbids (Rust's serde_json refuses such a document; Python reads it into a str that cannot
be written out as UTF-8). Undecodable text is U+FFFD, as docs/simtool-digest.md says.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.apk import hostile_inputs as hi
from tests.rig.digest_cli import simtool_argv

PLACEHOLDER = b"\x0c\x0cPLACEHOLDERX"  # a 12-byte UTF8String CN, in subject and issuer
NAMES = {  # (DER string type, 12 content bytes) and the subject simtool reports
    "bmp-lone-high": (0x1E, "AB".encode("utf-16-be") + b"\xd8\x00" + "CDE".encode("utf-16-be"),
                      "CN=AB\ufffdCDE"),
    "bmp-lone-low": (0x1E, b"\xdc\x01" + "ABCDE".encode("utf-16-be"), "CN=\ufffdABCDE"),
    "utf8-cesu-surrogate": (0x0C, b"AB\xed\xa0\x80CDEFGHI", "CN=AB\ufffd\ufffd\ufffdCDEFGHI"),
    "utf8-invalid-bytes": (0x0C, b"AB\xff\xfeCDEFGHIJ", "CN=AB\ufffd\ufffdCDEFGHIJ"),
    "universal-surrogate": (0x1C, b"\x00\x00\xd8\x00" + "AB".encode("utf-32-be"), "CN=\ufffdAB"),
}


def _digest(*args: str | bytes, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*simtool_argv(), "digest", *args], capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def _strict(out: bytes) -> list[dict]:
    """The document, checked strict: ASCII, and every string UTF-8-encodable (a lone-surrogate
    escape reads back as a lone surrogate; an escaped pair as its character)."""
    text = out.decode("ascii")
    doc = json.loads(text)
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # raises on any surrogate left
    return doc


def _cert_with_name(kind: str) -> bytes:
    tag, content, _ = NAMES[kind]
    _, cert = hi.make_key_and_cert("PLACEHOLDERX", 1024)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert der.count(PLACEHOLDER) == 2  # issuer and subject (self-signed)
    return der.replace(PLACEHOLDER, bytes([tag, len(content)]) + content)


@pytest.mark.parametrize("kind", sorted(NAMES))
def test_certificate_names_that_are_not_unicode(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "c.der"
    path.write_bytes(_cert_with_name(kind))
    proc = _digest("--json", str(path))
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    (report,) = _strict(proc.stdout)
    assert report["signers"][0]["subject"] == NAMES[kind][2]
    assert report["recommended_subject"] == NAMES[kind][2]
    text = _digest(str(path))  # the text output: one printable line for the name
    dn = [ln for ln in text.stdout.decode().splitlines() if ln.startswith("Signer #1 certificate DN")]
    assert dn == ["Signer #1 certificate DN: " + NAMES[kind][2]]


def test_package_name_with_a_lone_utf16_surrogate(tmp_path: Path) -> None:
    with zipfile.ZipFile(hi.MANIFEST_SOURCE) as z:
        xml = bytearray(z.read("AndroidManifest.xml"))
    at = xml.find("android.appsecurity.cts.tinyapp".encode("utf-16-le"))
    xml[at + 2 : at + 4] = b"\x00\xd8"  # "a" + a lone high surrogate + "droid…"
    key, cert = hi.make_key_and_cert("CN=ok", 1024)
    apk = hi.make_v1_apk(tmp_path / "a.apk", [("classes.dex", b"dex\n035\0")], key, cert,
                         manifest=bytes(xml))
    proc = _digest("--json", str(apk))
    assert proc.returncode == 0, proc.stderr
    (report,) = _strict(proc.stdout)
    assert report["package"] == "a\ufffddroid.appsecurity.cts.tinyapp"


def _jks(*entries: tuple[bytes, bytes]) -> bytes:
    """A JKS (version 2) of trusted-certificate entries: (raw alias bytes, certificate DER)."""
    body = b"".join(struct.pack(">IH", 2, len(a)) + a + struct.pack(">QH", 0, 5) + b"X.509"
                    + struct.pack(">I", len(der)) + der for a, der in entries)
    return struct.pack(">III", 0xFEEDFEED, 2, len(entries)) + body + bytes(20)


def test_jks_aliases_in_javas_modified_utf8(tmp_path: Path) -> None:
    """Java writes an alias with DataOutput.writeUTF: U+1F600 as a CESU-8 surrogate pair and
    NUL as c0 80. Read as plain UTF-8 (before), "key😀" came out as six U+FFFD; a lone
    surrogate or a stray byte is still U+FFFD."""
    ders = [hi.make_key_and_cert(f"CN=c{i}", 1024)[1].public_bytes(serialization.Encoding.DER)
            for i in range(3)]
    path = tmp_path / "k.jks"
    aliases = [b"key\xed\xa0\xbd\xed\xb8\x80\xc0\x80x", b"lone\xed\xa0\x80", b"bad\xff"]
    path.write_bytes(_jks(*zip(aliases, ders)))
    proc = _digest("--json", str(path))
    assert proc.returncode == 0, proc.stderr
    (report,) = _strict(proc.stdout)
    assert [s["name"] for s in report["signers"]] == ["key\U0001f600\x00x", "lone\ufffd",
                                                      "bad\ufffd"]
    text = _digest(str(path)).stdout.decode()
    assert "alias: key\U0001f600\\x00x" in text  # NUL escaped in text output


HIGH, LOW = b"\xed\xa0\xbd", b"\xed\xb8\x80"  # U+1F600 as Java writes it: two CESU-8 halves
SMILE = "\U0001f600"


@pytest.mark.parametrize(("raw", "text"), [
    (b"\xff" + HIGH + LOW, "\ufffd" + SMILE),  # a stray byte before a valid pair
    (HIGH + LOW + b"\xff", SMILE + "\ufffd"),  # … and after it
    (b"k\xfe\xffb\xc0\x80" + HIGH + LOW + b"x", "k\ufffd\ufffdb\x00" + SMILE + "x"),
    (HIGH + b"\xff" + LOW, "\ufffd\ufffd\ufffd"),  # a byte between the halves: no pair
    (LOW + HIGH, "\ufffd\ufffd"),  # halves the wrong way round
    (HIGH + HIGH + LOW, "\ufffd" + SMILE),  # a lone half, then a pair
    (HIGH + LOW + b"\xed\xa0", SMILE + "\ufffd\ufffd"),  # a half cut short: each byte
    (b"\xe2\x82A" + HIGH + LOW, "\ufffd\ufffdA" + SMILE),  # a cut 3-byte sequence: each byte
    (b"\xc1\x81" + HIGH + LOW, "\ufffd\ufffd" + SMILE),  # an overlong other than c0 80
    ("é€".encode() + HIGH + LOW + b"\x80", "é€" + SMILE + "\ufffd"),  # 2- and 3-byte forms
    (b"\xf0\x9f\x98\x80\xff", SMILE + "\ufffd"),  # plain UTF-8's 4-byte form also reads
])
def test_java_utf_decodes_each_sequence_on_its_own(raw: bytes, text: str) -> None:
    """Before, one invalid byte anywhere sent the whole alias through plain UTF-8, and a valid
    pair beside it came out as six U+FFFD. Now each sequence is decoded on its own: a pair is
    its character, each invalid byte and each lone half is one U+FFFD."""
    from simtool.apk.keystore import java_utf

    decoded = java_utf(raw)
    assert decoded == text
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in decoded)  # no surrogate ever


def test_jks_alias_with_a_stray_byte_beside_a_pair(tmp_path: Path) -> None:
    """Through the CLI, on a keystore made by keytool (alias "clé😀x", which keytool writes as
    cl c3 a9, the two CESU-8 halves, x) with a stray ff put in before the x (length fixed; the
    integrity digest is not checked without a password). Fails before: "cl\u00e9" and seven
    U+FFFD then "x"."""
    path = tmp_path / "k.jks"
    subprocess.run(["keytool", "-genkeypair", "-keystore", str(path), "-storetype", "JKS",
                    "-storepass", "secret12", "-keypass", "secret12", "-alias", "clé😀x",
                    "-keyalg", "RSA", "-keysize", "1024", "-dname", "CN=t", "-validity", "2"],
                   check=True, capture_output=True, timeout=120)
    data = path.read_bytes()
    alias = "clé".encode() + HIGH + LOW + b"x"
    at = data.index(struct.pack(">H", len(alias)) + alias)
    assert _strict(_digest("--json", str(path)).stdout)[0]["signers"][0]["name"] == "clé😀x"
    broken = alias[:-1] + b"\xff" + alias[-1:]
    path.write_bytes(data[:at] + struct.pack(">H", len(broken)) + broken
                     + data[at + 2 + len(alias):])
    proc = _digest("--json", str(path))
    assert proc.returncode == 0, proc.stderr
    assert _strict(proc.stdout)[0]["signers"][0]["name"] == "clé😀\ufffdx"


def test_file_names_that_are_not_utf8(tmp_path: Path) -> None:
    """Fails before: the path went out as "bad\\udcff.der", a lone-surrogate escape."""
    folder = os.fsencode(tmp_path)
    good = folder + b"/bad\xff\xfe.der"
    with open(good, "wb") as fh:
        fh.write(_cert_with_name("bmp-lone-high"))
    broken = folder + b"/broken\xc3(.apk"
    with open(broken, "wb") as fh:
        fh.write(b"PK\x03\x04 not really")
    proc = _digest("--json", good, broken, folder + b"/missing\xed\xa0\x80")
    assert proc.returncode == 1 and b"Traceback" not in proc.stderr, proc.stderr
    reports = _strict(proc.stdout)
    assert [r["path"] for r in reports] == [
        str(tmp_path) + "/bad\ufffd\ufffd.der", str(tmp_path) + "/broken\ufffd(.apk",
        str(tmp_path) + "/missing\ufffd\ufffd\ufffd"]
    assert reports[0]["verified"] is True and reports[0]["signers"][0]["subject"] == "CN=AB\ufffdCDE"
    assert all(r["errors"] and not r["verified"] for r in reports[1:]), reports
    lines = proc.stderr.decode("ascii").splitlines()  # messages: one line each, escaped
    assert len(lines) == 2 and "/broken\\udcc3(.apk: " in lines[0], lines
    assert all(ln.isprintable() and ln.startswith("simtool: error: ") for ln in lines), lines


def test_json_text_replaces_surrogates_and_keeps_valid_text() -> None:
    from carrierkit.output import json_text

    doc = {"a\udcff": ["x\ud800y", "ok \u00e9 \U0001f600", 1, None], "plain": "CN=\\ud800"}
    text = json_text(doc)
    assert json.loads(text) == {"a\ufffd": ["x\ufffdy", "ok \u00e9 \U0001f600", 1, None],
                                "plain": "CN=\\ud800"}  # a literal backslash is left alone
    assert text == json.dumps(json.loads(text))
    assert json_text({"n": [1, 2]}, indent=2) == json.dumps({"n": [1, 2]}, indent=2)
