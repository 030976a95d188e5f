"""Per-operator results of a resolve or refresh, and the JSON document scripts and
``wifiq render`` read (pure: no I/O).

Document shape: ``{"status", "refreshed_at" (ISO 8601 UTC), "wifiq_version", "resolvers":
[{"resolver", "recursion", "authoritative", "warning"}], "mass_removal" (null or {"refused",
"active", "max_percent"}), "operators": [
{"plmn", "brand", "operator", "active", "added", "removed": [{"address", "reason"}],
"failed": [{"name", "reason"}], "unchanged", "kept", "ranges": [{"range", "source"}],
"names": [...]}]}``.

``ranges`` are the CIDR blocks an overrides file says the operator publishes for its ePDGs.
They are not resolved, so they are not in ``active`` (which holds what DNS answered, under
the hold-down) and ``wifiq render`` does not read them: see docs/wifiq-operators.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import __version__
from .holddown import Change, MassRemoval, format_time
from .names import EpdgName
from .operators import OperatorDb
from .plmn import Plmn
from .resolve.lookup import Lookup, Outcome, ResolverCheck, sort_addresses
from .resolve.summary import NameSummary
from .selection import published_ranges


@dataclass(frozen=True)
class OperatorReport:
    """What one operator's names resolved to, and what changed since the last refresh."""

    plmn: Plmn
    brand: str | None
    operator: str | None
    names: tuple[EpdgName, ...]
    active: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[tuple[str, str], ...]
    failed: tuple[tuple[str, str], ...]
    unchanged: int
    kept: tuple[str, ...]
    details: tuple[dict[str, Any], ...]
    ranges: tuple[tuple[str, str], ...] = ()
    """(CIDR, source) of the ranges the operator publishes (overrides files), not resolved."""

    @property
    def news(self) -> bool:
        """True when something was added, removed or failed (what cron should mail about)."""
        return bool(self.added or self.removed or self.failed)

    def to_json(self) -> dict[str, object]:
        return {
            "plmn": str(self.plmn),
            "brand": self.brand,
            "operator": self.operator,
            "active": list(self.active),
            "added": list(self.added),
            "removed": [{"address": a, "reason": r} for a, r in self.removed],
            "failed": [{"name": n, "reason": r} for n, r in self.failed],
            "unchanged": self.unchanged,
            "kept": list(self.kept),
            "ranges": [{"range": r, "source": src} for r, src in self.ranges],
            "names": list(self.details),
        }


def operator_reports(
    db: OperatorDb,
    targets: Sequence[EpdgName],
    summaries: Mapping[str, NameSummary],
    before: Mapping[str, Iterable[str]],
    after: Mapping[str, Iterable[str]],
    changes: Sequence[Change] = (),
) -> list[OperatorReport]:
    """One report per PLMN of ``targets`` (in order). ``before``/``after`` map a name to its
    active addresses; for a one-shot resolve both are the addresses found."""
    by_plmn: dict[Plmn, list[EpdgName]] = {}
    for target in targets:
        by_plmn.setdefault(target.plmn, []).append(target)
    reasons = {(c.name, c.address): c.reason for c in changes if c.change == "removed"}
    reports = []
    for plmn, names in by_plmn.items():
        fqdns = list(dict.fromkeys(n.fqdn for n in names))
        old = {a for n in fqdns for a in before.get(n, ())}
        new = {a for n in fqdns for a in after.get(n, ())}
        failed = tuple(
            (n, summaries[n].failure_reason)
            for n in fqdns
            if n in summaries and summaries[n].failures
        )
        kept = sort_addresses(a for n, _ in failed for a in after.get(n, ()))
        removed = tuple(
            (a, next((reasons[(n, a)] for n in fqdns if (n, a) in reasons), "no longer active"))
            for a in sort_addresses(old - new)
        )
        operator = db.get(plmn)
        details = tuple(
            {
                "kind": n.kind,
                **_detail(summaries.get(n.fqdn), n.fqdn),
                "active": list(sort_addresses(after.get(n.fqdn, ()))),
            }
            for n in names
        )
        reports.append(
            OperatorReport(
                plmn=plmn,
                brand=operator.brand if operator else None,
                operator=operator.operator if operator else None,
                names=tuple(names),
                active=sort_addresses(new),
                added=sort_addresses(new - old),
                removed=removed,
                failed=failed,
                unchanged=len(old & new),
                kept=kept,
                details=details,
                ranges=published_ranges(db, plmn),
            )
        )
    return reports


def _detail(summary: NameSummary | None, fqdn: str) -> dict[str, Any]:
    if summary is None:
        return {"name": fqdn, "addresses": [], "failed": False, "reason": None, "lookups": []}
    return summary.to_json()


def lookup_status(lookups: Sequence[Lookup], changed: bool | None = None) -> str:
    """``failed`` (no lookup answered), ``partial`` (some failed), else ``changed`` /
    ``unchanged`` for a refresh (``changed`` given) or ``resolved`` for a one-shot resolve."""
    failures = sum(1 for lookup in lookups if not lookup.outcome.definitive)
    if lookups and failures == len(lookups):
        return "failed"
    if failures:
        return "partial"
    if changed is None:
        return "resolved"
    return "changed" if changed else "unchanged"


def document(
    status: str,
    refreshed_at: float,
    reports: Sequence[OperatorReport],
    *,
    resolvers: Sequence[ResolverCheck] = (),
    mass_removal: MassRemoval | None = None,
) -> dict[str, object]:
    """The ``--json`` document of ``resolve`` and ``refresh``: ``resolvers`` is each resolver's
    start-up probe, ``mass_removal`` the removal the guard refused (null when none)."""
    return {
        "status": status,
        "refreshed_at": format_time(refreshed_at),
        "wifiq_version": __version__,
        "resolvers": [check.to_json() for check in resolvers],
        "mass_removal": mass_removal.to_json() if mass_removal is not None else None,
        "operators": [r.to_json() for r in reports],
    }


def failure_kind(summary: NameSummary) -> str:
    """One word per way a name's lookups failed, joined by '+' (``timeout``, ``SERVFAIL``,
    ``REFUSED``, ``bad answer``…): how failures are grouped in one-line summaries."""
    kinds = dict.fromkeys(_lookup_failure_kind(lk) for lk in summary.failures)
    return "+".join(sorted(kinds)) or "none"


def _lookup_failure_kind(lookup: Lookup) -> str:
    if lookup.outcome is Outcome.TIMEOUT:
        return "timeout"
    if lookup.outcome is Outcome.LAME:
        return "referral" if lookup.detail.startswith("referral") else "lame"
    word = lookup.detail.split(" ", 1)[0] if lookup.detail else ""
    return word if word.isupper() and word.isalpha() else "bad answer"


def format_news(
    reports: Sequence[OperatorReport],
    *,
    repeated: Mapping[str, tuple[float, str]] | None = None,
    kinds: Mapping[str, str] | None = None,
    verbose: bool = False,
    all_failed: bool = False,
) -> list[str]:
    """Text lines for operators with news (added, removed, new failures); none when nothing
    changed.

    ``repeated`` maps names that failed in the previous run too to (since, kind): they are
    summarised in one line per kind (``131 names still failing since …``) unless ``verbose``.
    With ``all_failed`` (every lookup failed) new failures are summarised the same way, one
    line per kind from ``kinds`` (name to kind), instead of one line per name.
    """
    repeated = {} if verbose or repeated is None else repeated
    kinds = kinds or {}
    summarise_new = all_failed and not verbose
    lines: list[str] = []
    new_failures: dict[str, list[str]] = {}
    for r in reports:
        fresh = [(n, why) for n, why in r.failed if n not in repeated]
        if summarise_new:
            for name, _ in fresh:
                new_failures.setdefault(kinds.get(name, "failed"), []).append(name)
        if not (r.added or r.removed or (fresh and not summarise_new)):
            continue
        label = r.brand or r.operator or "?"
        lines.append(
            f"{r.plmn} {label}: +{len(r.added)} -{len(r.removed)} ={r.unchanged}"
            + (f", {len(r.failed)} lookups failed (last good kept)" if r.failed else "")
        )
        lines.extend(f"  + {a}" for a in r.added)
        lines.extend(f"  - {a}  ({why})" for a, why in r.removed)
        if not summarise_new:
            for name, why in fresh:
                lines.append(f"  ! {name}: {why}")
        if r.kept and fresh:
            lines.append(f"    kept: {' '.join(r.kept)}")
    for kind, names in sorted(new_failures.items()):
        lines.append(f"{_count(len(names))} failed: {kind} (last good kept; --verbose lists them)")
    by_kind: dict[str, list[float]] = {}
    for since, kind in repeated.values():
        by_kind.setdefault(kind, []).append(since)
    for kind, sinces in sorted(by_kind.items()):
        lines.append(
            f"{_count(len(sinces))} still failing since {format_time(min(sinces))}: {kind} "
            "(last good kept; --verbose lists them)"
        )
    return lines


def _count(names: int) -> str:
    return f"{names} name{'s' if names != 1 else ''}"


def format_unreported(events: Sequence[Any]) -> list[str]:
    """Lines for changes of earlier refreshes that were never printed (their report failed):
    each event has ``refreshed_at``, ``change``, ``address``, ``name`` and ``reason``."""
    if not events:
        return []
    lines = ["earlier changes, not reported when they happened:"]
    for e in events:
        sign = "+" if e.change == "added" else "-"
        lines.append(f"  {format_time(e.refreshed_at)} {sign} {e.address}  {e.name}  ({e.reason})")
    return lines


def format_resolved(reports: Sequence[OperatorReport]) -> list[str]:
    """Text lines of a one-shot resolve: per operator, each name and what it resolved to."""
    lines: list[str] = []
    for r in reports:
        lines.append(f"{r.plmn} {r.brand or r.operator or '?'}")
        for detail in r.details:
            addresses = " ".join(detail["addresses"]) or "-"
            words = " ".join(f"{t}:{o}" for t, o in detail.get("outcome", {}).items())
            lines.append(f"  {detail['kind']:<9} {detail['name']}  {addresses}  [{words}]")
        lines.extend(f"  {'range':<9} {cidr}  (published, not resolved)" for cidr, _ in r.ranges)
    return lines
