"""Hold-down: when an address that stopped appearing in DNS answers leaves the active set.

Pure logic, no I/O. An address stays active until it has been missing from *complete* answers
(every resolver and sample answered definitively) for ``refreshes`` refreshes in a row and, if
``age`` is set, for at least ``age`` seconds. A failed lookup (timeout, SERVFAIL/REFUSED) never
counts: the last good answer is kept. NXDOMAIN and NODATA are answers: they start the
hold-down like any answer that lacks the address, they do not empty the set at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import UsageError


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
        try:
            seconds = float(number) * (unit or 1)
        except ValueError:
            raise UsageError(f"bad duration {text!r}: use e.g. 90s, 15m, 36h, 2d") from None
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise UsageError(f"bad duration {text!r}: must be a finite number of seconds >= 0")
    return seconds
