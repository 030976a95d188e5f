"""The ePDG and N3IWF FQDNs of 3GPP TS 23.003 §19.4.2.9 and §28.3.2.2 for a PLMN.

Spelled as AOSP Iwlan ``EpdgSelector`` builds them: the MNC always padded to 3 digits, TAC and
LAC as lower-case hex bytes, and ``sos.`` in front of the service label for emergency names
(``tac-lb1a.tac-hb0b.tac.sos.epdg.epc.mnc001.mcc505.pub.3gppnetwork.org``). N3IWF names
(5G untrusted non-3GPP access) have the same forms under ``n3iwf.5gc`` instead of ``epdg.epc``.

Kinds (the ``--kind`` values); examples for MCC 345, MNC 12, TAC 0x0b1a (5GS 0x0b1a21), LAC 0x1a2b:

- ``epdg``: ``epdg.epc.mnc012.mcc345.pub.3gppnetwork.org`` (operator identifier)
- ``sos``: ``sos.epdg.epc.mnc012.mcc345.pub.3gppnetwork.org`` (emergency)
- ``visited-country``: ``epdg.epc.mcc345.visited-country.pub.3gppnetwork.org``
- ``visited-country-sos``: ``sos.epdg.epc.mcc345.visited-country.pub.3gppnetwork.org``
- ``tac``: ``tac-lb1a.tac-hb0b.tac.epdg.epc.mnc012…`` (EPS TAC, 16 bits)
- ``tac-sos``: ``tac-lb1a.tac-hb0b.tac.sos.epdg.epc.mnc012…``
- ``tac-5gs``: ``tac-lb21.tac-mb1a.tac-hb0b.5gstac.epdg.epc.mnc012…`` (5GS TAC, 24 bits)
- ``tac-5gs-sos``: ``tac-lb21.tac-mb1a.tac-hb0b.5gstac.sos.epdg.epc.mnc012…``
- ``lac``: ``lac1a2b.epdg.epc.mnc012…`` (LAC, 16 bits, 4 hex digits)
- ``lac-sos``: ``lac1a2b.sos.epdg.epc.mnc012…``
- ``n3iwf``, ``n3iwf-sos``, ``n3iwf-visited-country``, ``n3iwf-visited-country-sos``,
  ``n3iwf-tac``, ``n3iwf-tac-sos``, ``n3iwf-tac-5gs``, ``n3iwf-tac-5gs-sos``: the same forms
  with ``n3iwf.5gc`` in place of ``epdg.epc`` (TS 23.003 has no LAI-based N3IWF name).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import UsageError
from .plmn import Plmn

PARENT = "pub.3gppnetwork.org"
_SERVICES = {"epdg": "epdg.epc", "n3iwf": "n3iwf.5gc"}


@dataclass(frozen=True)
class _Form:
    """How one kind is spelled: which service, emergency or not, which location prefix."""

    service: str  # key of _SERVICES
    emergency: bool
    locator: str  # "plmn", "visited-country", "tac", "tac-5gs" or "lac"


def _kind_table() -> dict[str, _Form]:
    table: dict[str, _Form] = {}
    for service in _SERVICES:
        for locator in ("plmn", "visited-country", "tac", "tac-5gs", "lac"):
            if service == "n3iwf" and locator == "lac":
                continue  # TS 23.003 §28.3.2.2 has no LAI-based N3IWF FQDN
            for emergency in (False, True):
                parts = [] if service == "epdg" else ["n3iwf"]
                if locator != "plmn":
                    parts.append(locator)
                if emergency:
                    parts.append("sos")
                name = "-".join(parts) or "epdg"
                table[name] = _Form(service, emergency, locator)
    return table


_FORMS = _kind_table()
KINDS: tuple[str, ...] = tuple(_FORMS)
"""Every kind spelling, in a stable order (ePDG forms first, then N3IWF)."""
DEFAULT_KINDS: tuple[str, ...] = ("epdg", "sos")

TAC_MAX = 0xFFFF  # EPS tracking area code: 2 octets (TS 23.003 §19.4.2.3)
TAC_5GS_MAX = 0xFFFFFF  # 5GS tracking area code: 3 octets (TS 23.003 §19.4.2.3)
LAC_MAX = 0xFFFF  # location area code: 2 octets (TS 23.003 §4.1)


class UnknownKindError(UsageError):
    """A name kind that :data:`KINDS` does not list; ``kind`` is the input."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown name kind {kind!r}: choose from {', '.join(KINDS)}")
        self.kind = kind


class LocationCodeError(UsageError):
    """A TAC or LAC is missing for a kind that needs it, or is out of range for that kind."""

    def __init__(self, kind: str, code_name: str, value: int | None, maximum: int) -> None:
        if value is None:
            message = f"name kind {kind!r} needs a {code_name} (--{code_name.lower()} N)"
        else:
            message = (f"{code_name} {value} is out of range for name kind {kind!r} "
                       f"(0..{maximum}, 0x0..0x{maximum:x})")
        super().__init__(message)
        self.kind = kind
        self.code_name = code_name
        self.value = value
        self.maximum = maximum


@dataclass(frozen=True)
class EpdgName:
    """One FQDN a phone would look up: for which PLMN, of which kind (see :data:`KINDS`)."""

    plmn: Plmn
    kind: str
    fqdn: str


def _check_code(kind: str, code_name: str, value: int | None, maximum: int) -> int:
    if value is None or isinstance(value, bool) or not 0 <= value <= maximum:
        raise LocationCodeError(kind, code_name, value, maximum)
    return value


def _fqdn(plmn: Plmn, kind: str, form: _Form, tac: int | None, lac: int | None) -> str:
    service = ("sos." if form.emergency else "") + _SERVICES[form.service]
    if form.locator == "visited-country":
        return f"{service}.mcc{plmn.mcc}.visited-country.{PARENT}"
    operator = f"{service}.mnc{plmn.mnc3}.mcc{plmn.mcc}.{PARENT}"
    if form.locator == "plmn":
        return operator
    if form.locator == "tac":
        code = _check_code(kind, "TAC", tac, TAC_MAX)
        return f"tac-lb{code & 0xFF:02x}.tac-hb{code >> 8:02x}.tac.{operator}"
    if form.locator == "tac-5gs":
        code = _check_code(kind, "TAC", tac, TAC_5GS_MAX)
        return (f"tac-lb{code & 0xFF:02x}.tac-mb{(code >> 8) & 0xFF:02x}"
                f".tac-hb{code >> 16:02x}.5gstac.{operator}")
    code = _check_code(kind, "LAC", lac, LAC_MAX)
    return f"lac{code:04x}.{operator}"


def names_for(
    plmn: Plmn,
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    tac: int | None = None,
    lac: int | None = None,
) -> tuple[EpdgName, ...]:
    """The FQDNs of ``kinds`` for ``plmn``, in the order the kinds are given (repeats dropped).

    Raises :class:`UnknownKindError` for a kind not in :data:`KINDS` and
    :class:`LocationCodeError` when a TAC/LAC kind has no code or one out of range.
    """
    out: list[EpdgName] = []
    for kind in dict.fromkeys(kinds):
        form = _FORMS.get(kind)
        if form is None:
            raise UnknownKindError(kind)
        out.append(EpdgName(plmn, kind, _fqdn(plmn, kind, form, tac, lac)))
    return tuple(out)


def check_kind_names(kinds: Sequence[str]) -> None:
    """Raise :class:`UnknownKindError` for the first kind :data:`KINDS` does not list."""
    for kind in kinds:
        if kind not in _FORMS:
            raise UnknownKindError(kind)


def check_kinds(kinds: Sequence[str], *, tac: int | None = None, lac: int | None = None) -> None:
    """Raise what :func:`names_for` would for these kinds, without a PLMN (for early CLI checks)."""
    names_for(Plmn("001", "01"), kinds, tac=tac, lac=lac)


@dataclass(frozen=True)
class SharedName:
    """One FQDN of one kind and every selected PLMN that maps to it, first-seen order.

    Several PLMNs share a name: "57" and "057" pad to the same MNC label, and every PLMN of
    an MCC shares its visited-country names.
    """

    kind: str
    fqdn: str
    plmns: tuple[Plmn, ...]


def group_by_fqdn(names: Iterable[EpdgName]) -> tuple[SharedName, ...]:
    """Merge names with the same (kind, FQDN), keeping the order each was first seen."""
    groups: dict[tuple[str, str], list[Plmn]] = {}
    for name in names:
        plmns = groups.setdefault((name.kind, name.fqdn), [])
        if name.plmn not in plmns:
            plmns.append(name.plmn)
    return tuple(SharedName(kind, fqdn, tuple(plmns)) for (kind, fqdn), plmns in groups.items())
