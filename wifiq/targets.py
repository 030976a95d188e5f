"""The names to resolve for a selection: TS 23.003 forms plus names operators publish."""

from __future__ import annotations

from collections.abc import Sequence

from .config import Selection
from .names import DEFAULT_KINDS, EpdgName, names_for
from .operators import OperatorDb
from .plmn import Plmn

#: The kind of a name taken from an overrides file rather than built from the PLMN.
PUBLISHED = "published"


def select_plmns(db: OperatorDb, selection: Selection) -> tuple[Plmn, ...]:
    """The PLMNs of a selection; raises NothingSelectedError / UnknownCountryError."""
    return db.select(country=selection.countries, mcc=selection.mccs, plmn=selection.plmns)


def targets_for(
    db: OperatorDb, plmns: Sequence[Plmn], kinds: Sequence[str] = DEFAULT_KINDS
) -> list[EpdgName]:
    """Every (PLMN, kind, FQDN) to look up, published override names included (kind
    ``published``). Raises UnknownKindError / LocationCodeError for bad kinds."""
    out: list[EpdgName] = []
    for plmn in plmns:
        out.extend(names_for(plmn, kinds or DEFAULT_KINDS))
        for override in db.overrides_for(plmn):
            out.extend(EpdgName(plmn, PUBLISHED, fqdn.rstrip(".").lower()) for fqdn in override.names)
    return out
