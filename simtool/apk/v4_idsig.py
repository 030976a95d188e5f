"""APK Signature Scheme v4: the ``<apk>.idsig`` file beside an APK (incremental install).

Layout (little-endian, "prefixed" = u32 length + bytes)::

    u32 version (2)
    prefixed hashing info: u32 hash algorithm, u8 log2 block size, prefixed salt, prefixed root hash
    prefixed signing infos:
        signing info: prefixed apk digest, prefixed certificate, prefixed additional data,
                      prefixed public key, u32 signature algorithm, prefixed signature
        [v4.1: u32 block id (v3.1), u32 size, signing info]   -- one per extra block

Checked as apksig does: the signature over the signed data (size, file size, hashing info,
apk digest, certificate, additional data), the certificate's key against the public key, and
the apk digest and certificate against the v2/v3 (and v3.1) signer; with ``--verify`` the
Merkle root of the whole file is recomputed in the streaming pass and compared with
``rawRootHash`` (the tree stored after the signature is not read).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from . import algorithms
from .bytereader import ByteReader
from .certs import Certificate, parse_certificate
from .errors import ApkError
from .v2v3 import SchemeResult

MAX_IDSIG = 64 << 20  # the signature part is < 8 KiB; a Merkle tree may follow, never read
INCFS_MAX = 8192


@dataclass(frozen=True)
class HashingInfo:
    """How the .idsig's Merkle tree over the whole APK is built, and its root."""

    salt: bytes
    root_hash: bytes


@dataclass(frozen=True)
class V4Signer:
    """One signing info of the .idsig: the digest of the APK it claims and its certificate."""

    apk_digest: bytes
    certificate: Certificate


def _signing_info(r: ByteReader, path: str, prefix: bytes, file_size: int) -> V4Signer:
    """Parse one signing info and verify its signature over the signed data; raises ApkError."""
    apk_digest = r.prefixed_bytes("v4 apk digest")
    cert_bytes = r.prefixed_bytes("v4 certificate")
    additional = r.prefixed_bytes("v4 additional data")
    public_key = r.prefixed_bytes("v4 public key")
    alg_id = r.u32("v4 signature algorithm")
    signature = r.prefixed_bytes("v4 signature")
    cert = parse_certificate(cert_bytes, path)
    body = (struct.pack("<Q", file_size) + prefix
            + b"".join(struct.pack("<I", len(x)) + x for x in (apk_digest, cert_bytes, additional)))
    signed = struct.pack("<I", 4 + len(body)) + body
    alg = algorithms.ALGORITHMS.get(alg_id)
    if alg is None:
        raise ApkError(path, f"v4 signature uses unknown algorithm 0x{alg_id:04x}")
    if not algorithms.same_public_key(cert.spki, public_key):
        raise ApkError(path, "v4 signature: public key differs from the certificate's")
    try:
        key = algorithms.load_public_key(public_key)
    except algorithms.BadPublicKey as exc:
        raise ApkError(path, f"v4 signature: unusable public key: {exc}") from None
    if not alg.verify(key, signature, signed):
        raise ApkError(path, f"v4 signature: {alg.name} signature did not verify")
    return V4Signer(apk_digest, cert)


def parse_idsig(idsig: Path, apk_size: int) -> tuple[list[V4Signer], HashingInfo]:
    """Parse and verify the signing infos of an .idsig for an APK of ``apk_size`` bytes."""
    path = str(idsig)
    try:
        with open(idsig, "rb") as fh:
            data = fh.read(INCFS_MAX + 16)
    except OSError as exc:
        raise ApkError(path, f"cannot read: {exc.strerror or exc}") from None
    r = ByteReader(data, path)
    version = r.u32("v4 version")
    if version != 2:
        raise ApkError(path, f"unsupported v4 signature version {version}", 0)
    hashing = r.prefixed("v4 hashing info")
    infos = r.prefixed("v4 signing infos")
    h_alg, log2 = hashing.u32("hash algorithm"), hashing.take(1, "log2 block size")
    salt = hashing.prefixed_bytes("salt")
    root = hashing.prefixed_bytes("root hash")
    if h_alg != 1 or log2 != b"\x0c":
        raise ApkError(path, f"v4 hashing info: unsupported algorithm {h_alg} / block size 2^{log2[0]}")
    prefix = (struct.pack("<I", h_alg) + log2 + struct.pack("<I", len(salt)) + salt
              + struct.pack("<I", len(root)) + root)
    signers = [_signing_info(infos, path, prefix, apk_size)]
    while infos.remaining():
        infos.u32("v4 block id")
        block = infos.prefixed("v4 block")
        signers.append(_signing_info(block, path, prefix, apk_size))
    return signers, HashingInfo(salt, root)


def check_v4(idsig: Path, apk_size: int, results: dict[str, SchemeResult],
             verified: set[str]) -> tuple[list[str], list[V4Signer], HashingInfo | None]:
    """Errors from matching the .idsig against the verified v3/v3.1 (or v2) signers, its
    signers, and its hashing info (for the root-hash check of ``--verify``)."""
    try:
        signers, hashing = parse_idsig(idsig, apk_size)
    except ApkError as exc:
        return [exc.what], [], None
    pairs: list[tuple[V4Signer, SchemeResult | None]] = []
    if "v3" in verified:
        want = 2 if "v3.1" in verified else 1
        if len(signers) != want:
            return [f"v4 signature has {len(signers)} signing infos, expected {want}"], signers, hashing
        pairs.append((signers[0], results.get("v3")))
        if want == 2:
            pairs.append((signers[1], results.get("v3.1")))
    elif "v2" in verified:
        if len(signers) != 1:
            return ["v4 signature has several signing infos but the APK has no v3 block"], signers, hashing
        pairs.append((signers[0], results.get("v2")))
    else:
        return ["v4 signature needs a verified v2 or v3 signature"], signers, hashing
    errors = []
    for v4, res in pairs:
        if res is None or not res.signers:
            continue
        block_signer = res.signers[-1]
        if block_signer.certificate is None or \
                block_signer.certificate.encoded != v4.certificate.encoded:
            errors.append(f"v4 signature certificate differs from the {res.scheme} signer's")
        elif v4.apk_digest not in block_signer.digests.values():
            errors.append(f"v4 signature apk digest does not match the {res.scheme} signer's "
                          f"digests: {v4.apk_digest.hex()}")
    return errors, signers, hashing
