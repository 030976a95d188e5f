"""The ARA-M rule model (GP SEAC REF-AR-DO) as frozen dataclasses, with parse/encode pairs.

A rule on the card is one REF-AR-DO::

    E2 REF-AR-DO
       E1 REF-DO      4F AID-REF-DO (n bytes; 4F 00 = empty) | C0 00 (implicit)   -- optional
                      C1 DeviceAppID-REF-DO (certificate hash, SHA-1 20 B / SHA-256 32 B)
                      CA PKG-REF-DO (Android package name, ASCII)                  -- optional
       E3 AR-DO       D0 APDU-AR-DO (00 never | 01 always | n x 8 B header+mask)   -- optional
                      D1 NFC-AR-DO (00 never | 01 always)                          -- optional
                      DB PERM-AR-DO (8 B carrier-privilege permissions)            -- optional

Rules read from a card keep their exact bytes (``raw``) because Android's parser depends on
the order of the inner objects; rules we build are encoded in the order above.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from .tlv import Tlv, TlvError, encode_tlv, parse_one, parse_single, parse_tlvs

TAG_ALL_REF_AR_DO = 0xFF40
TAG_REF_AR_DO = 0xE2
TAG_REF_DO = 0xE1
TAG_AR_DO = 0xE3
TAG_AID_REF = 0x4F
TAG_AID_IMPLICIT = 0xC0
TAG_HASH = 0xC1
TAG_PKG = 0xCA
TAG_APDU = 0xD0
TAG_NFC = 0xD1
TAG_PERM = 0xDB

CARRIER_PRIVILEGE_AID = bytes.fromhex("FFFFFFFFFFFF")
DEFAULT_PERM = bytes.fromhex("0000000000000001")


@dataclass(frozen=True)
class ApduFilter:
    """One APDU filter of an APDU-AR-DO: 4-byte header (CLA INS P1 P2) and 4-byte mask."""

    header: bytes
    mask: bytes


ApduRule = Union[bool, tuple[ApduFilter, ...], None]
"""True = always, False = never, a tuple = filters, None = no APDU-AR-DO."""


@dataclass(frozen=True)
class AccessRule:
    """One access rule (REF-AR-DO) in a form people and Android checks can read.

    ``aid`` is the AID-REF-DO value (``b""`` for ``4F 00``, None when absent); ``aid_implicit``
    is True when ``C0`` is present; ``hash`` is None when ``C1`` is absent. ``extra_ref`` and
    ``extra_ar`` hold inner objects we do not model, so a rule read from a card re-encodes to
    the same content. ``raw`` is the REF-AR-DO exactly as the card sent it (or as we encode it).
    """

    hash: bytes | None
    aid: bytes | None = CARRIER_PRIVILEGE_AID
    aid_implicit: bool = False
    package: str | None = None
    apdu: ApduRule = None
    nfc: bool | None = None
    perm: bytes | None = DEFAULT_PERM
    has_ar_do: bool = True
    extra_ref: tuple[Tlv, ...] = ()
    extra_ar: tuple[Tlv, ...] = ()
    raw: bytes = field(default=b"", compare=False, repr=False)

    @property
    def identity(self) -> tuple:
        """What makes two rules the same rule (everything but the raw byte order)."""
        return (self.aid, self.aid_implicit, self.hash, self.package, self.apdu, self.nfc,
                self.perm, self.has_ar_do, self.extra_ref, self.extra_ar)

    @property
    def ref_identity(self) -> tuple:
        """What identifies the REF-DO (a spec card refuses a second rule with the same REF-DO)."""
        return (self.aid, self.aid_implicit, self.hash, self.package, self.extra_ref)

    def encoded(self) -> bytes:
        """The REF-AR-DO bytes: ``raw`` when read from a card, else the canonical encoding."""
        return self.raw or encode_ref_ar_do(self)

    def ref_do(self) -> bytes:
        """The REF-DO (E1) in canonical order."""
        return encode_tlv(TAG_REF_DO, _ref_do_value(self))


def _ref_do_value(rule: AccessRule) -> bytes:
    out = b""
    if rule.aid is not None:
        out += encode_tlv(TAG_AID_REF, rule.aid)
    if rule.aid_implicit:
        out += encode_tlv(TAG_AID_IMPLICIT, b"")
    if rule.hash is not None:
        out += encode_tlv(TAG_HASH, rule.hash)
    if rule.package is not None:
        out += encode_tlv(TAG_PKG, rule.package.encode("ascii"))
    out += b"".join(t.encode() for t in rule.extra_ref)
    return out


def _ar_do_value(rule: AccessRule) -> bytes:
    out = b""
    if rule.apdu is True:
        out += encode_tlv(TAG_APDU, b"\x01")
    elif rule.apdu is False:
        out += encode_tlv(TAG_APDU, b"\x00")
    elif rule.apdu is not None:
        out += encode_tlv(TAG_APDU, b"".join(f.header + f.mask for f in rule.apdu))
    if rule.nfc is not None:
        out += encode_tlv(TAG_NFC, b"\x01" if rule.nfc else b"\x00")
    if rule.perm is not None:
        out += encode_tlv(TAG_PERM, rule.perm)
    out += b"".join(t.encode() for t in rule.extra_ar)
    return out


def encode_ref_ar_do(rule: AccessRule) -> bytes:
    """Canonical REF-AR-DO (E2) bytes for ``rule``."""
    body = rule.ref_do()
    if rule.has_ar_do:
        body += encode_tlv(TAG_AR_DO, _ar_do_value(rule))
    return encode_tlv(TAG_REF_AR_DO, body)


def _parse_apdu(value: bytes, what: str) -> ApduRule:
    if value == b"\x01":
        return True
    if value == b"\x00":
        return False
    if not value or len(value) % 8:
        raise TlvError(what, 0, f"APDU-AR-DO of {len(value)} bytes (need 1 or n x 8)")
    return tuple(ApduFilter(value[i : i + 4], value[i + 4 : i + 8]) for i in range(0, len(value), 8))


def parse_ref_ar_do(data: bytes, *, what: str = "REF-AR-DO") -> AccessRule:
    """Parse one complete E2 object into an AccessRule; raises TlvError on malformed bytes.

    Unknown inner objects are kept (``extra_ref``/``extra_ar``) rather than dropped; a second
    E1/E3 or an unknown object directly inside E2 is an error.
    """
    e2 = parse_single(data, TAG_REF_AR_DO, what=what)
    ref: Tlv | None = None
    ar: Tlv | None = None
    for inner in e2.children(what=what):
        if inner.tag == TAG_REF_DO and ref is None:
            ref = inner
        elif inner.tag == TAG_AR_DO and ar is None:
            ar = inner
        else:
            raise TlvError(what, 0, f"unexpected {inner.tag:X} inside REF-AR-DO")
    if ref is None:
        raise TlvError(what, 0, "REF-AR-DO without a REF-DO (E1)")
    fields: dict = {"has_ar_do": ar is not None, "perm": None}  # no DB: perm None, not the default
    extra_ref = _ref_do_fields(ref, fields, what)
    extra_ar = _ar_do_fields(ar, fields, what) if ar is not None else ()
    return AccessRule(extra_ref=extra_ref, extra_ar=extra_ar, raw=bytes(data), **fields)


def _ref_do_fields(ref: Tlv, fields: dict, what: str) -> tuple[Tlv, ...]:
    """Fill ``fields`` (aid, aid_implicit, hash, package) from an E1; returns the objects we do
    not model. The first of a repeated object counts; later ones are kept as extra."""
    fields.update(aid=None, hash=None)
    seen: set[int] = set()
    extra: list[Tlv] = []
    for t in ref.children(what=what):
        first = t.tag not in seen
        seen.add(t.tag)
        if t.tag == TAG_AID_REF and first:
            fields["aid"] = t.value
        elif t.tag == TAG_AID_IMPLICIT and not t.value:
            fields["aid_implicit"] = True
        elif t.tag == TAG_HASH and first:
            fields["hash"] = t.value
        elif t.tag == TAG_PKG and first:
            try:
                fields["package"] = t.value.decode("ascii")
            except UnicodeDecodeError:
                raise TlvError(what, 0, "PKG-REF-DO is not ASCII") from None
        else:
            extra.append(t)
    return tuple(extra)


def _ar_do_fields(ar: Tlv, fields: dict, what: str) -> tuple[Tlv, ...]:
    """Fill ``fields`` (apdu, nfc, perm) from an E3; returns the objects we do not model."""
    extra: list[Tlv] = []
    for t in ar.children(what=what):
        if t.tag == TAG_APDU and "apdu" not in fields:
            fields["apdu"] = _parse_apdu(t.value, what)
        elif t.tag == TAG_NFC and "nfc" not in fields and len(t.value) == 1 and t.value[0] < 2:
            fields["nfc"] = bool(t.value[0])
        elif t.tag == TAG_PERM and fields["perm"] is None:
            fields["perm"] = t.value
        else:
            extra.append(t)
    return tuple(extra)


def parse_all_ref_ar_do(data: bytes, *, what: str = "FF40 answer") -> tuple[AccessRule, ...]:
    """Parse a complete ``FF40`` Response-ALL-REF-AR-DO into rules (card order)."""
    ff40 = parse_single(data, TAG_ALL_REF_AR_DO, what=what)
    parse_tlvs(ff40.value, what=what)  # whole structure well-formed before we slice it
    rules: list[AccessRule] = []
    offset = 0
    while offset < len(ff40.value):
        _, end = parse_one(ff40.value, offset, what=what)
        rules.append(parse_ref_ar_do(ff40.value[offset:end], what=what))
        offset = end
    return tuple(rules)


def encode_all_ref_ar_do(rules: tuple[AccessRule, ...] | list[AccessRule]) -> bytes:
    """The FF40 object holding ``rules`` (each as its ``encoded()`` bytes)."""
    return encode_tlv(TAG_ALL_REF_AR_DO, b"".join(r.encoded() for r in rules))
