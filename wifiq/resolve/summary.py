"""What a set of lookups says about each name: the union of addresses and what failed.

A (name, type) is *complete* when every resolver and sample gave a definitive answer; only then
may a missing address count towards its hold-down (a failure anywhere never removes anything).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .lookup import RECORD_TYPES, Lookup, Outcome, sort_addresses


@dataclass(frozen=True)
class NameSummary:
    """Every lookup of one name, across types, resolvers and samples."""

    name: str
    lookups: tuple[Lookup, ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        """The union of every address found for the name (IPv4 first)."""
        return sort_addresses(a for lookup in self.lookups for a in lookup.addresses)

    def addresses_of(self, rdtype: str) -> tuple[str, ...]:
        return sort_addresses(
            a for lookup in self.lookups if lookup.rdtype == rdtype for a in lookup.addresses
        )

    def complete(self, rdtype: str) -> bool:
        """True when every lookup of this type ended in a definitive answer."""
        of_type = [lookup for lookup in self.lookups if lookup.rdtype == rdtype]
        return bool(of_type) and all(lookup.outcome.definitive for lookup in of_type)

    def outcome_of(self, rdtype: str) -> str:
        """One word for the type: the outcomes seen, joined by '+' (e.g. ``addresses+timeout``)."""
        seen = dict.fromkeys(lk.outcome.value for lk in self.lookups if lk.rdtype == rdtype)
        return "+".join(seen) or "not asked"

    @property
    def failures(self) -> tuple[Lookup, ...]:
        return tuple(lookup for lookup in self.lookups if not lookup.outcome.definitive)

    @property
    def failure_reason(self) -> str:
        """e.g. ``A timeout from 192.0.2.53; AAAA SERVFAIL from 192.0.2.53`` ('' if none)."""
        parts = dict.fromkeys(
            f"{lk.rdtype} {lk.detail or lk.outcome.value} from {lk.resolver}"
            for lk in self.failures
        )
        return "; ".join(parts)

    @property
    def nxdomain(self) -> bool:
        return any(lookup.outcome is Outcome.NXDOMAIN for lookup in self.lookups)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "addresses": list(self.addresses),
            "outcome": {t: self.outcome_of(t) for t in RECORD_TYPES},
            "failed": bool(self.failures),
            "reason": self.failure_reason or None,
            "lookups": [lookup.to_json() for lookup in self.lookups],
        }


def summarize(lookups: Iterable[Lookup]) -> dict[str, NameSummary]:
    """Group lookups by name, in first-seen order."""
    grouped: dict[str, list[Lookup]] = {}
    for lookup in lookups:
        grouped.setdefault(lookup.name, []).append(lookup)
    return {name: NameSummary(name, tuple(items)) for name, items in grouped.items()}
