"""The simulated card's PKCS#15 application holding Access Rule Files (GP SEAC v1.1 §8).

Written from the specification with the card's own TLV encoder (not simtool.arf, the code
under test). Two layouts:

- ``android``: the file ids Android's UiccPkcs15 hard-codes — ODF 5031 → DODF 5207 → ACMF 4200
  → ACRF 4300 → ACCF 4310 (the FFFFFFFFFFFF rule) and 4311 (an all-applications rule);
- ``dodf``: the same chain at other ids (DODF 5208, ACMF 4400, ACRF 4401, ACCF 4402/4403),
  reachable only by following ODF → DODF → ACMF: Android finds no 4300 and reads nothing;
- ``records``: Android's file ids, but the DODF, ACRF and ACCFs are linear fixed (record)
  EFs, one object per record, unused records all FF, as some cards are personalised. Android
  reads 4300 with READ BINARY, which a record EF answers with 6981: it reads nothing.

Transparent EFs have a fixed size, unused bytes FF: READ BINARY, UPDATE BINARY (after ADM, else
6982; never past the end: 6B00/6700). Linear fixed EFs (``CardMemory.record_sizes`` names them
and their record size; their content is the records back to back): READ RECORD and UPDATE
RECORD by absolute number (P2 04; 6A83 past the last record; UPDATE needs ADM and exactly one
record's length, else 6700); READ/UPDATE BINARY on them answer 6981 (command incompatible with
the file structure) and the record commands on a transparent EF the same. SELECT by file id
(P1 00) inside the application; the FCP's file descriptor (82) gives the structure. The
contents live in the card's memory (``CardMemory.files``, keyed by file id). EF.DIR (2F00
under the MF, linear fixed) lists USIM and PKCS#15. Files named in ``CardContext.drop_updates``
answer 9000 to updates and keep their old content (a failing EEPROM: read-back catches it).
"""

from __future__ import annotations

import hashlib

from .apdu import (
    INS_READ_BINARY, SW_CLA_NOT_SUPPORTED, SW_FILE_NOT_FOUND, SW_INS_NOT_SUPPORTED, SW_NO_CURRENT_EF,
    SW_OK, SW_SECURITY_NOT_SATISFIED, SW_WRONG_LENGTH, SW_WRONG_OFFSET, SW_WRONG_P1P2, ClassByte, Command,
    Response, status,
)
from .context import CardContext
from .tlv import encode_tlv

INS_UPDATE_BINARY = 0xD6
INS_READ_RECORD = 0xB2
INS_UPDATE_RECORD = 0xDC
SW_RECORD_NOT_FOUND = 0x6A83
SW_INCOMPATIBLE_STRUCTURE = 0x6981

CARRIER_AID = bytes.fromhex("FFFFFFFFFFFF")
GP_SEAC_OID = bytes.fromhex("2A864886FC6B81480101")  # 1.2.840.114283.200.1.1
LAB_ARF_HASH = hashlib.sha1(b"carrierkit lab ARF carrier rule").digest()
LAB_ARF_ALL_APPS_HASH = hashlib.sha1(b"carrierkit lab ARF all-applications rule").digest()
INITIAL_REFRESH_TAG = bytes.fromhex("0000000000000001")

# layout → (ODF, DODF, ACMF, ACRF, carrier ACCF, all-applications ACCF) file ids
LAYOUTS = {
    "android": ("5031", "5207", "4200", "4300", "4310", "4311"),
    "dodf": ("5031", "5208", "4400", "4401", "4402", "4403"),
    "records": ("5031", "5207", "4200", "4300", "4310", "4311"),
}
SIZES = {"odf": 32, "dodf": 96, "acmf": 32, "acrf": 64, "accf": 96}
# layout → file kind → (record size, record count) of the linear fixed EFs. A SHA-256
# condition (30 22 04 20 …) fills an ACCF record exactly; an AID rule for a 16-byte AID
# (30 1A A0 12 04 10 … 30 04 04 02 …) takes 28 of the ACRF's 32.
RECORDS = {"records": {"dodf": (48, 2), "acrf": (32, 4), "accf": (36, 4), "accf_all": (36, 2)}}

USIM_AID = bytes.fromhex("A0000000871002FF49FF0589")
PKCS15_AID = bytes.fromhex("A000000063504B43532D3135")
DIR_RECORD_SIZE = 38


def _path(fid: str) -> bytes:
    return encode_tlv(0x30, encode_tlv(0x04, bytes.fromhex(fid)))


def _pad(content: bytes, size: int) -> bytes:
    assert len(content) <= size, "layout does not fit its file"
    return content + b"\xff" * (size - len(content))


def initial_files(layout: str) -> tuple[dict[str, bytes], dict[str, int]]:
    """File id (hex) → content of a fresh card with this layout, and file id → record size of
    its linear fixed EFs (one object per record, the rest of the records FF)."""
    odf, dodf, acmf, acrf, accf, accf_all = LAYOUTS[layout]
    oid_do = encode_tlv(0x30, encode_tlv(0x06, GP_SEAC_OID) + _path(acmf))
    dodf_entry = encode_tlv(0xA1, encode_tlv(0x30, encode_tlv(0x0C, b"GP SE Acc Ctl"))
                            + encode_tlv(0x30, b"") + encode_tlv(0xA1, oid_do))
    rule_list = [encode_tlv(0x30, encode_tlv(0xA0, encode_tlv(0x04, CARRIER_AID)) + _path(accf)),
                 encode_tlv(0x30, encode_tlv(0x82, b"") + _path(accf_all))]
    objects = {
        "odf": [encode_tlv(0xA7, _path(dodf))],
        "dodf": [dodf_entry],
        "acmf": [encode_tlv(0x30, encode_tlv(0x04, INITIAL_REFRESH_TAG) + _path(acrf))],
        "acrf": rule_list,
        "accf": [encode_tlv(0x30, encode_tlv(0x04, LAB_ARF_HASH))],
        "accf_all": [encode_tlv(0x30, encode_tlv(0x04, LAB_ARF_ALL_APPS_HASH))],
    }
    fids = {"odf": odf, "dodf": dodf, "acmf": acmf, "acrf": acrf, "accf": accf, "accf_all": accf_all}
    structured = RECORDS.get(layout, {})
    files: dict[str, bytes] = {}
    record_sizes: dict[str, int] = {}
    for kind, fid in fids.items():
        if kind in structured:
            size, count = structured[kind]
            assert len(objects[kind]) <= count, "layout does not fit its records"
            records = [_pad(o, size) for o in objects[kind]]
            files[fid] = b"".join(records) + b"\xff" * (size * (count - len(records)))
            record_sizes[fid] = size
        else:
            files[fid] = _pad(b"".join(objects[kind]), SIZES["accf" if kind == "accf_all" else kind])
    return files, record_sizes


def ef_dir_records() -> list[bytes]:
    """EF.DIR: one application template per record (USIM, PKCS#15), padded with FF."""
    return [_pad(encode_tlv(0x61, encode_tlv(0x4F, aid) + encode_tlv(0x50, label)), DIR_RECORD_SIZE)
            for aid, label in ((USIM_AID, b"USIM"), (PKCS15_AID, b"PKCS15"))]


def ef_fcp(fid: bytes, size: int, record_size: int = 0) -> bytes:
    """FCP template of a transparent EF, or (``record_size``) of a linear fixed one: file
    descriptor 42 21 00 <record size> <record count> as TS 102 221 codes it."""
    if record_size:
        descriptor = bytes([0x42, 0x21]) + record_size.to_bytes(2, "big") + bytes([size // record_size])
    else:
        descriptor = bytes.fromhex("4121")
    body = (encode_tlv(0x82, descriptor) + encode_tlv(0x83, fid)
            + encode_tlv(0x80, size.to_bytes(2, "big")) + encode_tlv(0x8A, b"\x05"))
    return encode_tlv(0x62, body)


def read_record(records: list[bytes], cmd: Command) -> Response:
    """READ RECORD (P2 04: absolute record number P1) on a linear fixed EF."""
    if cmd.p2 != 0x04:
        return status(SW_WRONG_P1P2)
    if not 1 <= cmd.p1 <= len(records):
        return status(SW_RECORD_NOT_FOUND)
    return Response(records[cmd.p1 - 1])


class Pkcs15App:
    """The PKCS#15 application as selected on one channel (and the EF selected in it)."""

    def __init__(self, ctx: CardContext) -> None:
        self.ctx = ctx
        self.current: str | None = None

    def select_data(self, aid: bytes) -> bytes:
        return encode_tlv(0x6F, encode_tlv(0x84, aid))

    def select_file(self, cmd: Command) -> Response | None:
        """SELECT by file id inside the application; None when the id is not one of its files."""
        fid = cmd.data.hex().upper()
        content = self.ctx.memory.files.get(fid)
        if cmd.p1 != 0x00 or len(cmd.data) != 2 or content is None:
            return None
        self.current = fid
        fcp = ef_fcp(cmd.data, len(content), self.ctx.memory.record_sizes.get(fid, 0))
        return Response(fcp if cmd.p2 & 0x0C != 0x0C else b"")

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        binary = cmd.ins in (INS_READ_BINARY, INS_UPDATE_BINARY)
        if not binary and cmd.ins not in (INS_READ_RECORD, INS_UPDATE_RECORD):
            return status(SW_INS_NOT_SUPPORTED)
        if self.current is None:
            return status(SW_NO_CURRENT_EF)
        record_size = self.ctx.memory.record_sizes.get(self.current, 0)
        if binary == bool(record_size):
            return status(SW_INCOMPATIBLE_STRUCTURE)
        if not binary:
            return self._record(cmd, record_size)
        if cmd.p1 & 0x80:
            return status(SW_FILE_NOT_FOUND)  # no short file ids here
        files = self.ctx.memory.files
        content = files[self.current]
        offset = (cmd.p1 << 8) | cmd.p2
        if cmd.ins == INS_READ_BINARY:
            if offset >= len(content):
                return status(SW_WRONG_OFFSET)
            return Response(content[offset : offset + (cmd.le or 256)])
        if not self.ctx.adm_verified:
            return status(SW_SECURITY_NOT_SATISFIED)
        if not cmd.data:
            return status(SW_WRONG_LENGTH)
        if offset >= len(content):
            return status(SW_WRONG_OFFSET)
        if offset + len(cmd.data) > len(content):
            return status(SW_WRONG_LENGTH)
        self._store(offset, cmd.data)
        return status(SW_OK)

    def _record(self, cmd: Command, size: int) -> Response:
        """READ RECORD / UPDATE RECORD by absolute record number on the current linear fixed EF."""
        content = self.ctx.memory.files[self.current or ""]
        records = [content[i : i + size] for i in range(0, len(content), size)]
        if cmd.ins == INS_READ_RECORD:
            return read_record(records, cmd)
        if cmd.p2 != 0x04:
            return status(SW_WRONG_P1P2)
        if not self.ctx.adm_verified:
            return status(SW_SECURITY_NOT_SATISFIED)
        if not 1 <= cmd.p1 <= len(records):
            return status(SW_RECORD_NOT_FOUND)
        if len(cmd.data) != size:
            return status(SW_WRONG_LENGTH)
        self._store((cmd.p1 - 1) * size, cmd.data)
        return status(SW_OK)

    def _store(self, offset: int, data: bytes) -> None:
        """Write ``data`` at ``offset`` of the current EF (unless it drops updates)."""
        fid = self.current or ""
        if fid in self.ctx.drop_updates:
            return
        content = self.ctx.memory.files[fid]
        self.ctx.memory.files[fid] = content[:offset] + data + content[offset + len(data):]
