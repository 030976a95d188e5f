"""An in-memory, read-only table of operators with the lookups the commands need."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..plmn import Plmn, parse_mcc
from .model import Operator, Override


class UnknownCountryError(UsageError):
    """A ``--country`` code that no operator in the data carries; ``code`` is the input."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown country code {code!r}: no operator in the data has it "
                         "(use ISO 3166-1 alpha-2 such as AU, or search by name)")
        self.code = code


class NothingSelectedError(UsageError):
    """A selection that is empty or matches no operator."""


@dataclass(frozen=True)
class DataInfo:
    """Where the loaded operator list came from (the data file's ``metadata`` object)."""

    path: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


class OperatorDb:
    """Operators in a stable order (MCC, MNC, then source order) plus published overrides.

    A PLMN may have several rows (one network serving several territories, e.g. 234-50 in
    Guernsey, Jersey and the UK); :meth:`get` picks one, :meth:`search` returns them all.
    """

    def __init__(self, operators: Iterable[Operator], overrides: Iterable[Override] = (),
                 info: DataInfo | None = None) -> None:
        indexed = list(enumerate(operators))
        indexed.sort(key=lambda pair: (pair[1].plmn, pair[0]))
        self._operators = tuple(op for _, op in indexed)
        self._by_plmn: dict[Plmn, list[Operator]] = {}
        for op in self._operators:
            self._by_plmn.setdefault(op.plmn, []).append(op)
        self._home = _home_countries(self._operators)
        self._overrides: dict[Plmn, tuple[Override, ...]] = {}
        for override in overrides:
            self._overrides[override.plmn] = self._overrides.get(override.plmn, ()) + (override,)
        self._codes = {code.upper() for op in self._operators for code in op.country_codes}
        self._codes |= {op.country_iso.upper() for op in self._operators if op.country_iso}
        self.info = info or DataInfo(path="<memory>")

    def all(self) -> tuple[Operator, ...]:
        """Every row, sorted by PLMN (MCC, then MNC as a string: "05" before "050")."""
        return self._operators

    def __len__(self) -> int:
        return len(self._operators)

    def plmns(self) -> tuple[Plmn, ...]:
        """Every distinct PLMN, sorted."""
        return tuple(self._by_plmn)

    def get(self, plmn: Plmn) -> Operator | None:
        """The row for ``plmn`` (MNC length must match), or None.

        Where a PLMN has several rows, the one in the MCC's home country (the country most
        rows of that MCC belong to) wins, then an operational one, then the first listed.
        """
        rows = self._by_plmn.get(plmn)
        if not rows:
            return None
        home = self._home.get(plmn.mcc)
        return min(rows, key=lambda op: (op.country_iso != home, op.status != "Operational"))

    def same_fqdn(self, plmn: Plmn) -> tuple[Plmn, ...]:
        """Known PLMNs whose padded MNC equals ``plmn``'s ("505-001" → 505-01): for hints."""
        return tuple(p for p in self._by_plmn if p.mcc == plmn.mcc and p.mnc3 == plmn.mnc3)

    def search(
        self,
        *,
        country: Sequence[str] = (),
        mcc: Sequence[str] = (),
        plmn: Sequence[Plmn] = (),
        text: str | None = None,
        active_only: bool = False,
    ) -> tuple[Operator, ...]:
        """Rows matching every filter given; values within one filter are alternatives.

        ``country``: ISO codes, case-insensitive, matched against each code of a multi-
        territory row ("AU" finds "AU/CC/CX"); ``mcc``: 3-digit codes; ``plmn``: exact PLMNs;
        ``text``: case-insensitive substring of brand, operator, country or "MCC-MNC";
        ``active_only``: only rows whose status says the network is in service
        (:attr:`Operator.operational`).
        Raises :class:`UnknownCountryError` for a country code no row has and
        :class:`~wifiq.plmn.InvalidMccError` for a malformed MCC.
        """
        countries = {code.strip().upper() for code in country}
        for code in countries:
            if code not in self._codes:
                raise UnknownCountryError(code)
        mccs = {parse_mcc(code) for code in mcc}
        plmns = set(plmn)
        needle = text.casefold() if text else None
        out = []
        for op in self._operators:
            if countries and not (countries & {c.upper() for c in op.country_codes}
                                  or op.country_iso.upper() in countries):
                continue
            if mccs and op.plmn.mcc not in mccs:
                continue
            if plmns and op.plmn not in plmns:
                continue
            if needle is not None and not _matches_text(op, needle):
                continue
            if active_only and not op.operational:
                continue
            out.append(op)
        return tuple(out)

    def select(
        self,
        *,
        country: Sequence[str] = (),
        mcc: Sequence[str] = (),
        plmn: Sequence[Plmn] = (),
        text: str | None = None,
        active_only: bool = False,
    ) -> tuple[Plmn, ...]:
        """The distinct PLMNs a command-line selection names, in a stable order.

        Only ``plmn`` given: exactly those PLMNs, in the order given, whether or not the data
        lists them (names can be built for any PLMN, e.g. test network 001-01), also with
        ``active_only`` (a PLMN named is a PLMN wanted). Otherwise the PLMNs of :meth:`search`
        with the same filters; with ``active_only``, a PLMN with at least one operational row.
        Raises :class:`NothingSelectedError`
        when nothing is given or nothing matches, and what :meth:`search` raises.
        """
        if not (country or mcc or plmn or text):
            raise NothingSelectedError("select operators with --plmn, --country, --mcc or a name")
        if plmn and not (country or mcc or text):
            return tuple(dict.fromkeys(plmn))
        found = tuple(dict.fromkeys(op.plmn for op in self.search(
            country=country, mcc=mcc, plmn=plmn, text=text, active_only=active_only)))
        if not found:
            raise NothingSelectedError(
                "no operator matches the selection"
                + (" (--active-only: none of them is operational in the data)"
                   if active_only and self.search(country=country, mcc=mcc, plmn=plmn, text=text)
                   else ""))
        return found

    def overrides_for(self, plmn: Plmn) -> tuple[Override, ...]:
        """Published extra names / ranges for exactly this PLMN, embedded ones first."""
        return self._overrides.get(plmn, ())

    def overrides(self) -> tuple[Override, ...]:
        """Every override, grouped by PLMN in load order."""
        return tuple(o for group in self._overrides.values() for o in group)


def _matches_text(op: Operator, needle: str) -> bool:
    fields = (op.brand, op.operator, op.country, op.country_iso, str(op.plmn))
    return any(value is not None and needle in value.casefold() for value in fields)


def _home_countries(operators: Sequence[Operator]) -> dict[str, str]:
    """MCC → the country_iso most of its rows carry (first seen wins a tie)."""
    counts: dict[str, Counter[str]] = {}
    for op in operators:
        counts.setdefault(op.plmn.mcc, Counter())[op.country_iso] += 1
    return {mcc: counter.most_common(1)[0][0] for mcc, counter in counts.items()}
