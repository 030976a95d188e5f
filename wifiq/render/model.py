"""The one model every renderer reads: operators with their active ePDG addresses, and deltas.

Renderers never see JSON: :mod:`wifiq.render.loader` turns a ``wifiq resolve --json`` /
``wifiq refresh --json`` document into a :class:`RenderInput`; :func:`compute_delta` compares two.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property, lru_cache
from ipaddress import IPv4Address, IPv6Address

IPAddress = IPv4Address | IPv6Address


class _KeepsText:
    """Mixin: an address that keeps its text, for ``str()`` and f-strings alike (renderers print
    each address many times; ``str()`` of IPv6 and ``format()`` of both are slow in CPython)."""

    __slots__ = ()
    _text: str

    def __str__(self) -> str:
        return self._text

    def __format__(self, spec: str) -> str:
        return self._text if not spec else super().__format__(spec)


class _TextIPv4Address(_KeepsText, IPv4Address):
    __slots__ = ("_text",)


class _TextIPv6Address(_KeepsText, IPv6Address):
    __slots__ = ("_text",)


@lru_cache(maxsize=65536)
def parse_address(text: str) -> IPAddress:
    """Parse one IPv4/IPv6 address (raises ValueError); its text is computed once, and an
    address listed by several operators (MVNOs share their host's ePDGs) is parsed once.

    IPv6 goes through the C library (``inet_pton``/``inet_ntop``: RFC 5952 text, as
    :mod:`ipaddress` prints it) — ten times faster; embedded-IPv4 forms and anything the C
    library refuses take the :mod:`ipaddress` path, so the accepted inputs and the text are
    those of :mod:`ipaddress`.
    """
    address: IPAddress
    if ":" in text:
        try:
            packed = socket.inet_pton(socket.AF_INET6, text)
        except OSError:
            packed = b""
        shown = socket.inet_ntop(socket.AF_INET6, packed) if packed else "."
        if "." in shown:
            address = _TextIPv6Address(text)
            address._text = IPv6Address.__str__(address)
        else:
            address = _TextIPv6Address(int.from_bytes(packed, "big"))
            address._text = shown
    else:
        address = _TextIPv4Address(text)
        address._text = IPv4Address.__str__(address)
    return address

#: The traffic every target marks: IKE and NAT-T over UDP, and ESP (IP protocol 50).
IKE_PORT = 500
NATT_PORT = 4500
UDP_PORTS: tuple[int, ...] = (IKE_PORT, NATT_PORT)
ESP_PROTOCOL = 50


def address_sort_key(address: IPAddress) -> tuple[int, int]:
    """Order addresses IPv4 first, then numerically (the order every output uses)."""
    return (address.version, int(address))


@dataclass(frozen=True)
class OperatorAddresses:
    """One operator (PLMN) and its active ePDG addresses, IPv4 and IPv6, sorted and unique.

    ``had_addresses``: the input knows this operator held addresses before (a refresh's
    ``removed`` entries, the state's history, the previous file of a delta), so a device may
    still hold wifiq objects for it although it has none now. Set by the loaders; a full output
    removes objects only of operators that have addresses or had them (:attr:`may_have_objects`).
    """

    plmn: str
    mcc: str
    mnc: str
    brand: str | None
    operator: str | None
    addresses: tuple[IPAddress, ...]
    had_addresses: bool = False

    @property
    def may_have_objects(self) -> bool:
        """True when a device may hold wifiq objects for this operator: it has addresses now,
        or the input knows it had some. An operator with neither never got an object."""
        return bool(self.addresses) or self.had_addresses

    @cached_property
    def label(self) -> str:
        """Human name for comments: ``505-01 Telstra`` (brand, else operator, else PLMN only)."""
        name = self.brand or self.operator
        return f"{self.plmn} {name}" if name else self.plmn

    @cached_property
    def summary(self) -> str:
        """One line for output headers: ``505-01 Telstra (Telstra Corporation Ltd): 3 active``."""
        extra = f" ({self.operator})" if self.operator and self.brand and self.operator != self.brand else ""
        return f"{self.label}{extra}: {len(self.addresses) if self.addresses else 'no'} active"

    @cached_property
    def _families(self) -> dict[int, tuple[IPAddress, ...]]:
        return {v: tuple(a for a in self.addresses if a.version == v) for v in (4, 6)}

    def family(self, version: int) -> tuple[IPAddress, ...]:
        """This operator's addresses of one IP version (4 or 6)."""
        return self._families[version]


@dataclass(frozen=True)
class RenderInput:
    """A refresh's result as renderers see it: operators (sorted by PLMN) and provenance."""

    operators: tuple[OperatorAddresses, ...]
    refreshed_at: datetime
    wifiq_version: str

    @property
    def refreshed_at_text(self) -> str:
        """The refresh time as every output prints it: ISO 8601 UTC with a Z, to the second."""
        return self.refreshed_at.strftime("%Y-%m-%dT%H:%M:%SZ")

    @cached_property
    def with_addresses(self) -> tuple[OperatorAddresses, ...]:
        """Operators that have at least one active address (the only ones that get objects)."""
        return tuple(op for op in self.operators if op.addresses)

    @cached_property
    def may_have_objects(self) -> tuple[OperatorAddresses, ...]:
        """Operators a device may hold wifiq objects for (addresses now, or had some): the only
        ones a full output's removal lines name, so its size does not grow with operators that
        never had an address."""
        return tuple(op for op in self.operators if op.may_have_objects)

    def knowing(self, previous: RenderInput) -> RenderInput:
        """This input, also knowing that the operators with addresses in ``previous`` had some
        (what a refresh that followed ``previous`` knows)."""
        had = {op.plmn for op in previous.operators if op.may_have_objects}
        if not any(op.plmn in had and not op.may_have_objects for op in self.operators):
            return self
        operators = tuple(
            replace(op, had_addresses=True) if op.plmn in had and not op.may_have_objects else op for op in self.operators
        )
        return replace(self, operators=operators)

    @cached_property
    def _owners(self) -> dict[IPAddress, tuple[OperatorAddresses, ...]]:
        owners: dict[IPAddress, list[OperatorAddresses]] = {}
        for op in self.operators:
            for address in op.addresses:
                owners.setdefault(address, []).append(op)
        return {a: tuple(owners[a]) for a in sorted(owners, key=address_sort_key)}

    @cached_property
    def _by_version(self) -> dict[int | None, tuple[IPAddress, ...]]:
        every = tuple(self._owners)
        return {None: every, 4: tuple(a for a in every if a.version == 4), 6: tuple(a for a in every if a.version == 6)}

    def owners(self) -> dict[IPAddress, tuple[OperatorAddresses, ...]]:
        """Every active address (sorted) mapped to the operators that list it (do not modify).

        Two PLMNs may share an ePDG (an MVNO and its host): set-based targets hold each address
        once and name every owner in its comment.
        """
        return self._owners

    @cached_property
    def _owner_labels(self) -> dict[IPAddress, str]:
        return {a: ", ".join(op.label for op in ops) for a, ops in self._owners.items()}

    def owner_labels(self, address: IPAddress) -> str:
        """The labels of every operator listing ``address``, comma-separated (for the comment
        of a set element: ``310-026, 311-480 Verizon``)."""
        return self._owner_labels[address]

    def addresses(self, version: int | None = None) -> tuple[IPAddress, ...]:
        """All distinct active addresses, sorted; only one IP version if ``version`` is given."""
        return self._by_version[version]


@dataclass(frozen=True)
class FamilyChange:
    """One operator's change within one IP version (what per-operator delta renderers walk).

    ``kind``: ``"added"`` (none of this family before: create its objects), ``"removed"`` (none
    now: delete them), ``"changed"`` (edit members) or ``"same"`` (nothing to do).
    """

    version: int
    before: tuple[IPAddress, ...]
    after: tuple[IPAddress, ...]
    added: tuple[IPAddress, ...]
    removed: tuple[IPAddress, ...]

    @property
    def kind(self) -> str:
        if not self.before:
            return "added" if self.after else "same"
        if not self.after:
            return "removed"
        return "changed" if self.added or self.removed else "same"


@dataclass(frozen=True)
class OperatorChange:
    """How one operator's address set changed between two refreshes.

    ``kind`` is ``"added"`` (no addresses before, some now: its objects must be created),
    ``"removed"`` (some before, none now: its objects must be deleted) or ``"changed"``.
    """

    kind: str
    before: OperatorAddresses | None
    after: OperatorAddresses | None
    added: tuple[IPAddress, ...]
    removed: tuple[IPAddress, ...]

    @property
    def current(self) -> OperatorAddresses:
        """The operator as it is now, or as it was if it is gone."""
        return self.after or self.before  # type: ignore[return-value]

    def family(self, version: int) -> FamilyChange:
        """This operator's change in one IP version (4 or 6)."""
        return FamilyChange(
            version=version,
            before=self.before.family(version) if self.before else (),
            after=self.after.family(version) if self.after else (),
            added=tuple(a for a in self.added if a.version == version),
            removed=tuple(a for a in self.removed if a.version == version),
        )


@dataclass(frozen=True)
class Delta:
    """The change from one refresh to the next, per operator and for the union of addresses."""

    previous: RenderInput
    current: RenderInput
    operators: tuple[OperatorChange, ...]
    added: tuple[IPAddress, ...] = field(default=())
    removed: tuple[IPAddress, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """True when nothing a renderer could express changed."""
        return not self.operators


def compute_delta(previous: RenderInput, current: RenderInput) -> Delta:
    """Compare two refreshes: per-operator changes and union-level added/removed addresses.

    An address removed from one operator but still listed by another is not in ``removed``
    (set-based targets keep it); per-operator targets use :attr:`Delta.operators`.
    """
    before = {op.plmn: op for op in previous.with_addresses}
    after = {op.plmn: op for op in current.with_addresses}
    changes: list[OperatorChange] = []
    for plmn in sorted(before.keys() | after.keys()):
        old, new = before.get(plmn), after.get(plmn)
        old_set = set(old.addresses) if old else set()
        new_set = set(new.addresses) if new else set()
        if old_set == new_set:
            continue
        kind = "added" if old is None else "removed" if new is None else "changed"
        changes.append(
            OperatorChange(
                kind=kind,
                before=old,
                after=new,
                added=tuple(sorted(new_set - old_set, key=address_sort_key)),
                removed=tuple(sorted(old_set - new_set, key=address_sort_key)),
            )
        )
    old_union, new_union = set(previous.addresses()), set(current.addresses())
    return Delta(
        previous=previous,
        current=current,
        operators=tuple(changes),
        added=tuple(sorted(new_union - old_union, key=address_sort_key)),
        removed=tuple(sorted(old_union - new_union, key=address_sort_key)),
    )
