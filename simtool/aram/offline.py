"""Android's verdict on a rule file without a card: ``aram check --rules FILE`` and
``aram apply --dry-run`` when there is no reader or no card.

The file's rules are encoded exactly as ``apply`` would store them and given to the same
byte-faithful model of Android's parser that judges a card's answer (``android.check_answer``),
as if a card held exactly these rules in this order. Pure logic: no card access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .android import check_answer
from .plan import Plan, make_plan
from .rules import AccessRule, encode_all_ref_ar_do
from .session import RuleList, store_apdu, store_data
from .tlv import encode_tlv


def rules_as_card(rules: Iterable[AccessRule]) -> RuleList:
    """A RuleList as a card holding exactly ``rules`` would answer (with Android's verdict)."""
    rules = tuple(rules)
    raw = encode_all_ref_ar_do(rules)
    return RuleList(rules, raw, 0x9000, check_answer(raw))


def android_findings(rules: RuleList) -> tuple[str, ...]:
    """One sentence per problem Android has with ``rules``: the whole set dropped, or each rule
    it skips / that can match no app ("Android would skip rule 1: AID empty (4F 00) is not …")."""
    if rules.android.error:
        return (rules.android.error,)
    out = []
    for i, verdict in enumerate(rules.android.rules, 1):
        if verdict.honoured:
            continue
        if verdict.reason.startswith("skipped: "):
            out.append(f"Android would skip rule {i}: {verdict.reason.removeprefix('skipped: ')}")
        else:
            out.append(f"Android would not honour rule {i}: {verdict.reason}")
    return tuple(out)


@dataclass(frozen=True)
class OfflinePlan:
    """``apply``'s plan against a card that could not be read (assumed empty), and the writes."""

    plan: Plan
    rules: RuleList  # the file's rules, as the card would hold them after the apply
    findings: tuple[str, ...]
    writes: tuple[str, ...]  # hex STORE DATA commands a real run would send to an empty card
    prune_note: str | None


def plan_without_card(desired: Iterable[AccessRule], *, prune: bool) -> OfflinePlan:
    """What ``apply`` would do to an empty card, and Android's verdict on the result."""
    plan = make_plan((), desired, prune=prune)
    rules = rules_as_card(plan.expected)
    writes = tuple(store_apdu(r).encode().hex().upper() for r in plan.add)
    if plan.add:
        writes += (store_data(0x80, encode_tlv(0xF2, b"")).encode().hex().upper(),)  # refresh tag
    note = ("--prune: every other rule the card holds would be deleted too; "
            "run with a card for the exact plan") if prune else None
    return OfflinePlan(plan, rules, android_findings(rules), writes, note)
