"""The refresh state as ``wifiq render`` input: the latest refresh and the one before it.

Both are built as the document ``wifiq refresh --json`` prints (:mod:`wifiq.report`), so
``wifiq render --state`` and a refresh's ``[[outputs]]`` (:mod:`wifiq.outputs`) render the same
text; :func:`previous_document` is the one rule both use for "the refresh before".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import UsageError
from .holddown import format_time
from .operators import OperatorDb, load_operators
from .plmn import parse_plmn
from .render import RenderInput, parse_render_input
from .resolve.lookup import sort_addresses
from .store import LatestRefresh, StateStore


def previous_document(current: Mapping[str, Any], previous_at: float | None) -> dict[str, Any]:
    """The refresh before ``current`` (a refresh document): each operator's active addresses
    as they were (active − added + removed), stamped ``previous_at`` when it is known."""
    operators = []
    for entry in current["operators"]:
        removed = {item["address"] for item in entry["removed"]}
        before = (set(entry["active"]) - set(entry["added"])) | removed
        operators.append({**entry, "active": list(sort_addresses(before))})
    previous = {**current, "operators": operators}
    if previous_at is not None:
        previous["refreshed_at"] = format_time(previous_at)
    return previous


def first_refresh(previous: Mapping[str, Any]) -> bool:
    """True when the refresh before held no address at all: its delta is the full config."""
    return not any(entry["active"] for entry in previous["operators"])


def state_document(latest: LatestRefresh, db: OperatorDb) -> dict[str, Any]:
    """The latest refresh as a refresh document: every PLMN the state knows, its active
    addresses, what the latest refresh added and removed (per operator, as refresh does), and
    ``had_addresses`` when any refresh ever gave it an address."""
    run = latest.run
    now: dict[str, set[str]] = {}
    for state in latest.active:
        now.setdefault(state.name, set()).add(state.address)
    before = {name: set(addresses) for name, addresses in now.items()}
    reasons: dict[str, str] = {}
    for event in latest.changes:
        if event.change == "added":
            before.setdefault(event.name, set()).discard(event.address)
        else:
            before.setdefault(event.name, set()).add(event.address)
            reasons.setdefault(event.address, event.reason)
    by_plmn: dict[str, list[str]] = {}
    for name, plmns in latest.plmns.items():
        for plmn in plmns:
            by_plmn.setdefault(plmn, []).append(name)
    operators = []
    for plmn, names in by_plmn.items():
        new = {a for n in names for a in now.get(n, ())}
        old = {a for n in names for a in before.get(n, ())}
        operator = db.get(parse_plmn(plmn))
        operators.append({
            "plmn": plmn,
            "brand": operator.brand if operator else None,
            "operator": operator.operator if operator else None,
            "active": list(sort_addresses(new)),
            "added": list(sort_addresses(new - old)),
            "removed": [{"address": a, "reason": reasons.get(a, "no longer active")}
                        for a in sort_addresses(old - new)],
            # Its history holds an address: a device may hold wifiq objects for it.
            "had_addresses": any(n in latest.had_addresses for n in names),
        })
    return {
        "status": run.status,
        "refreshed_at": format_time(run.refreshed_at),
        "wifiq_version": run.wifiq_version,
        "operators": operators,
    }


def load_state_input(
    path: Path, *, delta: bool, db: OperatorDb | None = None
) -> tuple[RenderInput, RenderInput | None]:
    """The latest refresh in the state at ``path``, and with ``delta`` the refresh before it
    (None when there is none or it held no address: a first run renders the full config).

    Raises UsageError when there is no state file or no refresh in it, StateError when the
    file is not a usable state.
    """
    if not path.is_file():
        raise UsageError(f"no state file at {path}: run wifiq refresh first (or give --state)")
    with StateStore(path, read_only=True) as store:
        latest = store.latest()
    if latest is None:
        raise UsageError(f"state file {path}: no refresh recorded yet: run wifiq refresh first")
    current = state_document(latest, db or load_operators())
    source = f"state {path}"
    previous = None
    if delta:
        before = previous_document(current, latest.previous.refreshed_at if latest.previous else None)
        if latest.previous is not None and not first_refresh(before):
            previous = parse_render_input(before, f"{source} (the refresh before)")
    return parse_render_input(current, source), previous
