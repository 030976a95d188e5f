"""ARA-M application session (GP SEAC v1.1): read all rules, store, delete, refresh tag, config.

GET DATA ``80 CA FF 40 00`` starts the FF40 answer; ``80 CA FF 60 00`` continues it until the
announced length has arrived; ``exactread`` checks it every way the protocol allows (sizes,
a second read, FF50 confirmation). A damaged answer is a DamagedAnswerError: never guessed
into rules.
STORE DATA ``80 E2 90 00`` carries one F0 (store), F1 (delete) or F2 (refresh tag) object.
With ``via`` (an ``SdAccess``) the ARA-M is locked behind a security domain: writes go
SELECT ISD → secure channel → INSTALL [for personalization] → STORE DATA (``card.gpsd``), and
the next read selects the ARA-M again (which ends that secure channel session).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..card.gpsd import SdAccess, open_route
from ..card.protocol import Apdu, CardProtocol, Response, channel_cla
from ..card.securechannel import ChannelInfo
from ..card.statuswords import ApduError, error_for
from ..card.uicc import ARA_M_AID
from .android import RuleSetVerdict, check_answer
from .errors import AramNotFoundError
from .exactread import confirm_last_rule, damaged, first_difference, read_raw, stale_byte_shape
from .rules import AccessRule, parse_all_ref_ar_do
from .tlv import TlvError, encode_tlv, read_header

CONFIG_QUERY = bytes.fromhex("E405E603000001")  # Device-Config-DO: device interface version 0.0.1


def get_data(cla: int, tag: int, data: bytes = b"") -> Apdu:
    """GET DATA for ``tag`` (FF40 all, FF60 next, DF20 refresh tag, DF21 config)."""
    return Apdu(cla, 0xCA, tag >> 8, tag & 0xFF, data, le=0)


@dataclass(frozen=True)
class RuleList:
    """What GET DATA all returned: the rules, the raw FF40 bytes, the status word and
    Android's verdict on exactly those bytes."""

    rules: tuple[AccessRule, ...]
    raw: bytes | None
    sw: int
    android: RuleSetVerdict
    pieces: tuple[int, ...] = ()  # sizes of the FF40 and FF60 responses it came in


def store_data(cla: int, payload: bytes) -> Apdu:
    """STORE DATA, last block, BER-TLV content (P1 0x90), one object."""
    return Apdu(cla, 0xE2, 0x90, 0x00, payload)


def store_apdu(rule: AccessRule, cla: int = 0x80) -> Apdu:
    """STORE DATA [Command-Store-REF-AR-DO] for ``rule``."""
    return store_data(cla, encode_tlv(0xF0, rule.encoded()))


def delete_apdu(rule: AccessRule | None, cla: int = 0x80, *, by_ref: bool = False) -> Apdu:
    """STORE DATA [Command-Delete]: exactly ``rule`` (its REF-AR-DO, E2), with ``by_ref`` every
    rule with its REF-DO (E1: same AID, hash and package, whatever the access rules), or all
    rules (``rule`` None: F1 00)."""
    if rule is None:
        target = b""
    else:
        target = rule.ref_do() if by_ref else rule.encoded()
    return store_data(cla, encode_tlv(0xF1, target))


class AramSession:
    """One ARA-M application on one card, on the basic channel or logical ``channel`` (1–19)."""

    def __init__(self, proto: CardProtocol, channel: int = 0, *, via: SdAccess | None = None) -> None:
        self.proto = proto
        self.channel = channel
        self.cla = channel_cla(0x80, channel)
        self.via = via
        self.route: ChannelInfo | None = None  # the open security-domain route, if any
        self.last_route: ChannelInfo | None = None

    def authenticate(self) -> ChannelInfo | None:
        """Open the security-domain route now (``via`` given): proves the keys before anything
        is written; the next read selects the ARA-M again. Not in dry runs (INITIALIZE UPDATE
        moves the card's sequence counter)."""
        if self.via is not None and self.route is None and not self.proto.dry_run:
            self.route = self.last_route = open_route(self.proto, self.via, ARA_M_AID, channel=self.channel)
        return self.route

    def _for_reading(self) -> None:
        if self.route is not None:
            self.proto.close_secure_channel()
            self.route = None
            self.select()

    def select(self) -> None:
        """SELECT the ARA-M; raises AramNotFoundError when the card has none."""
        resp = self.proto.send(Apdu(channel_cla(0x00, self.channel), 0xA4, 0x04, 0x00, ARA_M_AID, 0x00))
        if resp.sw != 0x9000:
            raise AramNotFoundError(resp.sw)

    def get(self, tag: int, data: bytes = b"") -> Response:
        """GET DATA ``tag`` on this session's channel (answer as it came)."""
        self._for_reading()
        return self.proto.send(get_data(self.cla, tag, data))

    def read_rules(self) -> RuleList:
        """Every rule, exactly as the card holds it (see ``exactread``); raises
        DamagedAnswerError (exit 6) naming the damage, or the status word's ApduError."""
        raw = read_raw(self.get)
        if raw is None:
            return RuleList((), None, 0x6A88, check_answer(None, 0x6A88))
        if len(raw.pieces) > 1:
            again = read_raw(self.get)
            if again is None or again.data != raw.data:
                at = first_difference(raw.data, again.data if again else b"")
                raise damaged(f"two reads of the list differ (first at byte {at} of the answer)",
                              raw.announced, len(raw.value))
        try:
            rules = parse_all_ref_ar_do(raw.data)
        except TlvError as exc:
            raise damaged(f"malformed content: {exc.problem} at byte {exc.offset}", raw.announced,
                          raw.announced) from None
        if rules and stale_byte_shape(raw.pieces):
            confirm_last_rule(self.get, raw, rules)
        return RuleList(rules, raw.data, 0x9000, check_answer(raw.data), raw.pieces)

    def send_store(self, apdu: Apdu) -> int:
        """Send one STORE DATA (a write: not sent in dry runs); returns 9000/6381/6382.

        Raises the status word's ApduError otherwise.
        """
        self.authenticate()
        resp = self.proto.send(apdu, write=True)
        if resp.sw not in (0x9000, 0x6381, 0x6382):
            raise error_for(resp.sw, "STORE DATA", resp.data)
        return resp.sw

    def store(self, rule: AccessRule) -> int:
        """Store one rule (F0); see send_store."""
        return self.send_store(store_apdu(rule, self.cla))

    def delete(self, rule: AccessRule | None, *, by_ref: bool = False) -> bool:
        """Delete exactly ``rule`` (``by_ref``: every rule with its REF-DO; None: all rules).

        False when the card says there is no such rule (6A88).
        """
        try:
            self.send_store(delete_apdu(rule, self.cla, by_ref=by_ref))
        except ApduError as err:
            if err.sw == 0x6A88:
                return False
            raise
        return True

    def update_refresh_tag(self) -> int:
        """Ask the ARA-M for a new refresh tag (F2) so devices reload the rules; returns the SW."""
        self.authenticate()
        return self.proto.send(store_data(self.cla, encode_tlv(0xF2, b"")), write=True).sw

    def refresh_tag(self) -> bytes | None:
        """The 8-byte refresh tag (DF20), or None when the card does not offer it."""
        self._for_reading()
        resp = self.proto.send(get_data(self.cla, 0xDF20))
        if resp.sw != 0x9000:
            return None
        try:
            tag, length, body = read_header(resp.data, 0, what="DF20 answer")
        except TlvError:
            return None
        if tag != 0xDF20 or len(resp.data) != body + length:
            return None
        return resp.data[body:]

    def config(self) -> bytes | None:
        """The DF21 configuration answer (ARA-M version), or None when unsupported."""
        self._for_reading()
        resp = self.proto.send(get_data(self.cla, 0xDF21, CONFIG_QUERY))
        return resp.data if resp.sw == 0x9000 else None
