"""The simulated card's PKCS#15 application holding Access Rule Files (GP SEAC v1.1 §8).

Written from the specification with the card's own TLV encoder (not simtool.arf, the code
under test). Two layouts:

- ``android``: the file ids Android's UiccPkcs15 hard-codes — ODF 5031 → DODF 5207 → ACMF 4200
  → ACRF 4300 → ACCF 4310 (the FFFFFFFFFFFF rule) and 4311 (an all-applications rule);
- ``dodf``: the same chain at other ids (DODF 5208, ACMF 4400, ACRF 4401, ACCF 4402/4403),
  reachable only by following ODF → DODF → ACMF: Android finds no 4300 and reads nothing.

Files are transparent EFs of fixed size, unused bytes FF. READ BINARY, UPDATE BINARY (after
ADM, else 6982; never past the end: 6B00/6700) and SELECT by file id (P1 00) inside the
application; the contents live in the card's memory (``CardMemory.files``, keyed by file id).
EF.DIR (2F00 under the MF, linear fixed) lists USIM and PKCS#15.
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
SW_RECORD_NOT_FOUND = 0x6A83

CARRIER_AID = bytes.fromhex("FFFFFFFFFFFF")
GP_SEAC_OID = bytes.fromhex("2A864886FC6B81480101")  # 1.2.840.114283.200.1.1
LAB_ARF_HASH = hashlib.sha1(b"carrierkit lab ARF carrier rule").digest()
LAB_ARF_ALL_APPS_HASH = hashlib.sha1(b"carrierkit lab ARF all-applications rule").digest()
INITIAL_REFRESH_TAG = bytes.fromhex("0000000000000001")

# layout → (ODF, DODF, ACMF, ACRF, carrier ACCF, all-applications ACCF) file ids
LAYOUTS = {
    "android": ("5031", "5207", "4200", "4300", "4310", "4311"),
    "dodf": ("5031", "5208", "4400", "4401", "4402", "4403"),
}
SIZES = {"odf": 32, "dodf": 96, "acmf": 32, "acrf": 64, "accf": 96}

USIM_AID = bytes.fromhex("A0000000871002FF49FF0589")
PKCS15_AID = bytes.fromhex("A000000063504B43532D3135")
DIR_RECORD_SIZE = 38


def _path(fid: str) -> bytes:
    return encode_tlv(0x30, encode_tlv(0x04, bytes.fromhex(fid)))


def _pad(content: bytes, size: int) -> bytes:
    assert len(content) <= size, "layout does not fit its file"
    return content + b"\xff" * (size - len(content))


def initial_files(layout: str) -> dict[str, bytes]:
    """File id (hex) → content of a fresh card with this layout."""
    odf, dodf, acmf, acrf, accf, accf_all = LAYOUTS[layout]
    oid_do = encode_tlv(0x30, encode_tlv(0x06, GP_SEAC_OID) + _path(acmf))
    dodf_entry = encode_tlv(0xA1, encode_tlv(0x30, encode_tlv(0x0C, b"GP SE Acc Ctl"))
                            + encode_tlv(0x30, b"") + encode_tlv(0xA1, oid_do))
    rules = (encode_tlv(0x30, encode_tlv(0xA0, encode_tlv(0x04, CARRIER_AID)) + _path(accf))
             + encode_tlv(0x30, encode_tlv(0x82, b"") + _path(accf_all)))
    return {
        odf: _pad(encode_tlv(0xA7, _path(dodf)), SIZES["odf"]),
        dodf: _pad(dodf_entry, SIZES["dodf"]),
        acmf: _pad(encode_tlv(0x30, encode_tlv(0x04, INITIAL_REFRESH_TAG) + _path(acrf)), SIZES["acmf"]),
        acrf: _pad(rules, SIZES["acrf"]),
        accf: _pad(encode_tlv(0x30, encode_tlv(0x04, LAB_ARF_HASH)), SIZES["accf"]),
        accf_all: _pad(encode_tlv(0x30, encode_tlv(0x04, LAB_ARF_ALL_APPS_HASH)), SIZES["accf"]),
    }


def ef_dir_records() -> list[bytes]:
    """EF.DIR: one application template per record (USIM, PKCS#15), padded with FF."""
    return [_pad(encode_tlv(0x61, encode_tlv(0x4F, aid) + encode_tlv(0x50, label)), DIR_RECORD_SIZE)
            for aid, label in ((USIM_AID, b"USIM"), (PKCS15_AID, b"PKCS15"))]


def ef_fcp(fid: bytes, size: int) -> bytes:
    """FCP template of a transparent EF."""
    body = (encode_tlv(0x82, bytes.fromhex("4121")) + encode_tlv(0x83, fid)
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
        return Response(ef_fcp(cmd.data, len(content)) if cmd.p2 & 0x0C != 0x0C else b"")

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        if cmd.ins not in (INS_READ_BINARY, INS_UPDATE_BINARY):
            return status(SW_INS_NOT_SUPPORTED)
        if self.current is None:
            return status(SW_NO_CURRENT_EF)
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
        files[self.current] = content[:offset] + cmd.data + content[offset + len(cmd.data):]
        return status(SW_OK)
