"""Proof-of-rotation (signing certificate lineage) from a v3 signer's additional attribute.

Value layout (apksig ``V3SigningCertificateLineage``), little-endian::

    u32 version (1)
    repeated, each u32-length-prefixed node:
        u32-prefixed signed data:  u32-prefixed certificate | u32 sig algorithm id (of this signature)
        u32 flags
        u32 signature algorithm id  (the one this node's key uses to sign the next node)
        u32-prefixed signature      (by the previous node's key over this node's signed data;
                                     empty for the first node)

Each node's signature is checked with the previous node's certificate, so a node cannot be
inserted by someone without the old key.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import algorithms
from .bytereader import ByteReader
from .certs import Certificate, parse_certificate
from .errors import ApkError

LINEAGE_VERSION = 1
MAX_NODES = 64


@dataclass(frozen=True)
class LineageEntry:
    """One certificate in the history, oldest first, with its capability flags."""

    certificate: Certificate
    flags: int
    sig_algorithm: int


def parse_lineage(value: bytes, path: str, base: int = 0) -> tuple[LineageEntry, ...]:
    """Parse and verify a lineage attribute value. Raises ApkError naming the failing node."""
    r = ByteReader(value, path, base)
    version = r.u32("lineage version")
    if version != LINEAGE_VERSION:
        raise ApkError(path, f"unsupported signing certificate lineage version {version}", base)
    nodes: list[LineageEntry] = []
    prev: Certificate | None = None
    prev_alg = 0
    while r.remaining():
        n = len(nodes) + 1
        if n > MAX_NODES:
            raise ApkError(path, f"lineage has more than {MAX_NODES} certificates", r.base + r.pos)
        node = r.prefixed(f"lineage node #{n}")
        signed = node.prefixed(f"lineage node #{n} signed data")
        flags = node.u32(f"lineage node #{n} flags")
        sig_alg = node.u32(f"lineage node #{n} signature algorithm")
        signature = node.prefixed_bytes(f"lineage node #{n} signature")
        cert_bytes = signed.prefixed_bytes(f"lineage node #{n} certificate")
        signed_alg = signed.u32(f"lineage node #{n} signed algorithm")
        cert = parse_certificate(cert_bytes, path)
        if prev is not None:
            if signed_alg != prev_alg:
                raise ApkError(path, f"lineage node #{n}: signature algorithm 0x{signed_alg:04x} "
                               f"differs from the 0x{prev_alg:04x} the previous node declared")
            alg = algorithms.ALGORITHMS.get(prev_alg)
            if alg is None:
                raise ApkError(path, f"lineage node #{n}: unknown signature algorithm "
                               f"0x{prev_alg:04x}")
            try:
                key = algorithms.load_public_key(prev.spki)
            except algorithms.BadPublicKey as exc:
                raise ApkError(path, f"lineage node #{n - 1}: unusable public key: {exc}") from None
            if not alg.verify(key, signature, bytes(signed.data)):
                raise ApkError(path, f"lineage node #{n} ({cert.subject}): signature by the "
                               f"previous certificate did not verify")
        if any(e.certificate.encoded == cert.encoded for e in nodes):
            raise ApkError(path, f"lineage node #{n}: certificate {cert.subject} appears twice")
        nodes.append(LineageEntry(cert, flags, sig_alg))
        prev, prev_alg = cert, sig_alg
    if not nodes:
        raise ApkError(path, "signing certificate lineage is empty", base)
    return tuple(nodes)
