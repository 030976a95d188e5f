"""The simulated UICC: card OS (channels, SELECT, files, VERIFY ADM, T=0) around its applications.

`VirtualCard.transmit(raw)` takes a command APDU and returns the response APDU, logging both to
the card's memory. Layers, outermost first: T=0 (61xx / 6Cxx / GET RESPONSE) or T=1 Le check →
class byte and logical channel → MANAGE CHANNEL / SELECT (answered by the card OS) → whatever is
selected on that channel (the file system: READ BINARY, VERIFY; or an application).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Protocol

from .apdu import (
    INS_GET_RESPONSE, INS_MANAGE_CHANNEL, INS_READ_BINARY, INS_SELECT, INS_VERIFY,
    SW_AUTH_BLOCKED, SW_CHAINING_NOT_SUPPORTED, SW_CHANNEL_NOT_SUPPORTED, SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED, SW_DATA_NOT_FOUND, SW_FILE_NOT_FOUND, SW_FUNCTION_NOT_SUPPORTED,
    SW_INS_NOT_SUPPORTED, SW_NO_CURRENT_EF, SW_OK, SW_SM_NOT_SUPPORTED, SW_UNKNOWN,
    SW_WRONG_LENGTH, SW_WRONG_OFFSET, SW_WRONG_P1P2, ApduFormatError, ClassByte, Command,
    Response, decode_cla, parse_command, status,
)
from .ara_d import AraD
from .aram_applet import AppletAram
from .aram_spec import SpecAram
from .context import CardContext
from .isd import TEST_KEY, Isd, IsdKeys, LockedAram
from .pkcs15 import INS_READ_RECORD, Pkcs15App, ef_dir_records, initial_files, read_record
from .tlv import encode_tlv

MAX_CHANNELS = 20
ADM_REFERENCE = 0x0A


class Selectable(Protocol):
    """What a logical channel can have selected."""

    def process(self, cmd: Command, cla: ClassByte) -> Response: ...


def iccid_to_ef(iccid: str) -> bytes:
    """EF.ICCID content: the digits as BCD with swapped nibbles, padded with F (10 bytes)."""
    digits = iccid.ljust(20, "F")
    return bytes.fromhex("".join(digits[i + 1] + digits[i] for i in range(0, 20, 2)))


@dataclass
class FileSelection:
    """The file system as selected on one channel: MF, or EF.ICCID under it."""

    card: "VirtualCard"
    ef: bytes | None = None  # content of the current transparent EF
    records: list[bytes] | None = None  # records of the current linear fixed EF (EF.DIR)

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.ins == INS_READ_BINARY:
            return self._read_binary(cmd, cla)
        if cmd.ins == INS_READ_RECORD:
            if cla.proprietary:
                return status(SW_CLA_NOT_SUPPORTED)
            return status(SW_NO_CURRENT_EF) if self.records is None else read_record(self.records, cmd)
        if cmd.ins == INS_VERIFY:
            return self.card.verify(cmd, cla)
        return status(SW_INS_NOT_SUPPORTED)

    def _read_binary(self, cmd: Command, cla: ClassByte) -> Response:
        if cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        if cmd.p1 & 0x80:
            if cmd.p1 & 0x1F != 0x02:  # SFI 2 = EF.ICCID
                return status(SW_FILE_NOT_FOUND)
            self.ef = self.card.ef_iccid
            offset = cmd.p2
        else:
            offset = (cmd.p1 << 8) | cmd.p2
        if self.ef is None:
            return status(SW_NO_CURRENT_EF)
        if offset >= len(self.ef):
            return status(SW_WRONG_OFFSET)
        return Response(self.ef[offset:])


class InertApplication:
    """An application that is present (SELECT works) but answers nothing else: ARA-D, PKCS#15."""

    def __init__(self, name: str) -> None:
        self.name = name

    def select_data(self, aid: bytes) -> bytes:
        return encode_tlv(0x6F, encode_tlv(0x84, aid))

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        return status(SW_INS_NOT_SUPPORTED)


class VirtualCard:
    """One card: give it command APDUs, get response APDUs. Volatile state resets on power."""

    def __init__(self, ctx: CardContext, iccid: str, adm_key: bytes, adm_max_tries: int,
                 isd_keys: IsdKeys | None = None, isd_max_tries: int = 3) -> None:
        self.ctx = ctx
        self.ef_iccid = iccid_to_ef(iccid)
        ctx.kdd = self.ef_iccid  # the card's KDD: its ICCID bytes (10), unique per card
        self.isd_keys = isd_keys or IsdKeys(TEST_KEY, TEST_KEY, TEST_KEY)
        self.isd_max_tries = isd_max_tries
        self.adm_key = adm_key
        self.adm_max_tries = adm_max_tries
        self.applet = AppletAram(ctx) if ctx.profile.aram == "applet" else None
        if ctx.profile.arf and not ctx.memory.files:
            ctx.memory.files, ctx.memory.record_sizes = initial_files(ctx.profile.arf)
        self.channels: dict[int, Selectable] = {}
        self.pending: Response | None = None
        self.reset()

    def reset(self) -> None:
        """Power on / warm reset: only channel 0 open with the MF selected, ADM not verified."""
        self.channels = {0: FileSelection(self)}
        self.pending = None
        self.ctx.adm_verified = False
        if self.applet is not None:
            self.applet.restore((0, 0, 0))

    # entry point -----------------------------------------------------------------------
    def transmit(self, raw: bytes) -> bytes:
        """Answer one command APDU and log the pair in the card's memory."""
        try:
            cmd = parse_command(raw)
            response = self._t0(cmd) if self.ctx.profile.t0 else self._t1(cmd)
        except ApduFormatError as bad:
            response = status(bad.sw)
        except Exception:  # a bug of the simulator: answer like a card (6F00), log it
            traceback.print_exc(file=sys.stderr)
            response = status(SW_UNKNOWN)
        answer = response.to_bytes()
        self.ctx.memory.apdus.append((raw, answer))
        return answer

    def _t1(self, cmd: Command) -> Response:
        # No GET RESPONSE layer in T=1: the command reaches whatever is selected (6D00 / 6E00).
        return self._with_le(cmd, strict=False)

    def _t0(self, cmd: Command) -> Response:
        if cmd.ins == INS_GET_RESPONSE and not (cmd.cla & 0x80):
            return self._get_response(cmd)
        self.pending = None
        response = self._with_le(cmd, strict=True)
        if response.data and (cmd.case in (3, 4) or len(response.data) > 256
                              or cmd.case == 1):
            self.pending = response
            return status(0x6100 | (min(len(response.data), 256) & 0xFF))
        return response

    def _with_le(self, cmd: Command, *, strict: bool) -> Response:
        """Run the command; a case-2 Le that does not fit gets 6Cxx and changes nothing.

        T=0 (`strict`): Le must equal the length; T=1: Le must not be below it.
        """
        snapshot = self._snapshot(cmd)
        response = self._process(cmd)
        n = len(response.data)
        if cmd.case == 2 and 0 < n <= 256 and cmd.le is not None:
            wrong = cmd.le != n if strict else cmd.le < n
            if wrong:
                self._restore(cmd, snapshot)
                return status(0x6C00 | (n & 0xFF))
        return response

    def _get_response(self, cmd: Command) -> Response:
        if self.pending is None:
            return status(SW_CONDITIONS_NOT_SATISFIED)
        if (cmd.p1, cmd.p2) != (0, 0):
            return status(SW_WRONG_P1P2)
        data = self.pending.data
        le = cmd.le or 256
        if le > len(data):
            return status(0x6C00 | (len(data) & 0xFF))
        rest = data[le:]
        if rest:
            self.pending = Response(rest, self.pending.sw)
            return Response(data[:le], 0x6100 | (min(len(rest), 256) & 0xFF))
        final, self.pending = self.pending, None
        return Response(data, final.sw)

    def _snapshot(self, cmd: Command) -> tuple:
        """What a case-2 command may change: the channel table and the selected ARA-M's
        continuation (a 6Cxx answer must leave both as they were)."""
        cla = decode_cla(cmd.cla)
        target = self.channels.get(cla.channel) if cla else None
        inner = target.snapshot() if target is not None and hasattr(target, "snapshot") else None
        return dict(self.channels), target, inner

    def _restore(self, cmd: Command, snapshot: tuple) -> None:
        channels, target, inner = snapshot
        self.channels = channels
        if inner is not None:
            target.restore(inner)

    # card OS ---------------------------------------------------------------------------
    def _process(self, cmd: Command) -> Response:
        cla = decode_cla(cmd.cla)
        if cla is None:
            return status(SW_CLA_NOT_SUPPORTED)
        if cla.chaining:
            return status(SW_CHAINING_NOT_SUPPORTED)
        profile = self.ctx.profile
        if cla.secure_messaging and not isinstance(self.channels.get(cla.channel), Isd):
            return status(SW_SM_NOT_SUPPORTED)
        if cmd.ins == INS_MANAGE_CHANNEL and not profile.logical_channels:
            return status(SW_CLA_NOT_SUPPORTED)
        selected = self.channels.get(cla.channel)
        if selected is None:
            return status(SW_CHANNEL_NOT_SUPPORTED)
        if cmd.ins == INS_MANAGE_CHANNEL:
            return self._manage_channel(cmd, cla)
        if cmd.ins == INS_SELECT and not cla.proprietary:
            return self._select(cmd, cla)
        return selected.process(cmd, cla)

    def _manage_channel(self, cmd: Command, cla: ClassByte) -> Response:
        if cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        if cmd.p1 == 0x00:
            if cmd.p2 == 0:
                free = [n for n in range(1, MAX_CHANNELS) if n not in self.channels]
                if not free:
                    return status(SW_FUNCTION_NOT_SUPPORTED)
                self.channels[free[0]] = FileSelection(self)
                return Response(bytes([free[0]]))
            if cmd.p2 >= MAX_CHANNELS or cmd.p2 in self.channels:
                return status(SW_FUNCTION_NOT_SUPPORTED)
            self.channels[cmd.p2] = FileSelection(self)
            return status(SW_OK)
        if cmd.p1 == 0x80:
            if cmd.p2 == 0 or cmd.p2 >= MAX_CHANNELS:
                return status(SW_WRONG_P1P2)
            if cmd.p2 not in self.channels:
                return status(SW_DATA_NOT_FOUND)
            del self.channels[cmd.p2]
            return status(SW_OK)
        return status(SW_WRONG_P1P2)

    def _select(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.p1 == 0x04:
            return self._select_aid(cmd, cla)
        if cmd.p1 not in (0x00, 0x08):
            return status(SW_WRONG_P1P2)
        if len(cmd.data) % 2 or not cmd.data:
            return status(SW_WRONG_LENGTH)
        path = [cmd.data[i : i + 2].hex().upper() for i in range(0, len(cmd.data), 2)]
        if cmd.p1 == 0x08 and path[:1] == ["3F00"]:
            path = path[1:]
        if path in (["3F00"], []) and cmd.p1 == 0x00 or (cmd.p1 == 0x08 and not path):
            self.channels[cla.channel] = FileSelection(self)
            return Response(self._fcp("3F00") if cmd.p2 & 0x0C != 0x0C else b"")
        if path == ["2FE2"]:
            self.channels[cla.channel] = FileSelection(self, self.ef_iccid)
            return Response(self._fcp("2FE2") if cmd.p2 & 0x0C != 0x0C else b"")
        current = self.channels[cla.channel]
        if isinstance(current, Pkcs15App):
            inside = current.select_file(cmd)
            if inside is not None:
                return inside
        if path == ["2F00"] and self.ctx.profile.arf:
            records = ef_dir_records()
            self.channels[cla.channel] = FileSelection(self, records=records)
            fcp = encode_tlv(0x62, encode_tlv(0x82, bytes([0x42, 0x21, 0x00, len(records[0]), len(records)]))
                             + encode_tlv(0x83, b"\x2f\x00") + encode_tlv(0x8A, b"\x05"))
            return Response(fcp if cmd.p2 & 0x0C != 0x0C else b"")
        return status(SW_FILE_NOT_FOUND)

    def _fcp(self, fid: str) -> bytes:
        if fid == "3F00":
            body = encode_tlv(0x82, bytes.fromhex("7821")) + encode_tlv(0x83, bytes.fromhex(fid))
        else:
            body = (encode_tlv(0x82, bytes.fromhex("4121")) + encode_tlv(0x83, bytes.fromhex(fid))
                    + encode_tlv(0x80, len(self.ef_iccid).to_bytes(2, "big")))
        return encode_tlv(0x62, body + encode_tlv(0x8A, b"\x05"))

    def _select_aid(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.p2 & 0x03:
            return status(SW_WRONG_P1P2)
        if not 5 <= len(cmd.data) <= 16:
            return status(SW_WRONG_LENGTH)
        name = self.ctx.profile.aids().get(cmd.data)
        if name is None:
            return status(SW_FILE_NOT_FOUND)
        if name == "isd":
            app: Selectable = Isd(self.ctx, self.isd_keys, self._aram_app, self.isd_max_tries)
        elif name == "pkcs15" and self.ctx.profile.arf:
            app = Pkcs15App(self.ctx)
        elif name == "ara-d" and self.ctx.profile.ara_d_rules:
            app = AraD(self.ctx)
        elif name != "ara-m":
            app = InertApplication(name)
        else:
            app = self._aram_app()
            if self.ctx.profile.aram_locked or self.ctx.memory.aram_locked:
                app = LockedAram(app)
        self.channels[cla.channel] = app
        data = app.select_data(cmd.data)  # type: ignore[attr-defined]
        return Response(data if cmd.p2 & 0x0C != 0x0C else b"")

    def _aram_app(self) -> Selectable:
        """The ARA-M itself (what the ISD personalises; behind ``LockedAram`` when selected)."""
        return self.applet if self.applet is not None else SpecAram(self.ctx)

    def verify(self, cmd: Command, cla: ClassByte) -> Response:
        """VERIFY ADM1 (P2 0A): no data asks the remaining tries; a wrong key uses one up."""
        memory = self.ctx.memory
        if cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        if cmd.p1 != 0x00:
            return status(SW_WRONG_P1P2)
        if cmd.p2 != ADM_REFERENCE:
            return status(SW_DATA_NOT_FOUND)
        if memory.adm_tries_left <= 0:
            return status(SW_AUTH_BLOCKED)
        if not cmd.data:
            if self.ctx.adm_verified:
                return status(SW_OK)
            return status(0x63C0 | min(memory.adm_tries_left, 15))
        if len(cmd.data) != 8:
            return status(SW_WRONG_LENGTH)
        if cmd.data == self.adm_key:
            memory.adm_tries_left = self.adm_max_tries
            self.ctx.adm_verified = True
            return status(SW_OK)
        memory.adm_tries_left -= 1
        self.ctx.adm_verified = False
        if memory.adm_tries_left == 0:
            return status(SW_AUTH_BLOCKED)
        return status(0x63C0 | min(memory.adm_tries_left, 15))
