"""Source stamp (APK Signing Block id ``0x6dff800d``): who built/distributed the APK.

Not a signing certificate Android checks for carrier privileges — reported for completeness,
as apksigner prints it. Layout (little-endian, "prefixed" = u32 length + bytes)::

    prefixed stamp block:
        prefixed certificate               (its SHA-256 is also the ZIP entry "stamp-cert-sha256")
        prefixed sequence of schemes:      (u32 scheme id 1/2/3, prefixed signatures)
        [prefixed attributes, prefixed signatures over them]

Each scheme's signatures are over that scheme's content digests as its signers declare them,
encoded as a sequence of (u32 content digest id, prefixed digest) sorted by id (apksig
``V2SourceStampVerifier``). Like apksig, every problem is a warning: a broken stamp does not
make an otherwise verified APK fail.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from . import algorithms
from .bytereader import ByteReader
from .certs import Certificate, parse_certificate
from .errors import ApkError

STAMP_CERT_ENTRY = "stamp-cert-sha256"
V31_SCHEME_ID = 31
CONTENT_DIGEST_IDS = {algorithms.CHUNKED_SHA256: 1, algorithms.CHUNKED_SHA512: 2,
                      algorithms.VERITY_CHUNKED_SHA256: 3, "SHA256": 4}


@dataclass(frozen=True)
class StampResult:
    """The stamp certificate (when readable) and whether every stamp signature verified."""

    certificate: Certificate | None
    verified: bool
    warnings: tuple[str, ...]


def encode_digests(digests: dict[str, bytes]) -> bytes:
    """A scheme's content digests as the stamp signs them: sorted (id, prefixed digest) pairs."""
    out = b""
    for digest_id, value in sorted((CONTENT_DIGEST_IDS[a], v) for a, v in digests.items()):
        pair = struct.pack("<II", digest_id, len(value)) + value
        out += struct.pack("<I", len(pair)) + pair
    return out


def _check_signatures(data: bytes, cert: Certificate, signatures: ByteReader, what: str) -> str | None:
    """None when every known-algorithm signature over ``data`` verifies, else the warning."""
    items = []
    while signatures.remaining():
        item = signatures.prefixed(f"{what} signature")
        items.append((item.u32("stamp signature algorithm"), item.prefixed_bytes("stamp signature")))
    known = [(a, sig) for a, sig in items if a in algorithms.ALGORITHMS]
    if not known:
        return f"SourceStamp: no supported signature for {what}"
    try:
        key = algorithms.load_public_key(cert.spki)
    except algorithms.BadPublicKey as exc:
        return f"SourceStamp: unusable public key: {exc}"
    for alg_id, sig in known:
        alg = algorithms.ALGORITHMS[alg_id]
        if not alg.verify(key, sig, data):
            return f"SourceStamp: {alg.name} signature over {what} did not verify"
    return None


def verify_stamp(value: bytes | None, cert_digest: bytes, scheme_digests: dict[int, dict[str, bytes]],
                 path: str) -> StampResult:
    """Check a v2 source stamp block against the ``stamp-cert-sha256`` entry's content and the
    content digests each verified scheme's signers declare ({1: v1, 2: v2, 3: v3, 31: v3.1})."""
    if value is None:
        return StampResult(None, False, ("SourceStamp: the APK has a stamp-cert-sha256 entry but "
                                         "no source stamp block",))
    try:
        block = ByteReader(value, path).prefixed("source stamp block")
        cert = parse_certificate(block.prefixed_bytes("stamp certificate"), path)
        if hashlib.sha256(cert.encoded).digest() != cert_digest:
            return StampResult(cert, False, ("SourceStamp: certificate differs from the one "
                                             f"{STAMP_CERT_ENTRY} names",))
        signed: dict[int, ByteReader] = {}
        for item in block.sequence("stamp signed schemes"):
            scheme_id = item.u32("stamp scheme id")
            signed[scheme_id] = item.prefixed("stamp scheme signatures")
        for scheme_id, digests in sorted(scheme_digests.items()):
            if scheme_id == V31_SCHEME_ID:
                continue
            if scheme_id not in signed:
                return StampResult(cert, False, (f"SourceStamp: no signature for scheme {scheme_id}",))
            problem = _check_signatures(encode_digests(digests), cert, signed[scheme_id],
                                        f"scheme {scheme_id} digests")
            if problem:
                return StampResult(cert, False, (problem,))
        if block.remaining():
            attrs = block.prefixed_bytes("stamp attributes")
            problem = _check_signatures(attrs, cert, block.prefixed("stamp attribute signatures"),
                                        "stamp attributes")
            if problem:
                return StampResult(cert, False, (problem,))
    except ApkError as exc:
        return StampResult(None, False, (f"SourceStamp: malformed stamp block: {exc.what}",))
    return StampResult(cert, True, ())
