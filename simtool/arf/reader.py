"""Reading a card's Access Rule Files both ways, on an open CardProtocol.

- ``read_seac``: the full GP SEAC chain a complete reader follows (OMAPI's SecureElement app):
  EF.DIR → PKCS#15 application → ODF 5031 → DODF(s) → the oidDO with OID
  1.2.840.114283.200.1.1 → ACMF → ACRF → every ACCF its rules name. Whole files are read (the
  size from the FCP), so nothing past 256 bytes is missed.
- ``read_android``: exactly the APDUs Android's UiccPkcs15 sends: a logical channel to the
  PKCS#15 AID, ``SELECT 4300``, one ``READ BINARY`` of up to 256 bytes, the ACCF the
  FFFFFFFFFFFF rule names, one more READ BINARY (``android.py`` models its parsing).

Failures of the chain (a missing file, damaged DER) are reported in the result rather than
raised, so the other way's answer still shows; a pulled card still raises.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aram.tlv import TlvError, parse_tlvs
from ..card.protocol import Apdu, CardProtocol, channel_cla
from ..card.errors import CardProtocolError
from ..card.statuswords import ApduError
from .android import AndroidAccf, AndroidAcrf, android_accf, android_acrf, android_can_select
from .errors import ArfCardError, ArfFormatError
from .files import (
    FID_ANDROID_ACRF, FID_DIR, FID_ODF, PKCS15_AID, AccfCondition, Acmf, AcrfRule, Path, acmf_path,
    content_objects, parse_accf, parse_acmf, parse_acrf, parse_dir_record, parse_dodf, parse_odf,
)

MAX_DIR_RECORDS = 32
SW_INCOMPATIBLE_STRUCTURE = 0x6981


@dataclass(frozen=True)
class EfData:
    """One EF as read: its path (hex), size from the FCP and whole content. A linear fixed EF
    (``record_size`` > 0) holds its records back to back in ``data``; ``content`` is what the
    parsers take: the objects of every record, padding (FF) stripped, empty records skipped."""

    path: str
    size: int
    data: bytes
    record_size: int = 0

    @property
    def structured(self) -> bool:
        return self.record_size > 0

    @property
    def structure(self) -> str:
        return f"linear fixed, {len(self.records)} records of {self.record_size} bytes" if self.structured else "transparent"

    @property
    def records(self) -> tuple[bytes, ...]:
        if not self.structured:
            return ()
        return tuple(self.data[i : i + self.record_size] for i in range(0, len(self.data), self.record_size))

    @property
    def content(self) -> bytes:
        if not self.structured:
            return self.data
        return b"".join(t.encode() for record in self.records for t in content_objects(record, f"EF {self.path}"))


@dataclass(frozen=True)
class AccfRead:
    """One ACCF named by the ACRF: its content and conditions, or why it could not be read."""

    path: Path
    file: EfData | None
    conditions: tuple[AccfCondition, ...]
    error: str | None = None


@dataclass(frozen=True)
class SeacRead:
    """The full chain; ``error`` says where it broke (the fields before that are filled)."""

    aid: bytes
    how_found: str
    error: str | None = None
    dodf_path: Path | None = None
    acmf_path: Path | None = None
    acmf_file: EfData | None = None
    acmf: Acmf | None = None
    acrf_file: EfData | None = None
    rules: tuple[AcrfRule, ...] = ()
    accfs: tuple[AccfRead, ...] = ()

    def accf(self, path: Path) -> AccfRead | None:
        for a in self.accfs:
            if a.path.fids == path.fids:
                return a
        return None


@dataclass(frozen=True)
class AndroidRead:
    """What Android got: ``error`` when it read no rules at all (channel, SELECT, READ refused)."""

    error: str | None
    acrf: AndroidAcrf | None = None
    accf_path: bytes | None = None
    accf: AndroidAccf | None = None

    @property
    def hashes(self) -> tuple[bytes, ...]:
        return self.accf.hashes if self.accf is not None else ()


# --- files ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FileInfo:
    """What an EF's FCP says: size (tag 80, else 81), and from the file descriptor (82) its
    structure: ``transparent``, ``linear fixed`` (with record size and count) or another."""

    size: int | None
    structure: str = "transparent"
    record_size: int = 0
    record_count: int = 0


STRUCTURES = {1: "transparent", 2: "linear fixed", 6: "cyclic"}


def parse_fcp(fcp: bytes) -> FileInfo:
    """The FCP template's size and file descriptor; an FCP that cannot be parsed (or none)
    gives size None. Descriptor: FDB, DCB, then for record EFs the record size (1 or 2
    bytes, TS 102 221 uses 2) and the record count (1 or 2 bytes)."""
    try:
        tlvs = parse_tlvs(fcp, what="FCP")
        inner = tlvs[0].children(what="FCP") if len(tlvs) == 1 and tlvs[0].tag == 0x62 else ()
    except TlvError:
        inner = ()
    size = next((int.from_bytes(t.value, "big") for tag in (0x80, 0x81) for t in inner
                 if t.tag == tag and t.value), None)
    fd = next((t.value for t in inner if t.tag == 0x82), b"")
    if not fd or fd[0] & 0x07 == 1 or fd[0] & 0x38 == 0x38:  # no descriptor, transparent, or a DF
        return FileInfo(size)
    structure = STRUCTURES.get(fd[0] & 0x07, f"structure {fd[0] & 0x07}")
    rest = fd[2:]
    if len(rest) in (1, 2):
        rec_size, count = int.from_bytes(rest, "big"), 0
    elif len(rest) in (3, 4):
        rec_size, count = int.from_bytes(rest[:2], "big"), int.from_bytes(rest[2:], "big")
    else:
        rec_size = count = 0
    if not count and rec_size and size:
        count = size // rec_size
    return FileInfo(size if size is not None else (rec_size * count or None), structure, rec_size, count)


def select_ef(proto: CardProtocol, channel: int, path: Path) -> FileInfo:
    """SELECT each file id of ``path`` (relative to the application), FCP asked for; returns
    what the last FCP says. Raises ArfCardError naming the file when the card refuses."""
    info = FileInfo(None)
    for i in range(0, len(path.fids), 2):
        fid = path.fids[i : i + 2]
        resp = proto.send(Apdu(channel_cla(0x00, channel), 0xA4, 0x00, 0x04, fid, 0x00))
        if resp.sw != 0x9000:
            raise ArfCardError(f"EF {path.shown}", f"SELECT {fid.hex().upper()} answers {resp.sw:04X}")
        info = parse_fcp(resp.data)
    return info


def read_ef(proto: CardProtocol, channel: int, path: Path) -> EfData:
    """SELECT and read a whole EF: a transparent one with READ BINARY in pieces of up to 256
    bytes, a linear fixed one with READ RECORD of every record (absolute numbers 1..n).
    Raises ArfCardError for a refusal, a missing size, another structure, a short answer."""
    info = select_ef(proto, channel, path)
    where = f"EF {path.shown}"
    cla = channel_cla(0x00, channel)
    if info.structure == "linear fixed":
        if not info.record_size or not info.record_count or info.record_size > 255:
            raise ArfCardError(where, "the FCP gives no usable record size and count")
        data = b""
        for number in range(1, info.record_count + 1):
            resp = proto.send(Apdu(cla, 0xB2, number, 0x04, le=info.record_size))
            if resp.sw != 0x9000:
                raise ArfCardError(where, f"READ RECORD {number} answers {resp.sw:04X}")
            if len(resp.data) != info.record_size:
                raise ArfCardError(where, f"READ RECORD {number} gave {len(resp.data)} bytes, records are {info.record_size}")
            data += resp.data
        return EfData(path.shown, len(data), data, info.record_size)
    if info.structure != "transparent":
        raise ArfCardError(where, f"a {info.structure} file: simtool reads transparent and linear fixed EFs")
    size = info.size
    if size is None:
        raise ArfCardError(where, "the card gave no file size in the FCP")
    data = b""
    while len(data) < size:
        want = min(256, size - len(data))
        offset = len(data)
        resp = proto.send(Apdu(cla, 0xB0, offset >> 8, offset & 0xFF, le=want & 0xFF))
        if resp.sw != 0x9000:
            raise ArfCardError(where, f"READ BINARY at {offset} answers {resp.sw:04X}")
        if not resp.data or len(resp.data) > want:
            raise ArfCardError(where, f"READ BINARY at {offset} gave {len(resp.data)} bytes for {want}")
        data += resp.data
    return EfData(path.shown, size, data)


# --- SEAC chain -------------------------------------------------------------------------------

def find_pkcs15_aid(proto: CardProtocol) -> tuple[bytes, str]:
    """The PKCS#15 AID from EF.DIR (2F00), or the well-known AID when EF.DIR does not list it."""
    for apdu in (Apdu(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"), Apdu(0x00, 0xA4, 0x00, 0x04, FID_DIR, 0x00)):
        if proto.send(apdu).sw != 0x9000:
            return PKCS15_AID, "EF.DIR not readable: the well-known PKCS#15 AID"
    for record in range(1, MAX_DIR_RECORDS + 1):
        resp = proto.send(Apdu(0x00, 0xB2, record, 0x04, le=0))
        if resp.sw != 0x9000:
            break
        try:
            app = parse_dir_record(resp.data)
        except ArfFormatError:
            continue
        if app is not None and app.aid[:len(PKCS15_AID)] == PKCS15_AID:
            return app.aid, f"EF.DIR record {record}"
    return PKCS15_AID, "not in EF.DIR: the well-known PKCS#15 AID"


def open_pkcs15(proto: CardProtocol, aid: bytes, *, logical: bool) -> int:
    """Select the PKCS#15 application (on a new logical channel with ``logical``); returns the
    channel. Raises ArfCardError when the card has no such application."""
    channel = proto.open_channel() if logical else 0
    resp = proto.send(Apdu(channel_cla(0x00, channel), 0xA4, 0x04, 0x00, aid, 0x00))
    if resp.sw != 0x9000:
        if logical:
            proto.close_channel(channel)
        raise ArfCardError("PKCS#15 application", f"SELECT {aid.hex().upper()} answers {resp.sw:04X}: the card has no ARF")
    return channel


def read_chain(proto: CardProtocol, channel: int, aid: bytes, how: str) -> SeacRead:
    """ODF → DODF → ACMF → ACRF → ACCFs on the channel where the PKCS#15 application is selected."""
    found: dict = {"aid": aid, "how_found": how}
    try:
        odf = parse_odf(read_ef(proto, channel, Path(FID_ODF)).content)
        if not odf.dodfs:
            raise ArfFormatError("EF.ODF", "names no DODF (A7)")
        acmf_at = None
        for dodf in odf.dodfs:
            acmf_at = acmf_path(parse_dodf(read_ef(proto, channel, dodf).content))
            if acmf_at is not None:
                found["dodf_path"] = dodf
                break
        if acmf_at is None:
            raise ArfFormatError("EF.DODF", "no oidDO with GP SEAC's OID 1.2.840.114283.200.1.1")
        found["acmf_path"] = acmf_at
        found["acmf_file"] = read_ef(proto, channel, acmf_at)
        found["acmf"] = acmf = parse_acmf(found["acmf_file"].content)
        found["acrf_file"] = read_ef(proto, channel, acmf.acrf)
        found["rules"] = rules = parse_acrf(found["acrf_file"].content)
        accfs: list[AccfRead] = []
        for rule in rules:
            if any(a.path.fids == rule.accf.fids for a in accfs):
                continue
            try:
                ef = read_ef(proto, channel, rule.accf)
                accfs.append(AccfRead(rule.accf, ef, parse_accf(ef.content)))
            except (ArfCardError, ArfFormatError) as exc:
                accfs.append(AccfRead(rule.accf, None, (), str(exc)))
        found["accfs"] = tuple(accfs)
    except (ArfCardError, ArfFormatError) as exc:
        found["error"] = str(exc)
    return SeacRead(**found)


def read_seac(proto: CardProtocol, *, logical: bool = True) -> SeacRead:
    """The full chain; raises ArfCardError only when the PKCS#15 application is absent."""
    aid, how = find_pkcs15_aid(proto)
    channel = open_pkcs15(proto, aid, logical=logical)
    try:
        return read_chain(proto, channel, aid, how)
    finally:
        if logical:
            proto.close_channel(channel)


# --- Android's way ----------------------------------------------------------------------------

def _android_file(proto: CardProtocol, channel: int, fid: bytes) -> tuple[bytes | None, str | None]:
    cla = channel_cla(0x00, channel)
    resp = proto.send(Apdu(cla, 0xA4, 0x00, 0x04, fid))
    if resp.sw != 0x9000:
        return None, f"SELECT {fid.hex().upper()} answers {resp.sw:04X}"
    resp = proto.send(Apdu(cla, 0xB0, 0x00, 0x00, le=0))
    if resp.sw == SW_INCOMPATIBLE_STRUCTURE:
        return None, (f"READ BINARY of {fid.hex().upper()} answers 6981 (command incompatible with the file "
                      "structure): a record-structured file, and Android reads only with READ BINARY")
    if resp.sw != 0x9000:
        return None, f"READ BINARY of {fid.hex().upper()} answers {resp.sw:04X}"
    return resp.data, None


def read_android(proto: CardProtocol) -> AndroidRead:
    """What UiccPkcs15 reads; never raises for the card's refusals (they are the answer)."""
    try:
        channel = proto.open_channel()
    except (ApduError, CardProtocolError) as exc:
        return AndroidRead(f"no logical channel ({exc}): Android cannot read the ARF")
    try:
        resp = proto.send(Apdu(channel_cla(0x00, channel), 0xA4, 0x04, 0x00, PKCS15_AID, 0x00))
        if resp.sw != 0x9000:
            return AndroidRead(f"SELECT of the PKCS#15 application answers {resp.sw:04X}")
        data, problem = _android_file(proto, channel, FID_ANDROID_ACRF)
        if data is None:
            return AndroidRead(f"ACRF 4300: {problem}: Android reads no ARF rule")
        acrf = android_acrf(data)
        if acrf.accf_path is None:
            return AndroidRead(None, acrf)
        if not android_can_select(acrf.accf_path):
            return AndroidRead(None, acrf, acrf.accf_path)
        data, problem = _android_file(proto, channel, acrf.accf_path)
        if data is None:
            return AndroidRead(None, acrf, acrf.accf_path, AndroidAccf((), problem))
        return AndroidRead(None, acrf, acrf.accf_path, android_accf(data))
    finally:
        proto.close_channel(channel)
