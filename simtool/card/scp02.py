"""SCP02 (GlobalPlatform Card Specification v2.2 Appendix E): 3DES secure channel.

INITIALIZE UPDATE ``80 50 KVN 00 08 host-challenge 00`` is answered by
KDD (10) ‖ KVN ‖ ``02`` ‖ sequence counter (2) ‖ card challenge (6) ‖ card cryptogram (8).
Session keys: 3DES-CBC (IV 0) of the static key over constant ‖ sequence counter ‖ 00×12, with
the constants 0182 (S-ENC from ENC), 0101 (C-MAC from MAC), 0102 (R-MAC), 0181 (DEK).
Card cryptogram = full 3DES MAC (S-ENC) of host challenge ‖ counter ‖ card challenge; host
cryptogram of counter ‖ card challenge ‖ host challenge.

C-MAC: retail MAC (S-MAC) of the header with the SM bit and Lc + 8, then the plain data; the ICV
is the previous C-MAC, enciphered with single DES under S-MAC's first half when the card's
"i" parameter says so (b5, 0x10 — set in the common 15 and 55); EXTERNAL AUTHENTICATE starts
from a zero ICV. C-DEC enciphers the data (always padded) with 3DES-CBC under S-ENC, IV 0,
after the MAC was computed over the plain data.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from . import gpcrypto
from .gpkeys import StaticKeys
from .protocol import Apdu, CardProtocol, Response
from .scperrors import (
    CardCryptogramMismatchError,
    ExternalAuthenticateRefusedError,
    SecureChannelError,
    init_update_refused,
)
from .securechannel import C_DEC, ChannelInfo, level_name, random_challenge, sm_cla

log = logging.getLogger("simtool.card.apdu")

SCP = "SCP02"
I_ICV_ENCRYPTION = 0x10


@dataclass(frozen=True)
class InitUpdateAnswer:
    kdd: bytes
    kvn: int
    scp_id: int
    sequence_counter: bytes
    card_challenge: bytes
    card_cryptogram: bytes


def parse_init_update(data: bytes) -> InitUpdateAnswer:
    """Split the 28-byte answer; SecureChannelError for another length or protocol."""
    if len(data) >= 12 and data[11] != 0x02:
        raise SecureChannelError(f"the security domain answered INITIALIZE UPDATE for SCP{data[11]:02X} at KVN "
                                 f"0x{data[10]:02X}, not SCP02 (try --scp{data[11]:02x})", scp=SCP, kvn=data[10])
    if len(data) != 28:
        raise SecureChannelError(f"SCP02 INITIALIZE UPDATE answer is {len(data)} bytes, not 28", scp=SCP)
    return InitUpdateAnswer(data[:10], data[10], data[11], data[12:14], data[14:20], data[20:28])


@dataclass(frozen=True)
class SessionKeys:
    s_enc: bytes
    s_mac: bytes
    s_rmac: bytes
    s_dek: bytes


def _derive(key: bytes, constant: bytes, counter: bytes) -> bytes:
    return gpcrypto.des3_cbc_encrypt(key, bytes(8), constant + counter + bytes(12))


def session_keys(keys: StaticKeys, counter: bytes) -> SessionKeys:
    """The four session keys for the card's 2-byte sequence counter."""
    if len(keys.enc) != 16:
        raise SecureChannelError(f"SCP02 needs 16-byte 3DES keys (got {len(keys.enc)} bytes)", scp=SCP, kvn=keys.kvn)
    return SessionKeys(_derive(keys.enc, b"\x01\x82", counter), _derive(keys.mac, b"\x01\x01", counter),
                       _derive(keys.mac, b"\x01\x02", counter), _derive(keys.dek, b"\x01\x81", counter))


def card_cryptogram(s_enc: bytes, host_challenge: bytes, answer: InitUpdateAnswer) -> bytes:
    return gpcrypto.full_3des_mac(s_enc, host_challenge + answer.sequence_counter + answer.card_challenge)


def host_cryptogram(s_enc: bytes, host_challenge: bytes, answer: InitUpdateAnswer) -> bytes:
    return gpcrypto.full_3des_mac(s_enc, answer.sequence_counter + answer.card_challenge + host_challenge)


class Scp02Channel:
    """The state of one SCP02 session: the last C-MAC (the next ICV)."""

    scp = SCP

    def __init__(self, skeys: SessionKeys, level: int, *, kvn: int, channel: int = 0,
                 i_param: int = 0x55) -> None:
        self._keys = skeys
        self.level = level
        self.kvn = kvn
        self.channel = channel
        self.i_param = i_param
        self._last_mac: bytes | None = None

    def _icv(self) -> bytes:
        if self._last_mac is None:
            return bytes(8)
        if self.i_param & I_ICV_ENCRYPTION:
            return gpcrypto.des3_ecb(self._keys.s_mac[:8], self._last_mac)
        return self._last_mac

    def _mac(self, cla: int, ins: int, p1: int, p2: int, data: bytes) -> bytes:
        header = bytes([cla, ins, p1, p2, len(data) + 8])
        mac = gpcrypto.retail_mac(self._keys.s_mac, header + data, self._icv())
        self._last_mac = mac
        return mac

    def external_authenticate(self, cryptogram: bytes, cla: int = 0x80) -> Apdu:
        cla = sm_cla(cla)
        return Apdu(cla, 0x82, self.level, 0x00, cryptogram + self._mac(cla, 0x82, self.level, 0x00, cryptogram))

    def wrap(self, apdu: Apdu) -> Apdu:
        cla = sm_cla(apdu.cla)
        mac = self._mac(cla, apdu.ins, apdu.p1, apdu.p2, apdu.data)
        data = apdu.data
        if self.level & C_DEC and data:
            data = gpcrypto.des3_cbc_encrypt(self._keys.s_enc, bytes(8), gpcrypto.pad80(data, 8))
        return Apdu(cla, apdu.ins, apdu.p1, apdu.p2, data + mac, apdu.le)

    def unwrap(self, command: Apdu, response: Response) -> Response:
        return response


def open_scp02(proto: CardProtocol, keys: StaticKeys, level: int, *, channel: int = 0,
               host_challenge: bytes | None = None, i_param: int = 0x55) -> ChannelInfo:
    """INITIALIZE UPDATE, card cryptogram check, EXTERNAL AUTHENTICATE; installs the channel on
    ``proto``. ``i_param`` is the card's SCP02 option byte (15 and 55 are the usual ones; only
    its ICV-encryption bit changes what we send)."""
    from .protocol import channel_cla

    challenge = host_challenge if host_challenge is not None else random_challenge(8)
    if len(challenge) != 8:
        raise SecureChannelError("SCP02 host challenge must be 8 bytes", scp=SCP)
    if len(keys.enc) != 16:
        raise SecureChannelError(f"SCP02 needs 16-byte 3DES keys (got {len(keys.enc)} bytes)", scp=SCP, kvn=keys.kvn)
    cla = channel_cla(0x80, channel)
    proto.close_secure_channel()
    resp = proto.send(Apdu(cla, 0x50, keys.kvn, 0x00, challenge, le=0))
    if resp.sw != 0x9000:
        raise init_update_refused(SCP, keys.kvn, resp.sw)
    answer = parse_init_update(resp.data)
    if keys.kvn and answer.kvn != keys.kvn:  # seen on real cards; the cryptogram check decides
        log.debug("%s: asked for KVN 0x%02X, the card answered for key set 0x%02X", SCP, keys.kvn, answer.kvn)
    card_keys = keys.diversified(answer.kdd)
    kcvs = card_keys.kcv_text("des")
    skeys = session_keys(card_keys, answer.sequence_counter)
    if not hmac.compare_digest(card_cryptogram(skeys.s_enc, challenge, answer), answer.card_cryptogram):
        raise CardCryptogramMismatchError(SCP, answer.kvn, kcvs)
    chan = Scp02Channel(skeys, level, kvn=answer.kvn, channel=channel, i_param=i_param)
    resp = proto.send(chan.external_authenticate(host_cryptogram(skeys.s_enc, challenge, answer), cla))
    if resp.sw != 0x9000:
        raise ExternalAuthenticateRefusedError(SCP, answer.kvn, resp.sw, kcvs)
    proto.secure = chan
    log.debug("SCP02 session open: KVN 0x%02X, level %s, channel %d, KCV %s", answer.kvn, level_name(level),
              channel, kcvs)
    return ChannelInfo(SCP, answer.kvn, level, channel, answer.kdd, answer.sequence_counter, i_param,
                       card_keys.kcvs("des"))
