"""The operator records wifiq knows about: one MCC/MNC row, and one published override."""

from __future__ import annotations

from dataclasses import dataclass

from ..plmn import Plmn

#: The data's status values that mean the network is in service (``--active-only`` keeps
#: these). Every other value — "Not operational", "Unknown", "Reserved", "Planned", "Testing",
#: "Returned spare", none — is left out by ``--active-only``.
OPERATIONAL_STATUSES = frozenset({"Operational", "Temporary operational"})


@dataclass(frozen=True)
class Operator:
    """One row of the MCC/MNC list: a PLMN as used in one country or territory.

    ``country_iso`` is the ISO 3166-1 code as the source gives it: it may name several
    territories (``"AU/CC/CX"``), a subdivision (``"GE-AB"``), or be ``""`` for the
    international and test ranges (MCC 001, 901, 902, 991, 995, 999).
    """

    plmn: Plmn
    country_iso: str
    country: str
    brand: str | None
    operator: str | None
    status: str | None

    @property
    def country_codes(self) -> tuple[str, ...]:
        """The ISO codes ``country_iso`` lists (``"AU/CC/CX"`` → AU, CC, CX)."""
        return tuple(code for code in self.country_iso.split("/") if code)

    @property
    def operational(self) -> bool:
        """The data says the network is in service (:data:`OPERATIONAL_STATUSES`)."""
        return self.status in OPERATIONAL_STATUSES

    @property
    def display_name(self) -> str:
        """Brand, else operator, else ``"?"``: the name people know the network by."""
        return self.brand or self.operator or "?"


@dataclass(frozen=True)
class Override:
    """Names or address ranges an operator publishes besides the TS 23.003 FQDNs.

    ``names`` are extra FQDNs to resolve (Verizon's ``wo.vzwwo.com``); ``ranges`` are CIDR
    blocks the operator documents for its ePDGs; ``source`` says where this was published
    (a URL or a document), or which overrides file the entry came from.
    """

    plmn: Plmn
    names: tuple[str, ...]
    ranges: tuple[str, ...]
    source: str
