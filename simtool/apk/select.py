"""Which signers apksigner prints, and which certificate hash a SIM should hold.

apksigner (``ApkVerifier.verify``) prints the v3.1 signers and then the v3 signers when v3.1
verified, else the last v3 signer, else every v2 signer, else every v1 signer.

Android grants carrier privileges (``UiccAccessRule``) when SHA-1 or SHA-256 of any certificate
it checks equals the rule's hash. It checks the package's signing-certificate history (the
rotation lineage) or, with several signers, every signer. Which signer Android uses depends on
its version: v1 before API 24, v2 from 24, v3 from 28, v3.1 from 33. ``carrier_certificates``
lists, per SDK range, the certificates Android checks; ``recommend`` picks one present in every
range — usually the oldest certificate of the lineage — so a single hash works on every
version the APK supports.
"""

from __future__ import annotations

from dataclasses import dataclass

from .certs import CertDigests
from .report import SDK_MAX, SdkCertificates

SDK_N, SDK_P, SDK_T = 24, 28, 33


@dataclass(frozen=True)
class SchemeSigners:
    """Verified signers of one scheme: (min_sdk, max_sdk, certificates Android checks for it)."""

    scheme: str
    ranges: tuple[tuple[int, int, tuple[CertDigests, ...]], ...]


def _certs_at(sdk: int, by_scheme: dict[str, SchemeSigners]) -> tuple[CertDigests, ...]:
    """The certificates Android checks on ``sdk``: from the newest scheme it reads that the APK
    has.
    """
    order = []
    if sdk >= SDK_T:
        order.append("v3.1")
    if sdk >= SDK_P:
        order.append("v3")
    if sdk >= SDK_N:
        order.append("v2")
    order.append("v1")
    for scheme in order:
        found = by_scheme.get(scheme)
        if found is not None:
            out: list[CertDigests] = []
            for lo, hi, certs in found.ranges:
                if lo <= sdk <= hi:
                    out += [c for c in certs if c not in out]
            return tuple(out)
    return ()


def carrier_certificates(min_sdk: int, max_sdk: int,
                         schemes: list[SchemeSigners]) -> tuple[SdkCertificates, ...]:
    """Per SDK range within [min_sdk, max_sdk]: the certificates Android checks there. Ranges
    where no verified scheme applies (e.g. API 24-27 for a v3-only APK) are left out: the APK
    does not install there, so no SIM hash is needed for them."""
    by_scheme = {s.scheme: s for s in schemes}
    points = {min_sdk, SDK_N, SDK_P, SDK_T}
    for s in schemes:
        for lo, hi, _ in s.ranges:
            points.add(lo)
            if hi < SDK_MAX:
                points.add(hi + 1)
    starts = sorted(p for p in points if min_sdk <= p <= max_sdk)
    out: list[SdkCertificates] = []
    for i, lo in enumerate(starts):
        hi = starts[i + 1] - 1 if i + 1 < len(starts) else max_sdk
        certs = _certs_at(lo, by_scheme)
        if not certs:
            continue
        if out and out[-1].certificates == certs and out[-1].max_sdk == lo - 1:
            out[-1] = SdkCertificates(out[-1].min_sdk, hi, certs)
        else:
            out.append(SdkCertificates(lo, hi, certs))
    return tuple(out)


def recommend(ranges: tuple[SdkCertificates, ...],
              lineage: tuple[CertDigests, ...]) -> CertDigests | None:
    """A certificate Android checks on every range (the oldest lineage one first), or None."""
    if not ranges or any(not r.certificates for r in ranges):
        return None
    common = [c for c in ranges[0].certificates if all(c in r.certificates for r in ranges[1:])]
    if not common:
        return None
    for cert in lineage:
        if cert in common:
            return cert
    return common[0]
