"""The JSON forms ``simtool aram … --json`` prints (one place, so scripts see one shape)."""

from __future__ import annotations

from typing import Any

from .check import Grant
from .plan import CONFIRMED, NO_EFFECT, NOT_SENT, UNANSWERED, ApplyResult, Plan
from .rulefile import rule_to_dict
from .session import RuleList


def rule_rows(rules: RuleList) -> list[dict[str, Any]]:
    """``aram list`` rows: the rule's fields plus Android's verdict on it."""
    rows = []
    for i, rule in enumerate(rules.rules):
        row: dict[str, Any] = {"index": i + 1, **rule_to_dict(rule)}
        if rules.android.error:
            row["android"], row["android_reason"] = False, rules.android.error
        else:
            v = rules.android.rules[i]
            row["android"], row["android_reason"] = v.honoured, v.reason
        rows.append(row)
    return rows


def plan_json(plan: Plan) -> dict[str, Any]:
    """What a plan adds, deletes and keeps."""
    return {
        "add": [rule_to_dict(r) for r in plan.add],
        "delete": [rule_to_dict(r) for r in plan.delete],
        "keep": [rule_to_dict(r) for r in plan.keep],
        "delete_all": plan.delete_all,
    }


def apply_json(result: ApplyResult, *, apdus_sent: int, dry_run: bool) -> dict[str, Any]:
    """The outcome of add / delete / apply: plan, each change and its fate (``state``:
    confirmed, no effect, sent no answer, refused, not sent), verification, refresh tag.
    ``written`` = ``confirmed``: changes the card confirmed and that took effect."""
    states = [c.state for c in result.changes]
    return {
        "plan": plan_json(result.plan),
        "written": result.written,
        "changes": [{"action": c.action, "rule": None if c.rule is None else rule_to_dict(c.rule),
                     "state": c.state} for c in result.changes],
        "confirmed": states.count(CONFIRMED),
        "no_effect": states.count(NO_EFFECT),
        "unanswered": states.count(UNANSWERED),
        "not_sent": states.count(NOT_SENT),
        "verified": result.verified,
        "verified_by": result.verified_by or None,
        "refresh_tag": result.refresh_tag.hex().upper() if result.refresh_tag else None,
        "apdus_sent": apdus_sent,
        "notes": result.notes,
        "dry_run": dry_run,
    }


def grant_rows(grants: tuple[Grant, ...]) -> list[dict[str, Any]]:
    """``aram check`` rows: per SDK range, granted by which rule (1-based) or why not."""
    return [
        {"min_sdk": g.certs.min_sdk, "max_sdk": g.certs.max_sdk, "granted": g.granted,
         "rule_index": None if g.rule_index is None else g.rule_index + 1, "rule": g.rule,
         "reasons": list(g.reasons), "certificates": list(g.certs.subjects)}
        for g in grants
    ]
