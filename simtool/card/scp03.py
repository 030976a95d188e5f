"""SCP03 (GlobalPlatform Card Specification Amendment D v1.1): AES secure channel.

INITIALIZE UPDATE ``80 50 KVN 00 Lc host-challenge 00`` is answered by
KDD (10) ‖ KVN ‖ ``03`` ‖ i ‖ card challenge (8/16) ‖ card cryptogram (8/16) [‖ sequence counter (3)].
Session keys come from the static keys with the SP 800-108 KDF (``gpcrypto.scp03_kdf``) over the
context host challenge ‖ card challenge: S-ENC (constant 04, from ENC), S-MAC (06, from MAC),
S-RMAC (07, from MAC). Cryptograms: card 00, host 01, from S-MAC, 64 bits (S8) or 128 (S16).

Wrapping (Amendment D §6.2.4–6.2.7): C-DEC enciphers the data with AES-CBC under S-ENC, the ICV
being AES(S-ENC, encryption counter) and the counter counting every command after EXTERNAL
AUTHENTICATE; C-MAC = AES-CMAC(S-MAC, chaining value ‖ header with the SM bit ‖ Lc ‖ data), the
whole 16 bytes become the next chaining value and the first 8 (S8) or 16 (S16) are appended.
R-MAC = AES-CMAC(S-RMAC, chaining value ‖ data ‖ SW); R-ENC's ICV is AES(S-ENC, 80 ‖ counter[1:]).
Error status words (other than 9000, 62xx, 63xx) carry no R-MAC.
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
    ResponseMacError,
    SecureChannelError,
    init_update_refused,
)
from .securechannel import C_DEC, R_ENC, R_MAC, ChannelInfo, level_name, random_challenge, sm_cla

log = logging.getLogger("simtool.card.apdu")

SCP = "SCP03"
I_S16 = 0x01
I_PSEUDO_RANDOM = 0x10
I_RMAC = 0x20
I_RENC = 0x40


@dataclass(frozen=True)
class InitUpdateAnswer:
    """INITIALIZE UPDATE's answer, parsed (no secrets in it)."""

    kdd: bytes
    kvn: int
    scp_id: int
    i_param: int
    card_challenge: bytes
    card_cryptogram: bytes
    sequence_counter: bytes

    @property
    def s16(self) -> bool:
        return bool(self.i_param & I_S16)


def parse_init_update(data: bytes) -> InitUpdateAnswer:
    """Split the answer; SecureChannelError when its length fits no SCP03 layout."""
    if len(data) < 13:
        raise SecureChannelError(f"INITIALIZE UPDATE answer of {len(data)} bytes is too short for SCP03", scp=SCP)
    kdd, kvn, scp_id, i_param = data[:10], data[10], data[11], data[12]
    if scp_id != 0x03:
        raise SecureChannelError(f"the security domain answered INITIALIZE UPDATE for SCP{scp_id:02X} at KVN "
                                 f"0x{kvn:02X}, not SCP03 (try --scp{scp_id:02x})", scp=SCP, kvn=kvn)
    n = 16 if i_param & I_S16 else 8
    rest = data[13:]
    if len(rest) not in (2 * n, 2 * n + 3):
        raise SecureChannelError(f"INITIALIZE UPDATE answer of {len(data)} bytes does not fit SCP03 "
                                 f"{'S16' if n == 16 else 'S8'} (i=0x{i_param:02X})", scp=SCP, kvn=kvn)
    return InitUpdateAnswer(kdd, kvn, scp_id, i_param, rest[:n], rest[n:2 * n], rest[2 * n:])


@dataclass(frozen=True)
class SessionKeys:
    s_enc: bytes
    s_mac: bytes
    s_rmac: bytes


def session_keys(keys: StaticKeys, context: bytes) -> SessionKeys:
    """S-ENC, S-MAC, S-RMAC for ``context`` = host challenge ‖ card challenge."""
    n = len(keys.enc)
    return SessionKeys(gpcrypto.scp03_kdf(keys.enc, 0x04, context, n),
                       gpcrypto.scp03_kdf(keys.mac, 0x06, context, n),
                       gpcrypto.scp03_kdf(keys.mac, 0x07, context, n))


def cryptogram(s_mac: bytes, constant: int, context: bytes, length: int) -> bytes:
    """Card (constant 00) or host (01) cryptogram of ``length`` bytes (8 for S8, 16 for S16)."""
    return gpcrypto.scp03_kdf(s_mac, constant, context, length)


class Scp03Channel:
    """The state of one SCP03 session: MAC chaining value and encryption counter."""

    scp = SCP

    def __init__(self, skeys: SessionKeys, level: int, *, kvn: int, channel: int = 0, s16: bool = False) -> None:
        self._keys = skeys
        self.level = level
        self.kvn = kvn
        self.channel = channel
        self.mac_len = 16 if s16 else 8
        self._chain = bytes(16)
        self._counter = 0

    def _mac(self, cla: int, ins: int, p1: int, p2: int, data: bytes) -> bytes:
        header = bytes([cla, ins, p1, p2, len(data) + self.mac_len])
        full = gpcrypto.aes_cmac(self._keys.s_mac, self._chain + header + data)
        self._chain = full
        return full[:self.mac_len]

    def external_authenticate(self, host_cryptogram: bytes, cla: int = 0x80) -> Apdu:
        """EXTERNAL AUTHENTICATE with C-MAC (never enciphered; starts the MAC chain)."""
        cla = sm_cla(cla)
        mac = self._mac(cla, 0x82, self.level, 0x00, host_cryptogram)
        return Apdu(cla, 0x82, self.level, 0x00, host_cryptogram + mac)

    def wrap(self, apdu: Apdu) -> Apdu:
        self._counter += 1
        data = apdu.data
        if self.level & C_DEC and data:
            icv = gpcrypto.aes_ecb(self._keys.s_enc, self._counter.to_bytes(16, "big"))
            data = gpcrypto.aes_cbc_encrypt(self._keys.s_enc, icv, gpcrypto.pad80(data, 16))
        cla = sm_cla(apdu.cla)
        mac = self._mac(cla, apdu.ins, apdu.p1, apdu.p2, data)
        return Apdu(cla, apdu.ins, apdu.p1, apdu.p2, data + mac, apdu.le)

    def unwrap(self, command: Apdu, response: Response) -> Response:
        if not self.level & R_MAC:
            return response
        sw1 = response.sw >> 8
        if response.sw != 0x9000 and sw1 not in (0x62, 0x63):
            return response  # error status words carry no R-MAC
        if len(response.data) < self.mac_len:
            raise ResponseMacError(f"SCP03 response to {command.label()} ({response.sw:04X}) has no R-MAC "
                                   f"at security level {level_name(self.level)}", scp=SCP, kvn=self.kvn)
        body, mac = response.data[:-self.mac_len], response.data[-self.mac_len:]
        want = gpcrypto.aes_cmac(self._keys.s_rmac, self._chain + body + response.sw.to_bytes(2, "big"))
        if not hmac.compare_digest(want[:self.mac_len], mac):
            raise ResponseMacError(f"SCP03 R-MAC of the response to {command.label()} does not check: the answer "
                                   "was altered or the session is out of step; stopping", scp=SCP, kvn=self.kvn)
        if self.level & R_ENC and body:
            if len(body) % 16:
                raise ResponseMacError(f"SCP03 R-ENC data of the response to {command.label()} is {len(body)} "
                                       "bytes, not whole AES blocks", scp=SCP, kvn=self.kvn)
            icv = gpcrypto.aes_ecb(self._keys.s_enc, b"\x80" + self._counter.to_bytes(15, "big"))
            plain = gpcrypto.unpad80(gpcrypto.aes_cbc_decrypt(self._keys.s_enc, icv, body))
            if plain is None:
                raise ResponseMacError(f"SCP03 R-ENC data of the response to {command.label()} has no "
                                       "padding after deciphering", scp=SCP, kvn=self.kvn)
            body = plain
        return Response(body, response.sw)


def initialize_update(kvn: int, host_challenge: bytes, channel_cla: int = 0x80) -> Apdu:
    return Apdu(channel_cla, 0x50, kvn, 0x00, host_challenge, le=0)


def open_scp03(proto: CardProtocol, keys: StaticKeys, level: int, *, channel: int = 0,
               host_challenge: bytes | None = None, s16: bool = False) -> ChannelInfo:
    """INITIALIZE UPDATE, card cryptogram check, EXTERNAL AUTHENTICATE; installs the channel on
    ``proto``. See ``securechannel.open_secure_channel``."""
    from .protocol import channel_cla

    n = 16 if s16 else 8
    challenge = host_challenge if host_challenge is not None else random_challenge(n)
    if len(challenge) != n:
        raise SecureChannelError(f"SCP03 {'S16' if s16 else 'S8'} host challenge must be {n} bytes", scp=SCP)
    cla = channel_cla(0x80, channel)
    proto.close_secure_channel()  # a new INITIALIZE UPDATE ends any earlier session
    resp = proto.send(initialize_update(keys.kvn, challenge, cla))
    if resp.sw != 0x9000:
        raise init_update_refused(SCP, keys.kvn, resp.sw)
    answer = parse_init_update(resp.data)
    if keys.kvn and answer.kvn != keys.kvn:  # seen on real cards; the cryptogram check decides
        log.debug("%s: asked for KVN 0x%02X, the card answered for key set 0x%02X", SCP, keys.kvn, answer.kvn)
    if answer.s16 != s16:
        raise SecureChannelError(f"the card runs SCP03 in {'S16' if answer.s16 else 'S8'} mode (i=0x{answer.i_param:02X}) "
                                 f"at KVN 0x{answer.kvn:02X}; give {'--scp03-s16' if answer.s16 else 'no --scp03-s16'}",
                                 scp=SCP, kvn=answer.kvn)
    if level & R_MAC and not answer.i_param & I_RMAC or level & R_ENC and not answer.i_param & I_RENC:
        raise SecureChannelError(f"the card's SCP03 (i=0x{answer.i_param:02X}) does not offer security level "
                                 f"{level_name(level)} at KVN 0x{answer.kvn:02X}", scp=SCP, kvn=answer.kvn)
    card_keys = keys.diversified(answer.kdd)
    kcvs = card_keys.kcv_text("aes")
    context = challenge + answer.card_challenge
    skeys = session_keys(card_keys, context)
    if not hmac.compare_digest(cryptogram(skeys.s_mac, 0x00, context, n), answer.card_cryptogram):
        raise CardCryptogramMismatchError(SCP, answer.kvn, kcvs)
    chan = Scp03Channel(skeys, level, kvn=answer.kvn, channel=channel, s16=s16)
    auth = chan.external_authenticate(cryptogram(skeys.s_mac, 0x01, context, n), cla)
    resp = proto.send(auth)
    if resp.sw != 0x9000:
        raise ExternalAuthenticateRefusedError(SCP, answer.kvn, resp.sw, kcvs)
    proto.secure = chan
    log.debug("SCP03 session open: KVN 0x%02X, level %s, channel %d, KCV %s", answer.kvn, level_name(level),
              channel, kcvs)
    return ChannelInfo(SCP, answer.kvn, level, channel, answer.kdd, answer.sequence_counter, answer.i_param,
                       card_keys.kcvs("aes"))
