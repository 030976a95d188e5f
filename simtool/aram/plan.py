"""Reconcile the card's rules with a desired list: a pure planner, then an executor.

``make_plan`` (no I/O) decides what to add, delete and keep with the fewest STORE DATA
commands: identical rules are kept, extra copies of a wanted rule are deleted (one F1 per
copy, so cards that delete one copy at a time converge too) and stored once, a rule with
the same REF-DO but other access rules is replaced (the new one is stored first; a card that
refuses the second with 6A89 gets the old one deleted first), and with ``prune`` everything
else goes (one ``F1 00`` when nothing is kept or added).
``apply_plan`` sends it, updates the refresh tag and reads back to verify.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from carrierkit.textsafe import escape_controls

from ..card.statuswords import ApduError
from ..errors import SimtoolError
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
    delete_by_ref: tuple[AccessRule, ...] = ()  # blind: every rule with this REF-DO (F1 E1), first

    @property
    def changes(self) -> int:
        """Number of STORE DATA commands the plan sends (not counting the refresh tag)."""
        return len(self.add) + len(self.delete_by_ref) + (1 if self.delete_all else len(self.delete))

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
    if prune and not keep and not add and len(delete) >= 2:
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


CONFIRMED = "confirmed"  # the card answered success and the change took effect
NO_EFFECT = "no effect"  # the card answered that there was nothing to do (6A88 to a delete)
UNANSWERED = "sent, no answer"  # sent, then the card went away: it may or may not have happened
NOT_SENT = "not sent"
REFUSED = "refused"


@dataclass
class Change:
    """One STORE DATA of a plan and what became of it (``state``: one of the constants above)."""

    action: str  # "store", "delete", "delete all"
    rule: AccessRule | None
    state: str = NOT_SENT

    def text(self) -> str:
        return self.action if self.rule is None else f"{self.action} {describe(self.rule)}"


@dataclass
class ApplyResult:
    """What an apply did: the plan, each change's fate, Store notes, the refresh tag and the
    read-back. ``written`` counts the changes the card confirmed and that took effect."""

    plan: Plan
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refresh_tag: bytes | None = None
    readback: RuleList | None = None
    verified: bool = False
    verified_by: str = ""  # "read-back", "FF50 per rule" or "" (not verified / nothing to verify)

    @property
    def written(self) -> int:
        return sum(c.state == CONFIRMED for c in self.changes)

    def in_state(self, state: str) -> list[Change]:
        return [c for c in self.changes if c.state == state]

    def summary(self) -> str:
        """``the card confirmed 2 of 3 changes (…); 1 sent without an answer (…); 0 not sent``."""
        total = len(self.changes)
        parts = [f"the card confirmed {self.written} of {total} change(s)"
                 + _listed(self.in_state(CONFIRMED))]
        for state, label in ((NO_EFFECT, "had no effect (nothing to delete)"),
                             (UNANSWERED, "sent without an answer (may or may not have happened)"),
                             (REFUSED, "refused"), (NOT_SENT, "not sent")):
            hit = self.in_state(state)
            if hit:
                parts.append(f"{len(hit)} {label}" + _listed(hit))
        return "; ".join(parts)


def _listed(changes: list[Change], limit: int = 3) -> str:
    if not changes:
        return ""
    shown = ", ".join(c.text() for c in changes[:limit])
    return f" ({shown}{', …' if len(changes) > limit else ''})"


def ordered_changes(plan: Plan) -> list[Change]:
    """The plan's STORE DATA commands in a pull-safe order.

    Deleting all (``F1 00``) comes first; so do deletes of extra copies of a rule that is then
    stored once (deleting a copy after the store could take the new one too). Every other store
    comes before the remaining deletes, so replacing a rule (same REF-DO, new access rules) adds
    the new one before the old goes: a card pulled in between keeps a rule for the app.
    """
    if plan.delete_all:
        return [Change("delete all", None)] + [Change("store", r) for r in plan.add]
    added = {r.identity for r in plan.add}
    first = [Change("delete every rule with the REF-DO of", r) for r in plan.delete_by_ref]
    first += [Change("delete", r) for r in plan.delete if r.identity in added]
    last = [Change("delete", r) for r in plan.delete if r.identity not in added]
    return first + [Change("store", r) for r in plan.add] + last


def apply_plan(
    session: AramSession,
    plan: Plan,
    *,
    force: bool = False,
    verify: bool | Callable[[RuleList], None] = True,
    progress: Callable[[int], None] | None = None,
) -> ApplyResult:
    """Send ``plan``, refresh the tag, read back and verify; raises on any shortfall.

    Raises AndroidRefusalError (unless ``force``) and ApduTooLongError before any write. Any
    error after the first write (StoreRefusedError, CardRemovedError, DamagedAnswerError or
    VerificationError on the read-back, …) carries the result as ``err.result``, and its
    message says which changes the card confirmed, which were sent without an answer and which
    were not sent (``ApplyResult.summary``).
    """
    if not force:
        problems = android_problems(plan)
        if problems:
            raise AndroidRefusalError(problems)
    check_sizes(plan)
    result = ApplyResult(plan, ordered_changes(plan))
    try:
        _send_changes(session, plan, result, progress)
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
            (verify if callable(verify) else lambda rb: verify_readback(plan, rb))(result.readback)
            result.verified, result.verified_by = True, "read-back"
    except SimtoolError as err:
        if result.changes and any(c.state != NOT_SENT for c in result.changes):
            attach_result(err, result)
        raise
    return result


def attach_result(err: SimtoolError, result: ApplyResult) -> None:
    """Add what the card confirmed to ``err`` (message and ``err.result``), once."""
    if getattr(err, "result", None) is not None:
        return
    err.result = result  # type: ignore[attr-defined]
    err.message += f" — {result.summary()}"


def _send_changes(session: AramSession, plan: Plan, result: ApplyResult,
                  progress: Callable[[int], None] | None) -> None:
    total = len(result.changes)
    for change in result.changes:
        if change.state != NOT_SENT:
            continue  # already sent (an old rule deleted early because the card answered 6A89)
        change.state = UNANSWERED
        try:
            if change.action == "store":
                assert change.rule is not None
                _store(session, change.rule, plan, result)
                change.state = CONFIRMED
            else:
                took = session.delete(change.rule, by_ref=change.action.startswith("delete every"))
                change.state = CONFIRMED if took else NO_EFFECT
        except ApduError as err:
            change.state = REFUSED
            raise StoreRefusedError(change.text(), err, result.written, total) from None
        if progress and change.state == CONFIRMED:
            progress(1)


def _store(session: AramSession, rule: AccessRule, plan: Plan, result: ApplyResult) -> None:
    """Store ``rule``; a card refusing a second rule with the same REF-DO (6A89) gets the
    conflicting old rules of the plan deleted first, then the store again."""
    try:
        sw = session.store(rule)
    except ApduError as err:
        olds = [c for c in result.changes if c.action == "delete" and c.state == NOT_SENT
                and c.rule is not None and c.rule.ref_identity == rule.ref_identity]
        if err.sw != 0x6A89 or not olds:
            raise
        for old in olds:
            old.state = UNANSWERED
            old.state = CONFIRMED if session.delete(old.rule) else NO_EFFECT
        sw = session.store(rule)
    if sw == 0x6381:
        result.notes.append(f"card reports rule {describe(rule)} already existed (6381)")


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
