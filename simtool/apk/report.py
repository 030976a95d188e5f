"""What ``inspect_apk`` finds, as frozen dataclasses, and their JSON form (the CLI contract).

JSON object per input (``to_json``): ``path``, ``kind``, ``verified``, ``schemes`` (scheme name ->
verified, in apksigner's order), ``signers`` (``scheme``, ``min_sdk``, ``max_sdk``, ``subject``,
``sha1``, ``sha256``, ``md5``), ``lineage`` (``subject``, ``sha1``, ``sha256``, ``md5``),
``recommended_sha1``, ``recommended_sha256``, ``carrier_certificates``, ``min_sdk``,
``max_sdk``, ``errors``, ``warnings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .certs import CertDigests

SDK_MAX = 2147483647


@dataclass(frozen=True)
class Signer:
    """A certificate that signed the APK under one scheme, for Android versions min..max."""

    scheme: str  # "v1", "v2", "v3", "v3.1", "v4" ("certificate"/"keystore" for key files)
    min_sdk: int
    max_sdk: int
    certificate: CertDigests
    name: str = ""  # v1 signer name (META-INF/<name>.SF), keystore alias
    dev_release: bool = False  # v3.1 rotation targets a development release


@dataclass(frozen=True)
class LineageNode:
    """One certificate of the proof-of-rotation history, oldest first."""

    certificate: CertDigests
    flags: int


@dataclass(frozen=True)
class SdkCertificates:
    """Every certificate Android checks for carrier privileges on SDK versions min..max."""

    min_sdk: int
    max_sdk: int
    certificates: tuple[CertDigests, ...]


@dataclass(frozen=True)
class ApkReport:
    """The result for one input file.

    ``signers`` are the ones apksigner prints for the SDK range; ``all_signers`` every signer
    found per scheme; ``recommended_sha1`` the certificate hash that matches on every SDK version
    the APK supports (None when there is no such single certificate or nothing verified).
    """

    path: str
    kind: str | None  # "apk", "aab", "certificate", "pkcs12", "jks"; None: could not be read
    verified: bool
    schemes: dict[str, bool]
    signers: tuple[Signer, ...]
    lineage: tuple[LineageNode, ...]
    recommended_sha1: str | None
    carrier_certificates: tuple[SdkCertificates, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    recommended_sha256: str | None = None
    recommended_subject: str | None = None
    min_sdk: int | None = None
    max_sdk: int | None = None
    all_signers: tuple[Signer, ...] = ()
    source_stamp: CertDigests | None = None
    full_verify: bool = False
    package: str | None = None  # from AndroidManifest.xml (APK/AAB), None for certificates


KEY_FILE_KINDS = ("certificate", "pkcs12", "jks")


def unreadable(path: str, error: str, full_verify: bool = False) -> ApkReport:
    """The report of an input that could not be read at all (same JSON shape as any other)."""
    return ApkReport(path=path, kind=None, verified=False, schemes={}, signers=(), lineage=(),
                     recommended_sha1=None, carrier_certificates=(), errors=(error,),
                     full_verify=full_verify)


def _cert_json(cert: CertDigests) -> dict[str, Any]:
    return {"subject": cert.subject, "sha1": cert.sha1, "sha256": cert.sha256, "md5": cert.md5}


def to_json(report: ApkReport) -> dict[str, Any]:
    """The ``--json`` object for one input (keys documented in docs/simtool-digest.md)."""
    return {
        "path": report.path,
        "kind": report.kind,
        "package": report.package,
        "verified": report.verified,
        "full_verify": report.full_verify,
        "schemes": dict(report.schemes),
        "min_sdk": report.min_sdk,
        "max_sdk": report.max_sdk,
        "signers": [
            {"scheme": s.scheme,
             "min_sdk": None if report.kind == "aab" else s.min_sdk,
             "max_sdk": None if report.kind == "aab" else s.max_sdk,
             **_cert_json(s.certificate), **({"name": s.name} if s.name else {}),
             **({"dev_release": True} if s.dev_release else {})}
            for s in report.signers
        ],
        "lineage": [{**_cert_json(n.certificate), "flags": n.flags} for n in report.lineage],
        "source_stamp": _cert_json(report.source_stamp) if report.source_stamp else None,
        "recommended_sha1": report.recommended_sha1,
        "recommended_sha256": report.recommended_sha256,
        "recommended_subject": report.recommended_subject,
        "carrier_certificates": [
            {"min_sdk": c.min_sdk, "max_sdk": c.max_sdk,
             "certificates": [_cert_json(x) for x in c.certificates]}
            for c in report.carrier_certificates
        ],
        "errors": list(report.errors),
        "warnings": list(report.warnings),
    }
