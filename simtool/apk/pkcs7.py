"""PKCS#7 / CMS SignedData as JAR signature blocks (META-INF/*.RSA|DSA|EC) use it.

Parsed with our own bounded reader (``der.py``) so certificate bytes stay exactly as stored.
The signer's certificate is the one its SignerInfo names by issuer + serial number, not simply
the first one in the bag (apksig test ``v1-only-pkcs7-cert-bag-first-cert-not-used``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import der
from .certs import Certificate, format_name, parse_certificate, same_name
from .errors import ApkError

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_DATA = "1.2.840.113549.1.7.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
DIGEST_OIDS = {
    "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512", "2.16.840.1.101.3.4.2.4": "sha224",
}
# Signature algorithm OIDs -> (key kind, digest implied by the OID or None to use digestAlgorithm)
SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.1": ("RSA", None), "1.2.840.113549.1.1.5": ("RSA", "sha1"),
    "1.2.840.113549.1.1.11": ("RSA", "sha256"), "1.2.840.113549.1.1.12": ("RSA", "sha384"),
    "1.2.840.113549.1.1.13": ("RSA", "sha512"), "1.2.840.113549.1.1.14": ("RSA", "sha224"),
    "1.2.840.10045.2.1": ("EC", None), "1.2.840.10045.4.1": ("EC", "sha1"),
    "1.2.840.10045.4.3.2": ("EC", "sha256"), "1.2.840.10045.4.3.3": ("EC", "sha384"),
    "1.2.840.10045.4.3.4": ("EC", "sha512"), "1.2.840.10045.4.3.1": ("EC", "sha224"),
    "1.2.840.10040.4.1": ("DSA", None), "1.2.840.10040.4.3": ("DSA", "sha1"),
    "2.16.840.1.101.3.4.3.1": ("DSA", "sha224"), "2.16.840.1.101.3.4.3.2": ("DSA", "sha256"),
}


@dataclass(frozen=True)
class SignerInfo:
    """One SignerInfo: who (issuer + serial), how (digest, signature kind), signed attributes."""

    issuer_raw: bytes
    issuer: str
    serial: int
    digest: str
    key_kind: str
    signature_oid: str
    signed_attrs: bytes | None  # the [0] IMPLICIT encoding re-tagged as SET (what is signed)
    message_digest: bytes | None
    content_type: str | None
    signature: bytes


@dataclass(frozen=True)
class SignedData:
    """The parts of a SignedData a JAR verifier needs."""

    certificates: tuple[Certificate, ...]
    signer_infos: tuple[SignerInfo, ...]

    def certificate_for(self, info: SignerInfo) -> Certificate | None:
        """The bag certificate the SignerInfo names by issuer + serial, or None."""
        for cert in self.certificates:
            if cert.serial == info.serial and (cert.issuer_raw == info.issuer_raw
                                               or same_name(cert.issuer, info.issuer)):
                return cert
        return None


_HASH_NAMES = {"md5": "MD5", "sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256",
               "sha384": "SHA-384", "sha512": "SHA-512"}
_KEY_NAMES = {"RSA": "RSA", "DSA": "DSA", "EC": "ECDSA"}
# API levels on which Android verifies a JAR signature made with a digest algorithm and a
# signature OID that names only the key type (apksig ``OidConstants``). A signature OID that
# names a hash too (e.g. SHA256withRSA) is listed in _WITH_HASH by that hash; one whose hash
# differs from the digest algorithm works on API 21-23 only.
_KEY_ONLY = {
    ("RSA", "md5"): ((0, None),), ("RSA", "sha1"): ((0, None),),
    ("RSA", "sha224"): ((0, 8), (21, None)), ("RSA", "sha256"): ((0, 8), (18, None)),
    ("RSA", "sha384"): ((18, None),), ("RSA", "sha512"): ((18, None),),
    ("DSA", "sha1"): ((0, None),), ("DSA", "sha224"): ((22, None),),
    ("DSA", "sha256"): ((22, None),),
    ("EC", "sha1"): ((18, None),), ("EC", "sha224"): ((21, None),), ("EC", "sha256"): ((18, None),),
    ("EC", "sha384"): ((18, None),), ("EC", "sha512"): ((18, None),),
}
_WITH_HASH = {
    ("RSA", "md5"): ((0, 8), (21, None)), ("RSA", "sha1"): ((0, None),),
    ("RSA", "sha224"): ((0, 8), (21, None)), ("RSA", "sha256"): ((0, 8), (18, None)),
    ("RSA", "sha384"): ((21, None),), ("RSA", "sha512"): ((21, None),),
    ("DSA", "sha1"): ((9, None),), ("DSA", "sha224"): ((21, None),),
    ("DSA", "sha256"): ((21, None),),
    ("EC", "sha1"): ((18, None),), ("EC", "sha224"): ((21, None),), ("EC", "sha256"): ((21, None),),
    ("EC", "sha384"): ((21, None),), ("EC", "sha512"): ((21, None),),
}
_MISMATCH_ONLY_21 = {("sha224", "sha256"), ("sha256", "sha1"), ("sha512", "sha384")}


def algorithm_name(info: SignerInfo) -> tuple[str, str]:
    """apksigner's names for the digest and signature algorithms of a SignerInfo."""
    key, implied = SIGNATURE_OIDS[info.signature_oid]
    sig = _KEY_NAMES[key] if implied is None else f"{_HASH_NAMES[implied]} with {_KEY_NAMES[key]}"
    return _HASH_NAMES.get(info.digest, info.digest), sig


def unsupported_api_levels(info: SignerInfo, min_sdk: int, max_sdk: int) -> list[tuple[int, int]]:
    """The API levels in [min_sdk, max_sdk] on which Android cannot verify this SignerInfo's
    digest + signature algorithm combination (empty when all can)."""
    key, implied = SIGNATURE_OIDS[info.signature_oid]
    if implied is None:
        ranges = _KEY_ONLY.get((key, info.digest), ())
    elif implied == info.digest:
        ranges = _WITH_HASH.get((key, implied), ())
    elif key == "RSA" and (info.digest, implied) in _MISMATCH_ONLY_21:
        ranges = ((21, 21),)
    else:
        ranges = ((21, 23),)
    out: list[tuple[int, int]] = []
    level = min_sdk
    for lo, hi in sorted(r if r[1] is not None else (r[0], max_sdk) for r in ranges):
        if lo > level:
            out.append((level, min(lo - 1, max_sdk)))
        level = max(level, hi + 1)
        if level > max_sdk:
            break
    if level <= max_sdk:
        out.append((level, max_sdk))
    return [r for r in out if r[0] <= r[1]]


def _signer_info(tlv: der.Tlv, path: str) -> SignerInfo:
    """Parse one SignerInfo (issuer + serial, digest and signature algorithms, signed attributes)."""
    parts = tlv.expect(der.SEQUENCE, path, "SignerInfo").children(path)
    if len(parts) < 5:
        raise ApkError(path, "SignerInfo has too few fields", tlv.offset)
    sid = parts[1].expect(der.SEQUENCE, path, "IssuerAndSerialNumber").children(path)
    if len(sid) != 2:
        raise ApkError(path, "SignerInfo does not name its certificate by issuer and serial",
                       parts[1].offset)
    digest_oid = der.decode_oid(parts[2].children(path)[0].content)
    digest = DIGEST_OIDS.get(digest_oid)
    if digest is None:
        raise ApkError(path, f"unsupported SignerInfo digest algorithm {digest_oid}", parts[2].offset)
    i = 3
    signed_attrs = message_digest = content_type = None
    if parts[i].tag == 0xA0:
        signed_attrs = b"\x31" + parts[i].raw[1:]
        for attr in parts[i].children(path):
            fields = attr.children(path)
            if len(fields) != 2:
                raise ApkError(path, "malformed signed attribute", attr.offset)
            oid = der.decode_oid(fields[0].content)
            values = fields[1].children(path)
            if not values:
                continue
            if oid == OID_MESSAGE_DIGEST:
                message_digest = values[0].content
            elif oid == OID_CONTENT_TYPE:
                content_type = der.decode_oid(values[0].content)
        i += 1
    if i + 1 >= len(parts):
        raise ApkError(path, "SignerInfo has no signature", tlv.offset)
    sig_oid = der.decode_oid(parts[i].children(path)[0].content)
    kind_digest = SIGNATURE_OIDS.get(sig_oid)
    if kind_digest is None:
        raise ApkError(path, f"unsupported SignerInfo signature algorithm {sig_oid}", parts[i].offset)
    signature = parts[i + 1].expect(der.OCTET_STRING, path, "signature").content
    serial = der.decode_int(sid[1].content, path, sid[1].offset)
    return SignerInfo(sid[0].raw, format_name(sid[0], path), serial, digest, kind_digest[0],
                      sig_oid, signed_attrs, message_digest, content_type, signature)


def parse_signed_data(data: bytes, path: str) -> SignedData:
    """Parse a ContentInfo holding SignedData. Raises ApkError on anything malformed."""
    info = der.parse_one(data, 0, path).expect(der.SEQUENCE, path, "ContentInfo").children(path)
    if len(info) < 2 or der.decode_oid(info[0].content) != OID_SIGNED_DATA or info[1].tag != 0xA0:
        raise ApkError(path, "signature block is not PKCS#7 SignedData", 0)
    body = info[1].children(path)
    if len(body) != 1:
        raise ApkError(path, "malformed PKCS#7 SignedData", info[1].offset)
    sd = body[0].expect(der.SEQUENCE, path, "SignedData").children(path)
    if len(sd) < 4:
        raise ApkError(path, "PKCS#7 SignedData has too few fields", body[0].offset)
    certs: list[Certificate] = []
    rest = sd[3:]
    if rest and rest[0].tag == 0xA0:
        for c in rest[0].children(path):
            if c.tag == der.SEQUENCE:
                certs.append(parse_certificate(c.raw, path))
        rest = rest[1:]
    if rest and rest[0].tag == 0xA1:  # CRLs
        rest = rest[1:]
    if not rest or rest[0].tag != der.SET:
        raise ApkError(path, "PKCS#7 SignedData has no SignerInfos", body[0].offset)
    infos = tuple(_signer_info(t, path) for t in rest[0].children(path))
    return SignedData(tuple(certs), infos)
