"""The ARF file formats (GlobalPlatform SEAC v1.1 §8 on PKCS#15, ISO/IEC 7816-15): frozen
dataclasses with ``parse_*`` / ``encode_*`` pairs. Pure: bytes in, bytes out.

The chain a full reader follows, and the DER each file holds (padding after the last object is
``FF``, as cards fill unused bytes)::

    EF.DIR 2F00 (records)  61 { 4F <PKCS#15 AID>  50 <label> }
    EF.ODF 5031            A7 { 30 { 04 <DODF path> } }               (A7 = DODF; others kept)
    EF.DODF                A1 { 30 {…}  30 {…}  A1 { 30 { 06 <OID 1.2.840.114283.200.1.1>
                                                         30 { 04 <ACMF path> } } } }
    EF.ACMF                30 { 04 08 <refresh tag>  30 { 04 <ACRF path> } }
    EF.ACRF                30 { A0 { 04 <AID> } | 81 00 | 82 00   30 { 04 <ACCF path> } } …
    EF.ACCF                30 { 04 <certificate hash> } …   (30 00: no condition = any app)

Android's ``UiccPkcs15`` skips all but the last two: ACRF at file id 4300, the rule whose
target is ``A0 { 04 FFFFFFFFFFFF }``, then that rule's ACCF (``android.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..apk.der import decode_oid as der_decode_oid
from ..aram.tlv import Tlv, TlvError, encode_tlv, parse_one, parse_tlvs
from .errors import ArfFileFullError, ArfFormatError

PKCS15_AID = bytes.fromhex("A000000063504B43532D3135")
CARRIER_AID = bytes.fromhex("FFFFFFFFFFFF")
GP_SEAC_OID = "1.2.840.114283.200.1.1"
FID_DIR = bytes.fromhex("2F00")
FID_ODF = bytes.fromhex("5031")
FID_ANDROID_ACRF = bytes.fromhex("4300")
PADDING = (0xFF, 0x00)
REFRESH_TAG_SIZE = 8

TAG_SEQUENCE = 0x30
TAG_OCTETS = 0x04
TAG_OID = 0x06
TAG_ODF_DODF = 0xA7
TAG_DODF_OID_DO = 0xA1
TAG_TARGET_AID = 0xA0
TAG_TARGET_DEFAULT = 0x81
TAG_TARGET_ALL = 0x82


# --- helpers -----------------------------------------------------------------------------

def content_objects(data: bytes, file: str) -> tuple[Tlv, ...]:
    """The DER objects at the start of a file's bytes, up to the padding (FF or 00 filler).

    Raises ArfFormatError for a damaged object or for bytes after the padding starts."""
    out: list[Tlv] = []
    offset = 0
    while offset < len(data) and data[offset] not in PADDING:
        try:
            tlv, offset = parse_one(data, offset, what=file)
            if tlv.constructed:
                parse_tlvs(tlv.value, what=file, depth=1)
        except TlvError as exc:
            raise ArfFormatError(file, f"{exc.problem} at byte {exc.offset}") from None
        out.append(tlv)
    rest = data[offset:]
    if rest and any(b != rest[0] for b in rest):
        raise ArfFormatError(file, f"data after the padding at byte {offset}")
    return tuple(out)


def content_length(data: bytes, file: str) -> int:
    """How many bytes of ``data`` the objects use (the rest is padding)."""
    return sum(len(t.encode()) for t in content_objects(data, file))


def fill(content: bytes, size: int, file: str) -> bytes:
    """``content`` padded with FF to the file's ``size``; ArfFileFullError when it does not fit."""
    if len(content) > size:
        raise ArfFileFullError(file, len(content), size)
    return content + b"\xff" * (size - len(content))


def _children(tlv: Tlv, file: str) -> tuple[Tlv, ...]:
    try:
        return tlv.children(what=file)
    except TlvError as exc:
        raise ArfFormatError(file, exc.problem) from None


def _expect(tlv: Tlv, tag: int, file: str, what: str) -> Tlv:
    if tlv.tag != tag:
        raise ArfFormatError(file, f"{what}: expected tag {tag:02X}, found {tlv.tag:02X}")
    return tlv


def encode_oid(dotted: str) -> bytes:
    """DER content of an OBJECT IDENTIFIER ("1.2.840…" → 2A8648…)."""
    try:
        arcs = [int(a) for a in dotted.split(".")]
    except ValueError:
        raise ValueError(f"{dotted!r} is not a dotted OID") from None
    if len(arcs) < 2 or arcs[0] > 2 or any(a < 0 for a in arcs):
        raise ValueError(f"{dotted!r} is not a valid OID")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def decode_oid(raw: bytes, file: str = "OID") -> str:
    """Dotted form of an OID's DER content; ArfFormatError when empty or truncated."""
    if not raw or raw[-1] & 0x80:
        raise ArfFormatError(file, f"OID {raw.hex().upper() or '(empty)'} is truncated")
    return der_decode_oid(raw)


# --- Path ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Path:
    """PKCS#15 Path: file id(s) (2 bytes each; 3F00… absolute), optional index/length kept raw."""

    fids: bytes
    extra: bytes = b""

    @property
    def shown(self) -> str:
        return self.fids.hex().upper()

    @property
    def last(self) -> bytes:
        """The file id of the file itself (the last two bytes)."""
        return self.fids[-2:]


def parse_path(tlv: Tlv, file: str) -> Path:
    """``30 { 04 <path> [02 index] [80 length] }``."""
    kids = _children(_expect(tlv, TAG_SEQUENCE, file, "Path"), file)
    if not kids or kids[0].tag != TAG_OCTETS:
        raise ArfFormatError(file, "Path has no OCTET STRING (04)")
    fids = kids[0].value
    if not fids or len(fids) % 2:
        raise ArfFormatError(file, f"path {fids.hex().upper() or '(empty)'} is not whole file ids")
    return Path(fids, b"".join(k.encode() for k in kids[1:]))


def encode_path(path: Path) -> bytes:
    return encode_tlv(TAG_SEQUENCE, encode_tlv(TAG_OCTETS, path.fids) + path.extra)


# --- EF.DIR ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DirApp:
    """One EF.DIR record: application template 61 with its AID and label."""

    aid: bytes
    label: str = ""


def parse_dir_record(record: bytes) -> DirApp | None:
    """An EF.DIR record; None for an empty (all FF) record or one without an AID."""
    objs = content_objects(record, "EF.DIR")
    if not objs:
        return None
    app = _expect(objs[0], 0x61, "EF.DIR", "record")
    aid = label = None
    for kid in _children(app, "EF.DIR"):
        if kid.tag == 0x4F:
            aid = kid.value
        elif kid.tag == 0x50:
            label = kid.value.decode("latin-1")
    return DirApp(aid, label or "") if aid else None


def encode_dir_record(app: DirApp) -> bytes:
    body = encode_tlv(0x4F, app.aid) + (encode_tlv(0x50, app.label.encode("latin-1")) if app.label else b"")
    return encode_tlv(0x61, body)


# --- ODF --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Odf:
    """EF.ODF: where the DODFs are; other directory entries kept as they were."""

    dodfs: tuple[Path, ...]
    others: tuple[Tlv, ...] = ()


def parse_odf(data: bytes) -> Odf:
    dodfs, others = [], []
    for obj in content_objects(data, "EF.ODF"):
        if obj.tag == TAG_ODF_DODF:
            kids = _children(obj, "EF.ODF")
            if len(kids) != 1:
                raise ArfFormatError("EF.ODF", "DODF entry (A7) does not hold one Path")
            dodfs.append(parse_path(kids[0], "EF.ODF"))
        else:
            others.append(obj)
    return Odf(tuple(dodfs), tuple(others))


def encode_odf(odf: Odf) -> bytes:
    return b"".join(t.encode() for t in odf.others) + b"".join(
        encode_tlv(TAG_ODF_DODF, encode_path(p)) for p in odf.dodfs)


# --- DODF --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OidDataObject:
    """A DODF oidDO (A1): the OID and the path of the file it points at."""

    oid: str
    path: Path
    label: str = ""


def parse_dodf(data: bytes) -> tuple[OidDataObject, ...]:
    """The oidDO entries of a DODF (opaque and other entries are skipped)."""
    out = []
    for obj in content_objects(data, "EF.DODF"):
        if obj.tag != TAG_DODF_OID_DO:
            continue
        kids = _children(obj, "EF.DODF")
        typed = [k for k in kids if k.tag == TAG_DODF_OID_DO]
        if len(typed) != 1:
            raise ArfFormatError("EF.DODF", "oidDO (A1) without its typed attributes (A1)")
        label = ""
        if kids and kids[0].tag == TAG_SEQUENCE:
            for k in _children(kids[0], "EF.DODF"):
                if k.tag == 0x0C:
                    label = k.value.decode("utf-8", "replace")
        inner = _children(typed[0], "EF.DODF")
        if len(inner) != 1:
            raise ArfFormatError("EF.DODF", "oidDO value is not one SEQUENCE")
        seq = _children(_expect(inner[0], TAG_SEQUENCE, "EF.DODF", "OidDO"), "EF.DODF")
        if len(seq) != 2 or seq[0].tag != TAG_OID:
            raise ArfFormatError("EF.DODF", "OidDO is not { OID, Path }")
        out.append(OidDataObject(decode_oid(seq[0].value, "EF.DODF"), parse_path(seq[1], "EF.DODF"), label))
    return tuple(out)


def encode_dodf(entries: tuple[OidDataObject, ...]) -> bytes:
    out = b""
    for e in entries:
        common = encode_tlv(TAG_SEQUENCE, encode_tlv(0x0C, e.label.encode()) if e.label else b"")
        data_attrs = encode_tlv(TAG_SEQUENCE, b"")
        value = encode_tlv(TAG_SEQUENCE, encode_tlv(TAG_OID, encode_oid(e.oid)) + encode_path(e.path))
        out += encode_tlv(TAG_DODF_OID_DO, common + data_attrs + encode_tlv(TAG_DODF_OID_DO, value))
    return out


def acmf_path(entries: tuple[OidDataObject, ...]) -> Path | None:
    """The ACMF's path: the oidDO with GP SEAC's OID (the first, when several)."""
    for e in entries:
        if e.oid == GP_SEAC_OID:
            return e.path
    return None


# --- ACMF --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Acmf:
    """Access Control Main File: the refresh tag (8 bytes) and the ACRF's path."""

    refresh_tag: bytes
    acrf: Path


def parse_acmf(data: bytes) -> Acmf:
    objs = content_objects(data, "EF.ACMF")
    if len(objs) != 1:
        raise ArfFormatError("EF.ACMF", f"expected one SEQUENCE, found {len(objs)} objects")
    kids = _children(_expect(objs[0], TAG_SEQUENCE, "EF.ACMF", "ACMainFile"), "EF.ACMF")
    if len(kids) != 2 or kids[0].tag != TAG_OCTETS:
        raise ArfFormatError("EF.ACMF", "ACMainFile is not { refresh tag, ACRF path }")
    if len(kids[0].value) != REFRESH_TAG_SIZE:
        raise ArfFormatError("EF.ACMF", f"refresh tag is {len(kids[0].value)} bytes, not 8")
    return Acmf(kids[0].value, parse_path(kids[1], "EF.ACMF"))


def encode_acmf(acmf: Acmf) -> bytes:
    if len(acmf.refresh_tag) != REFRESH_TAG_SIZE:
        raise ValueError("refresh tag must be 8 bytes")
    return encode_tlv(TAG_SEQUENCE, encode_tlv(TAG_OCTETS, acmf.refresh_tag) + encode_path(acmf.acrf))


def next_refresh_tag(tag: bytes) -> bytes:
    """The refresh tag after ``tag``: +1 as a big-endian counter (wrapping), so it always changes."""
    return ((int.from_bytes(tag, "big") + 1) % (1 << 64)).to_bytes(REFRESH_TAG_SIZE, "big")


# --- ACRF --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AcrfRule:
    """One access rule: target (``aid`` with the AID, ``default`` or ``all``) → ACCF path."""

    target: str
    aid: bytes | None
    accf: Path

    @property
    def target_shown(self) -> str:
        return self.aid.hex().upper() if self.aid is not None else self.target


def parse_acrf(data: bytes) -> tuple[AcrfRule, ...]:
    out = []
    for obj in content_objects(data, "EF.ACRF"):
        kids = _children(_expect(obj, TAG_SEQUENCE, "EF.ACRF", "rule"), "EF.ACRF")
        if len(kids) != 2:
            raise ArfFormatError("EF.ACRF", f"rule holds {len(kids)} objects, not target + path")
        target, path = kids
        if target.tag == TAG_TARGET_AID:
            inner = _children(target, "EF.ACRF")
            if len(inner) != 1 or inner[0].tag != TAG_OCTETS:
                raise ArfFormatError("EF.ACRF", "target A0 does not hold one OCTET STRING AID")
            out.append(AcrfRule("aid", inner[0].value, parse_path(path, "EF.ACRF")))
        elif target.tag in (TAG_TARGET_DEFAULT, TAG_TARGET_ALL) and not target.value:
            kind = "default" if target.tag == TAG_TARGET_DEFAULT else "all"
            out.append(AcrfRule(kind, None, parse_path(path, "EF.ACRF")))
        else:
            raise ArfFormatError("EF.ACRF", f"unknown rule target {target.tag:02X}")
    return tuple(out)


def encode_acrf_rule(rule: AcrfRule) -> bytes:
    if rule.target == "aid":
        if rule.aid is None:
            raise ValueError("an AID target needs the AID")
        target = encode_tlv(TAG_TARGET_AID, encode_tlv(TAG_OCTETS, rule.aid))
    else:
        target = encode_tlv(TAG_TARGET_DEFAULT if rule.target == "default" else TAG_TARGET_ALL, b"")
    return encode_tlv(TAG_SEQUENCE, target + encode_path(rule.accf))


def encode_acrf(rules: tuple[AcrfRule, ...]) -> bytes:
    return b"".join(encode_acrf_rule(r) for r in rules)


# --- ACCF --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccfCondition:
    """One access condition: a certificate hash, or None for ``30 00`` (no condition: any app)."""

    hash: bytes | None


def parse_accf(data: bytes) -> tuple[AccfCondition, ...]:
    out = []
    for obj in content_objects(data, "EF.ACCF"):
        kids = _children(_expect(obj, TAG_SEQUENCE, "EF.ACCF", "condition"), "EF.ACCF")
        if not kids:
            out.append(AccfCondition(None))
            continue
        if kids[0].tag != TAG_OCTETS:
            raise ArfFormatError("EF.ACCF", f"condition starts with {kids[0].tag:02X}, not a hash (04)")
        out.append(AccfCondition(kids[0].value))
    return tuple(out)


def encode_accf_condition(cond: AccfCondition) -> bytes:
    return encode_tlv(TAG_SEQUENCE, b"" if cond.hash is None else encode_tlv(TAG_OCTETS, cond.hash))


def encode_accf(conds: tuple[AccfCondition, ...]) -> bytes:
    return b"".join(encode_accf_condition(c) for c in conds)
