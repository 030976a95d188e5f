"""Does a card grant an app carrier privileges on Android, through which rule, and why not?

Input: the card's rule list (with Android's verdict on exactly those bytes) and, per SDK
range the app supports, the set of certificate digests Android compares (SHA-1 and SHA-256
of every certificate it checks). Pure logic: no card access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .android import matches
from .plan import describe
from .session import RuleList


@dataclass(frozen=True)
class CertSet:
    """The digests Android checks for an app on ``min_sdk``..``max_sdk`` (None = open)."""

    min_sdk: int | None
    max_sdk: int | None
    hashes: frozenset[bytes]
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    """The answer for one SDK range: ``granted`` through ``rule_index`` (0-based), or ``reasons``."""

    certs: CertSet
    granted: bool
    rule_index: int | None
    rule: str | None
    reasons: tuple[str, ...]


def check_grants(rules: RuleList, cert_sets: tuple[CertSet, ...], package: str | None) -> tuple[Grant, ...]:
    """One Grant per CertSet; whole-set failures make every range not granted."""
    out = []
    for certs in cert_sets:
        if rules.android.error:
            out.append(Grant(certs, False, None, None, (rules.android.error,)))
            continue
        granted = None
        reasons: list[str] = []
        for i, (rule, verdict) in enumerate(zip(rules.rules, rules.android.rules)):
            hash_hit = rule.hash is not None and rule.hash in certs.hashes
            if matches(verdict, set(certs.hashes), package):
                granted = (i, describe(rule))
                break
            if hash_hit and not verdict.honoured:
                reasons.append(f"rule {i + 1} has the app's hash but {verdict.reason}")
            elif hash_hit and verdict.package and verdict.package != package:
                who = package or "(package not given)"
                reasons.append(f"rule {i + 1} has the app's hash but is for package {verdict.package}, not {who}")
        if granted is not None:
            out.append(Grant(certs, True, granted[0], granted[1], ()))
            continue
        if not reasons:
            reasons.append(
                "no rule holds the SHA-1 or SHA-256 of the app's signing certificate(s)"
                if rules.rules else "the card holds no rules"
            )
        out.append(Grant(certs, False, None, None, tuple(reasons)))
    return tuple(out)


def cert_sets_from_apk(report: Any) -> tuple[CertSet, ...]:
    """CertSets from ``simtool.apk.inspect_apk``'s report: per SDK range, the SHA-1 and SHA-256
    of every certificate Android checks for carrier privileges there."""
    return tuple(
        CertSet(s.min_sdk, s.max_sdk,
                frozenset(bytes.fromhex(h) for c in s.certificates for h in (c.sha1, c.sha256)),
                tuple(c.subject for c in s.certificates))
        for s in report.carrier_certificates
    )
