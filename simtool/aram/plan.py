"""Reconcile the card's rules with a desired list: a pure planner, then an executor.

``make_plan`` (no I/O) decides what to add, delete and keep with the fewest STORE DATA
commands: identical rules are kept, extra copies of a wanted rule are deleted (one F1 per
copy, so cards that delete one copy at a time converge too) and stored once, a rule with
the same REF-DO but other access rules is replaced (a spec card refuses the second with
6A89), and with ``prune`` everything else goes (one ``F1 00`` when nothing is kept).
``apply_plan`` sends it, updates the refresh tag and reads back to verify.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from carrierkit.textsafe import escape_controls

from ..card.errors import CardRemovedError
from ..card.statuswords import ApduError
from .android import check_answer
from .errors import AndroidRefusalError, StoreRefusedError, VerificationError
from .rules import AccessRule, encode_all_ref_ar_do
from .session import AramSession, RuleList, delete_apdu, store_apdu


@dataclass(frozen=True)
class Plan:
    """What to change: ``delete`` runs first (or ``delete_all``), then ``add``."""

    keep: tuple[AccessRule, ...]
    add: tuple[AccessRule, ...]
    delete: tuple[AccessRule, ...]
    delete_all: bool = False
    expected: tuple[AccessRule, ...] = ()

    @property
    def changes(self) -> int:
        """Number of STORE DATA commands the plan sends (not counting the refresh tag)."""
        return len(self.add) + (1 if self.delete_all else len(self.delete))

    @property
    def empty(self) -> bool:
        return self.changes == 0


def unique(rules: Iterable[AccessRule]) -> tuple[AccessRule, ...]:
    """``rules`` without repeats (first occurrence wins)."""
    seen: set[tuple] = set()
    out = []
    for r in rules:
        if r.identity not in seen:
            seen.add(r.identity)
            out.append(r)
    return tuple(out)


def make_plan(current: Iterable[AccessRule], desired: Iterable[AccessRule], *, prune: bool) -> Plan:
    """The fewest changes that make the card hold ``desired`` (and, with prune, nothing else)."""
    current = tuple(current)
    wanted = unique(desired)
    wanted_ids = {r.identity for r in wanted}
    wanted_refs = {r.ref_identity for r in wanted}
    counts = Counter(r.identity for r in current)
    keep: list[AccessRule] = []
    add: list[AccessRule] = []
    delete: list[AccessRule] = []
    for rule in wanted:
        n = counts.get(rule.identity, 0)
        if n == 1:
            keep.append(next(c for c in current if c.identity == rule.identity))
        else:
            delete.extend(c for c in current if c.identity == rule.identity)
            add.append(rule)
    others = [c for c in current if c.identity not in wanted_ids]
    untouched = []
    for c in others:
        if prune or c.ref_identity in wanted_refs:
            delete.append(c)
        else:
            untouched.append(c)
    expected = tuple(untouched) + tuple(keep) + tuple(add)
    delete_all = False
    if prune and not keep and len(delete) >= 2:
        delete_all, delete = True, list(current)
    return Plan(tuple(keep), tuple(add), tuple(delete), delete_all, expected)


def delete_plan(current: Iterable[AccessRule], hit: Callable[[AccessRule], bool], *,
                everything: bool = False) -> Plan:
    """Delete the rules ``hit`` selects (``everything``: all of them, with one ``F1 00``).

    When nothing would be kept and two or more rules go, one DELETE ALL replaces the single
    deletes (fewer APDUs, same result).
    """
    current = tuple(current)
    gone = tuple(r for r in current if everything or hit(r))
    kept = tuple(r for r in current if not (everything or hit(r)))
    return Plan(keep=kept, add=(), delete=gone, delete_all=everything or (not kept and len(gone) >= 2),
                expected=kept)


def android_problems(plan: Plan) -> list[str]:
    """Why Android would not honour an added rule, or would drop the whole resulting set."""
    problems = []
    result = check_answer(encode_all_ref_ar_do(plan.expected))
    if result.error:
        added = {r.identity for r in plan.add}
        before = check_answer(encode_all_ref_ar_do([r for r in plan.expected if r.identity not in added]))
        where = (" (caused by a rule already on the card: remove it with --prune or `simtool aram delete`)"
                 if before.error else "")
        problems.append(f"the card's rules would be unusable on Android: {result.error}{where}")
        return problems
    verdicts = dict(zip((r.identity for r in plan.expected), result.rules))
    for rule in plan.add:
        v = verdicts[rule.identity]
        if not v.honoured:
            problems.append(f"Android would not honour rule {describe(rule)}: {v.reason}")
    return problems


def describe(rule: AccessRule) -> str:
    """One-line human form of a rule: hash, package and AID form."""
    h = rule.hash.hex().upper() if rule.hash is not None else "(no hash)"
    if rule.aid is None:
        aid = "no AID"
    elif rule.aid == b"":
        aid = "AID empty"
    else:
        aid = f"AID {rule.aid.hex().upper()}"
    if rule.aid_implicit:
        aid += " +implicit(C0)"
    pkg = f" package {escape_controls(rule.package)}" if rule.package else ""  # card data
    return f"{h}{pkg} ({aid})"


def check_sizes(plan: Plan) -> None:
    """Encode every STORE DATA now so an over-long rule stops us before the first write."""
    for rule in plan.add:
        store_apdu(rule).encode()
    for rule in plan.delete:
        delete_apdu(rule).encode()


@dataclass
class ApplyResult:
    """What an apply did: the plan, Store answers, the refresh tag and the read-back."""

    plan: Plan
    written: int = 0
    notes: list[str] = field(default_factory=list)
    refresh_tag: bytes | None = None
    readback: RuleList | None = None
    verified: bool = False


def apply_plan(
    session: AramSession,
    plan: Plan,
    *,
    force: bool = False,
    verify: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ApplyResult:
    """Send ``plan``, refresh the tag, read back and verify; raises on any shortfall.

    Raises AndroidRefusalError (unless ``force``), ApduTooLongError before any write,
    StoreRefusedError / CardRemovedError with the count already written, VerificationError
    when the read-back differs from ``plan.expected``.
    """
    if not force:
        problems = android_problems(plan)
        if problems:
            raise AndroidRefusalError(problems)
    check_sizes(plan)
    result = ApplyResult(plan)
    total = plan.changes

    def step(action: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except ApduError as err:
            raise StoreRefusedError(action, err, result.written, total) from None
        except CardRemovedError as err:
            err.message += f" ({result.written} of {total} changes were written; re-run to finish)"
            raise
        result.written += 1
        if progress:
            progress(1)

    if plan.delete_all:
        step("delete all rules", lambda: session.delete(None))
    else:
        for rule in plan.delete:
            step(f"delete rule {describe(rule)}", functools.partial(session.delete, rule))
    for rule in plan.add:
        def store(r: AccessRule = rule) -> None:
            if session.store(r) == 0x6381:
                result.notes.append(f"card reports rule {describe(r)} already existed (6381)")
        step(f"store rule {describe(rule)}", store)
    if not plan.empty:
        sw = session.update_refresh_tag()
        if sw != 0x9000:
            result.notes.append(f"card answered {sw:04X} to the refresh-tag update (F2)")
        if not session.proto.dry_run:
            result.refresh_tag = session.refresh_tag()
    if plan.empty:
        result.verified = True  # the read that made the plan already showed the wanted rules
    elif verify and not session.proto.dry_run:
        result.readback = session.read_rules()
        verify_readback(plan, result.readback)
        result.verified = True
    return result


def verify_readback(plan: Plan, readback: RuleList) -> None:
    """Raise VerificationError unless the card holds exactly ``plan.expected`` (as a multiset)."""
    want = Counter(r.identity for r in plan.expected)
    have = Counter(r.identity for r in readback.rules)
    if want == have:
        return
    missing = sum((want - have).values())
    extra = sum((have - want).values())
    lost = [describe(r) for r in plan.expected if (want - have).get(r.identity)]
    raise VerificationError(
        f"read-back differs from what was asked: {missing} rule(s) missing, {extra} unexpected"
        + (f" (missing: {', '.join(lost[:3])})" if lost else ""),
        missing, extra,
    )
