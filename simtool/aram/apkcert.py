"""Which certificate of an APK ``aram add --apk`` stores, and its role, so the hash can be
compared with what apksigner prints (its ``Signer #1`` is the *current* signer; after a key
rotation the hash that matches on every Android version is the lineage's *original* key)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from carrierkit.textsafe import escape_controls

from ..apk.report import ApkReport
from ..errors import UsageError

_CN = re.compile(r"(?:^|,\s*)CN=((?:\\.|[^,\\])*)")


def common_name(subject: str) -> str | None:
    """The CN of an RFC 4514 subject string (``CN=app, O=Example`` → ``app``), or None."""
    found = _CN.search(subject)
    return found.group(1).strip() if found else None


@dataclass(frozen=True)
class RuleCertificate:
    """The certificate whose SHA-1 goes on the card: ``role`` says which one it is;
    ``signer_subject``/``signer_sha1`` are apksigner's Signer #1 (the current signer)."""

    sha1: str
    subject: str
    cn: str | None
    role: str
    signer_subject: str | None
    signer_sha1: str | None

    def words(self) -> str:
        """``certificate CN=app (signer)`` or ``… (original key of the signing lineage; apksigner's
        Signer #1 is the current signer CN=app2, SHA-1 …)``."""
        name = escape_controls(f"CN={self.cn}" if self.cn else self.subject or "(no subject)")
        text = f"certificate {name} ({self.role}"
        if self.signer_sha1 and self.signer_sha1 != self.sha1:
            signer = common_name(self.signer_subject or "")
            shown = escape_controls(f"CN={signer}" if signer else self.signer_subject or "")
            text += f"; apksigner's Signer #1 is the current signer {shown}, SHA-1 {self.signer_sha1.upper()}"
        return text + ")"


def rule_certificate(report: ApkReport) -> RuleCertificate:
    """The recommended certificate of ``report`` and its role; raises UsageError when the APK
    has no single certificate that matches on every SDK version it supports."""
    sha1 = report.recommended_sha1
    if not sha1:
        why = "; ".join(report.errors) or (
            "a bundle is signed with the upload key; devices see the app signing key: give an "
            "APK Play serves, or that certificate" if report.kind == "aab"
            else "no signing certificate")
        raise UsageError(f"{report.path}: no certificate hash to store ({why})")
    signer = report.signers[0].certificate if report.signers else None
    lineage = [n.certificate.sha1 for n in report.lineage]
    if len(lineage) > 1 and lineage[0] == sha1:
        role = "original key of the signing lineage"
    elif signer is not None and signer.sha1 == sha1:
        role = "signer"
    elif sha1 in lineage:
        role = f"key {lineage.index(sha1) + 1} of {len(lineage)} in the signing lineage"
    else:
        role = "signing certificate"
    subject = report.recommended_subject or ""
    return RuleCertificate(sha1, subject, common_name(subject), role,
                           signer.subject if signer else None, signer.sha1 if signer else None)
