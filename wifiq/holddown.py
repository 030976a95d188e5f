"""Hold-down: when an address that stopped appearing in DNS answers leaves the active set.

Pure logic, no I/O. An address stays active until it has been missing from *complete* answers
(every resolver and sample answered definitively) for ``refreshes`` refreshes in a row and, if
``age`` is set, for at least ``age`` seconds. A failed lookup (timeout, SERVFAIL/REFUSED, an
answer nobody stands by: ``lame``, also one with addresses) never counts: the last good answer
is kept. NXDOMAIN and NODATA are answers: they start the
hold-down like any answer that lacks the address, they do not empty the set at once.

On top of it, :class:`RemovalGuard` refuses a refresh that would remove more than a share of
the active set at once (:func:`mass_removal`): the addresses are kept and the refresh counts as
partly failed, until the share is allowed (``--allow-mass-removal``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import UsageError
from .resolve.lookup import sort_addresses


@dataclass(frozen=True)
class HoldDown:
    """Remove after ``refreshes`` complete answers without the address and ``age`` seconds."""

    refreshes: int = 3
    age: float = 0.0

    def __post_init__(self) -> None:
        if self.refreshes < 1:
            raise UsageError(f"hold-down refreshes must be at least 1, not {self.refreshes}")
        if self.age < 0:
            raise UsageError(f"hold-down age must not be negative, not {self.age}")

    def never_expiring(self) -> "HoldDown":
        """The same hold-down with no removal at all (what a refused mass removal applies)."""
        return HoldDown(refreshes=2**62, age=self.age)

    def expired(self, state: "AddressState", now: float) -> bool:
        """True when ``state`` has been missing long enough to be removed."""
        if state.missing_since is None:
            return False
        return state.missing_count >= self.refreshes and now - state.missing_since >= self.age


@dataclass(frozen=True)
class AddressState:
    """An active address of a name: when seen first and last, and how long it has been missing."""

    name: str
    address: str
    family: int
    first_seen: float
    last_seen: float
    missing_count: int = 0
    missing_since: float | None = None


@dataclass(frozen=True)
class Observation:
    """What one refresh learnt about one (name, family).

    ``complete``: every lookup gave a definitive answer; ``outcome``: a word for the answer
    (``addresses``, ``nodata``, ``nxdomain``) used in removal reasons.
    """

    name: str
    family: int
    complete: bool
    addresses: frozenset[str]
    outcome: str = "addresses"


@dataclass(frozen=True)
class Change:
    """An address that joined (``added``) or left (``removed``) a name's active set, and why."""

    name: str
    address: str
    family: int
    change: str
    reason: str


@dataclass(frozen=True)
class RemovalGuard:
    """Refuse to remove more than ``max_percent`` % of the active set in one refresh, unless
    ``allow`` (``--allow-mass-removal``)."""

    max_percent: int = 50
    allow: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.max_percent <= 100:
            raise UsageError(f"max_removal_percent must be 0-100, not {self.max_percent}")


@dataclass(frozen=True)
class MassRemoval:
    """A refused removal: the ``addresses`` it would have taken out of ``active`` distinct
    addresses (those active before the refresh plus those it added), over ``max_percent`` %."""

    addresses: tuple[str, ...]
    active: int
    max_percent: int

    @property
    def message(self) -> str:
        return (f"refused to remove {len(self.addresses)} of {self.active} active addresses in "
                f"one refresh (more than {self.max_percent}%); they are kept - if the change is "
                "real, refresh with --allow-mass-removal")

    def to_json(self) -> dict[str, object]:
        return {"refused": list(self.addresses), "active": self.active,
                "max_percent": self.max_percent}


def mass_removal(
    active: Iterable[AddressState], changes: Iterable[Change], guard: RemovalGuard
) -> MassRemoval | None:
    """The removal to refuse, or None. ``active`` and ``changes`` are :func:`apply`'s result.

    Counted in distinct addresses: one still active under another name is not lost. The base
    is every address that would be active without the removals (so replacing one address by
    another is 50 %, not 100 %).
    """
    if guard.allow:
        return None
    remaining = {s.address for s in active}
    changes = list(changes)
    lost = {c.address for c in changes if c.change == "removed"} - remaining
    base = len(remaining | lost)
    if not lost or len(lost) * 100 <= guard.max_percent * base:
        return None
    return MassRemoval(sort_addresses(lost), base, guard.max_percent)


_WHY = {
    "nxdomain": "the name no longer exists (NXDOMAIN)",
    "nodata": "the name has no records of this family (NODATA)",
    "addresses": "answers no longer list it",
}


def apply(
    states: Iterable[AddressState],
    observations: Iterable[Observation],
    hold: HoldDown,
    now: float,
) -> tuple[list[AddressState], list[Change]]:
    """Fold one refresh's observations into the active states.

    Returns the new active states (every name, observed or not) and the changes, in a stable
    order. States of (name, family) pairs not observed are returned unchanged.
    """
    by_key: dict[tuple[str, int], dict[str, AddressState]] = {}
    for state in states:
        by_key.setdefault((state.name, state.family), {})[state.address] = state
    changes: list[Change] = []
    for obs in observations:
        current = by_key.setdefault((obs.name, obs.family), {})
        for address in sorted(obs.addresses):
            old = current.get(address)
            if old is None:
                current[address] = AddressState(obs.name, address, obs.family, now, now)
                changes.append(Change(obs.name, address, obs.family, "added", "new in answers"))
            else:
                current[address] = replace(old, last_seen=now, missing_count=0, missing_since=None)
        if not obs.complete:
            continue  # a failure anywhere: keep the last good answer untouched
        for address in sorted(set(current) - obs.addresses):
            old = current[address]
            missing = replace(
                old,
                missing_count=old.missing_count + 1,
                missing_since=old.missing_since if old.missing_since is not None else now,
            )
            if hold.expired(missing, now):
                del current[address]
                changes.append(
                    Change(obs.name, address, obs.family, "removed", _reason(missing, obs, now))
                )
            else:
                current[address] = missing
    active = [s for group in by_key.values() for s in group.values()]
    active.sort(key=lambda s: (s.name, s.family, s.address))
    return active, changes


def _reason(state: AddressState, obs: Observation, now: float) -> str:
    since = format_time(state.missing_since if state.missing_since is not None else now)
    count = state.missing_count
    return (
        f"{_WHY.get(obs.outcome, obs.outcome)}; missing from {count} successful "
        f"refresh{'es' if count != 1 else ''} since {since}"
    )


def format_time(epoch: float) -> str:
    """ISO 8601 UTC with a Z, to the second (how wifiq prints every time)."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int | float) -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``36h``, ``2d`` or ``1w``; UsageError otherwise."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        raw = str(text).strip().lower()
        unit = _UNITS.get(raw[-1:]) if raw else None
        number = raw[:-1] if unit else raw
        if re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", number) is None:  # ASCII digits only
            raise UsageError(f"bad duration {text!r}: use e.g. 90s, 15m, 36h, 2d")
        seconds = float(number) * (unit or 1)
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise UsageError(f"bad duration {text!r}: must be a finite number of seconds >= 0")
    return seconds
