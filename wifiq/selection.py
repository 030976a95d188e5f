"""The names to look up for a selection of PLMNs: TS 23.003 forms plus operators' own names.

Joins :mod:`wifiq.names` (pure name forms) and :mod:`wifiq.operators` (published overrides),
so ``wifiq names``, ``resolve`` and ``refresh`` build the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from .names import DEFAULT_KINDS, EpdgName, names_for
from .operators import OperatorDb
from .operators.model import Override
from .plmn import Plmn

PUBLISHED = "published"
"""Kind of an :class:`~wifiq.names.EpdgName` that comes from an overrides file."""


def names_for_selection(
    db: OperatorDb,
    plmns: Iterable[Plmn],
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    tac: int | None = None,
    lac: int | None = None,
    published: bool = True,
) -> tuple[EpdgName, ...]:
    """Per PLMN in order: its ``kinds`` names, then (``published``) its override names.

    Raises what :func:`wifiq.names.names_for` raises (unknown kind, TAC/LAC problems).
    """
    out: list[EpdgName] = []
    for plmn in plmns:
        out.extend(names_for(plmn, kinds, tac=tac, lac=lac))
        if published:
            for override in db.overrides_for(plmn):
                out.extend(EpdgName(plmn, PUBLISHED, fqdn) for fqdn in override.names)
    return tuple(dict.fromkeys(out))


def published_sources(db: OperatorDb, plmns: Iterable[Plmn]) -> dict[str, str]:
    """FQDN → the source of the first override that publishes it, for these PLMNs."""
    return _first_sources(db, plmns, lambda override: override.names)


def published_ranges(db: OperatorDb, plmn: Plmn) -> tuple[tuple[str, str], ...]:
    """(CIDR, source) of every range the overrides publish for ``plmn``, first source kept."""
    return tuple(_first_sources(db, (plmn,), lambda override: override.ranges).items())


def _first_sources(
    db: OperatorDb, plmns: Iterable[Plmn], items: Callable[[Override], Iterable[str]]
) -> dict[str, str]:
    sources: dict[str, str] = {}
    for plmn in plmns:
        for override in db.overrides_for(plmn):
            for item in items(override):
                sources.setdefault(item, override.source)
    return sources
