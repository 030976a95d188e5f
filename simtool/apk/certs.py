"""X.509 certificates as stored in a signature: digests over the stored bytes, subject, key.

Digests are taken over the certificate bytes exactly as the APK stores them (a BER or otherwise
non-canonical encoding included), because that is what Android hashes for carrier privileges.
The subject is printed the way apksigner prints it (Java's ``X500Name.toString()``): most
specific RDN first, ``", "`` between RDNs, ``" + "`` inside a multi-valued RDN.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from . import der
from .errors import ApkError

_KEYWORDS = {
    "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O",
    "2.5.4.11": "OU", "2.5.4.12": "T", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
    "2.5.4.46": "DNQUALIFIER", "2.5.4.4": "SURNAME", "2.5.4.42": "GIVENNAME", "2.5.4.43": "INITIALS",
    "2.5.4.44": "GENERATION", "1.2.840.113549.1.9.1": "EMAILADDRESS",
    "0.9.2342.19200300.100.1.1": "UID", "2.5.4.5": "SERIALNUMBER",
}
_SPECIAL = set(',+=\n<>#;\\"')


@dataclass(frozen=True)
class CertDigests:
    """A certificate's subject and its digests (lowercase hex over the bytes as stored)."""

    subject: str
    sha1: str
    sha256: str
    md5: str


@dataclass(frozen=True)
class Certificate:
    """A parsed certificate: ``encoded`` as stored, the fields signature checks need."""

    encoded: bytes
    subject: str
    issuer_raw: bytes  # the issuer Name's encoding, compared with a PKCS#7 IssuerAndSerialNumber
    issuer: str  # rendered like ``subject``; compared case-insensitively when the bytes differ
    serial: int
    spki: bytes  # SubjectPublicKeyInfo encoding, as stored

    @property
    def digests(self) -> CertDigests:
        """Subject and SHA-1 / SHA-256 / MD5 of the stored bytes."""
        return CertDigests(
            subject=self.subject,
            sha1=hashlib.sha1(self.encoded).hexdigest(),
            sha256=hashlib.sha256(self.encoded).hexdigest(),
            md5=hashlib.md5(self.encoded).hexdigest(),
        )


def _string_value(tlv: der.Tlv) -> str:
    """A DirectoryString as text (unknown types as ``#hex`` of the encoding, as Java does)."""
    codecs = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1E: "utf-16-be",
              0x1C: "utf-32-be", 0x1A: "ascii", 0x12: "ascii"}
    codec = codecs.get(tlv.tag)
    if codec is None:
        return "#" + tlv.raw.hex()
    return tlv.content.decode(codec, errors="replace")


def _quote(value: str) -> str:
    if value and (set(value) & _SPECIAL or value[0] == " " or value[-1] == " "):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def format_name(name: der.Tlv, path: str) -> str:
    """Render an X.501 Name like Java's X500Name.toString (reverse of the encoded order)."""
    rdns = []
    for rdn in name.children(path):
        avas = []
        for ava in rdn.children(path):
            parts = ava.children(path)
            if len(parts) != 2 or parts[0].tag != der.OID:
                raise ApkError(path, "malformed attribute in certificate name", ava.offset)
            oid = der.decode_oid(parts[0].content)
            keyword = _KEYWORDS.get(oid, f"OID.{oid}")
            avas.append(f"{keyword}={_quote(_string_value(parts[1]))}")
        rdns.append(" + ".join(avas))
    return ", ".join(reversed(rdns))


def parse_certificate(encoded: bytes, path: str) -> Certificate:
    """Parse the stored bytes of an X.509 certificate (BER accepted). Raises ApkError."""
    cert = der.parse_single(encoded, path, "certificate")
    top = cert.expect(der.SEQUENCE, path, "certificate").children(path)
    if len(top) != 3:
        raise ApkError(path, "certificate is not a SEQUENCE of 3 elements", cert.offset)
    tbs = top[0].expect(der.SEQUENCE, path, "tbsCertificate").children(path)
    if tbs and tbs[0].tag == 0xA0:  # explicit [0] version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise ApkError(path, "tbsCertificate has too few fields", top[0].offset)
    serial = der.decode_int(tbs[0].expect(der.INTEGER, path, "serial number").content, path,
                            tbs[0].offset)
    issuer = tbs[2].expect(der.SEQUENCE, path, "issuer")
    subject = tbs[4].expect(der.SEQUENCE, path, "subject")
    spki = tbs[5].expect(der.SEQUENCE, path, "subjectPublicKeyInfo")
    return Certificate(
        encoded=bytes(encoded),
        subject=format_name(subject, path),
        issuer_raw=issuer.raw,
        issuer=format_name(issuer, path),
        serial=serial,
        spki=spki.raw,
    )


def same_name(a: str, b: str) -> bool:
    """X.500 name equality as Java compares principals: ignoring case, string types and runs
    of spaces (our rendering already drops the string type)."""
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())

