"""APDU protocol over any CardConnection: framing, T=0 recovery, logical channels, SELECT.

Application code never sees 61xx or 6Cxx: ``send`` fetches the rest with GET RESPONSE and
re-sends with the Le the card asked for. With a GlobalPlatform secure channel open
(``securechannel.open_secure_channel`` sets ``secure``), every command on its logical channel is
wrapped before and its answer unwrapped after that T=0 handling (GET RESPONSE stays plain). Every exchange is logged on the
``simtool.card.apdu`` logger at DEBUG (``--trace``), with secrets (VERIFY/CHANGE/UNBLOCK data)
redacted. In dry-run mode commands marked ``write`` are recorded but not sent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from carrierkit.secrets import redact
from .errors import ApduTooLongError, CardProtocolError
from .statuswords import error_for

if TYPE_CHECKING:  # the type only: loading transport would load pyscard
    from .securechannel import SecureChannel
    from .transport import CardConnection

log = logging.getLogger("simtool.card.apdu")

_SECRET_INS = {0x20, 0x24, 0x2C}  # VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER
MAX_CHAINED_RESPONSES = 64  # 61xx rounds before we call the card broken


@dataclass(frozen=True)
class Apdu:
    """One command APDU (short form). ``le`` None = no Le byte; 0 = Le 00 (up to 256)."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None

    def encode(self) -> bytes:
        """The bytes sent to the card; raises ApduTooLongError past 255 data bytes."""
        if len(self.data) > 255:
            raise ApduTooLongError(f"command data of {self.label()}", len(self.data))
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    def label(self) -> str:
        """Short name for messages: the header in hex, e.g. ``80CAFF40``."""
        return f"{self.cla:02X}{self.ins:02X}{self.p1:02X}{self.p2:02X}"

    def shown(self) -> str:
        """Hex for traces and dry runs, secrets redacted."""
        raw = self.encode()
        if self.ins in _SECRET_INS and self.data:
            return raw[:5].hex().upper() + redact(self.data)
        return raw.hex().upper()


@dataclass(frozen=True)
class Response:
    """Response data and status word (after any GET RESPONSE rounds)."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000


def channel_cla(cla: int, channel: int) -> int:
    """CLA carrying ``channel`` (ISO 7816-4 §5.4.1): 0–3 in b2b1, 4–19 in the further class.

    Proprietary classes (b8 set, e.g. 0x80 for GlobalPlatform) keep b8.
    """
    if not 0 <= channel <= 19:
        raise ValueError(f"logical channel {channel} out of range 0-19")
    if channel <= 3:
        return (cla & 0x80) | (cla & 0x0C if not cla & 0x40 else 0) | channel
    return (cla & 0x80) | 0x40 | (channel - 4)


def get_response_cla(cla: int) -> int:
    """CLA of the GET RESPONSE that follows a command sent with ``cla``: the interindustry
    class on the same logical channel (``A0`` stays ``A0`` for GSM SIM commands)."""
    if cla == 0xA0:
        return 0xA0
    return cla & 0x4F if cla & 0x40 else cla & 0x03


@dataclass
class SentApdu:
    """One exchange as recorded for ``--dry-run`` listings and benchmarks."""

    command: str
    response: str | None  # None when not sent (dry run)
    sw: int | None


@dataclass
class CardProtocol:
    """Sends APDUs over ``conn``; counts them; records them when ``record`` is set."""

    conn: CardConnection
    dry_run: bool = False
    record: bool = False
    sent: list[SentApdu] = field(default_factory=list)
    apdu_count: int = 0
    secure: SecureChannel | None = None  # set by securechannel.open_secure_channel

    @staticmethod
    def _channel_of(cla: int) -> int:
        """The logical channel a CLA addresses (ISO 7816-4 §5.4.1)."""
        return (cla & 0x0F) + 4 if cla & 0x40 else cla & 0x03

    def close_secure_channel(self) -> None:
        """Forget the secure channel session (the card ends it on SELECT of another application
        or on reset); later commands go unwrapped."""
        self.secure = None

    def _exchange(self, apdu: Apdu) -> Response:
        raw = apdu.encode()
        log.debug("> %s", apdu.shown())
        data, sw = self.conn.transmit(raw)
        self.apdu_count += 1
        log.debug("< %s %04X", data.hex().upper(), sw)
        if self.record:
            shown_data = "" if apdu.ins in _SECRET_INS else data.hex().upper()
            self.sent.append(SentApdu(apdu.shown(), shown_data, sw))
        return Response(data, sw)

    def send(self, apdu: Apdu, *, write: bool = False) -> Response:
        """Send ``apdu``; follow 61xx with GET RESPONSE and 6Cxx with a re-send.

        In dry-run mode a ``write`` command is recorded and answered 9000 without sending.
        Raises the transport's errors (CardRemovedError, …) and CardProtocolError for a card
        that never stops asking for GET RESPONSE.
        """
        if write and self.dry_run:
            log.debug("> %s (dry run: not sent)", apdu.shown())
            self.sent.append(SentApdu(apdu.shown(), None, None))
            return Response(b"", 0x9000)
        secure = self.secure
        if secure is not None and apdu.cla != 0xA0 and self._channel_of(apdu.cla) == secure.channel:
            log.debug("> %s (plain, %s-wrapped below)", apdu.shown(), secure.scp)
            record, self.record = self.record, False  # the listing shows the plain exchange
            try:
                resp = secure.unwrap(apdu, self._send_raw(secure.wrap(apdu)))
            finally:
                self.record = record
            log.debug("< %s %04X (plain)", resp.data.hex().upper(), resp.sw)
            if record:
                shown_data = "" if apdu.ins in _SECRET_INS else resp.data.hex().upper()
                self.sent.append(SentApdu(apdu.shown(), shown_data, resp.sw))
            return resp
        return self._send_raw(apdu)

    def _send_raw(self, apdu: Apdu) -> Response:
        """``send`` below the secure channel: one command, its T=0 recovery rounds."""
        resp = self._exchange(apdu)
        if resp.sw >> 8 == 0x6C:
            resp = self._exchange(Apdu(apdu.cla, apdu.ins, apdu.p1, apdu.p2, apdu.data, resp.sw & 0xFF))
        data = resp.data
        rounds = 0
        while resp.sw >> 8 == 0x61 or (resp.sw >> 8 == 0x9F and apdu.cla == 0xA0):
            rounds += 1
            if rounds > MAX_CHAINED_RESPONSES:
                raise CardProtocolError(apdu.label(), f"still 61xx after {MAX_CHAINED_RESPONSES} GET RESPONSE commands")
            get = Apdu(get_response_cla(apdu.cla), 0xC0, 0, 0, le=resp.sw & 0xFF)
            resp = self._exchange(get)
            if resp.sw >> 8 == 0x6C:
                resp = self._exchange(Apdu(get.cla, 0xC0, 0, 0, le=resp.sw & 0xFF))
            data += resp.data
        return Response(data, resp.sw)

    def check(self, apdu: Apdu, *, write: bool = False, ok: tuple[int, ...] = (0x9000,)) -> Response:
        """``send`` and raise the status word's typed ApduError unless it is in ``ok``."""
        resp = self.send(apdu, write=write)
        if resp.sw not in ok:
            raise error_for(resp.sw, apdu.label(), resp.data)
        return resp

    def select_aid(self, aid: bytes, *, channel: int = 0) -> Response:
        """SELECT by DF name (AID), first or only occurrence, FCI requested."""
        return self.check(Apdu(channel_cla(0x00, channel), 0xA4, 0x04, 0x00, aid, 0x00), ok=(0x9000,))

    def open_channel(self) -> int:
        """MANAGE CHANNEL open; returns the channel number the card assigned (1–19)."""
        resp = self.check(Apdu(0x00, 0x70, 0x00, 0x00, le=1))
        if len(resp.data) != 1 or not 1 <= resp.data[0] <= 19:
            raise CardProtocolError("MANAGE CHANNEL", f"{resp.data.hex().upper() or 'no data'} is not a channel number 1-19")
        return resp.data[0]

    def close_channel(self, channel: int) -> None:
        """MANAGE CHANNEL close of ``channel`` (sent on that channel)."""
        self.check(Apdu(channel_cla(0x00, channel), 0x70, 0x80, channel))

    @property
    def atr(self) -> bytes:
        return self.conn.atr
