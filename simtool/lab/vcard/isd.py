"""The simulated card's Issuer Security Domain: SCP02 or SCP03, as the card side of GP.

Written from the specifications (GP Card Specification v2.2 Appendix E for SCP02, Amendment D
v1.1 for SCP03, REFERENCE §5), independently of simtool's client (``simtool.card.scp0x``): it
imports nothing from it, only ``cryptography``'s ciphers, so a shared misreading of the spec
would have to be made twice to go unnoticed (the client is also checked against published
vectors).

What it does:
- INITIALIZE UPDATE (KVN 0 or its own; 6A88 otherwise) → KDD ‖ key info ‖ card challenge ‖
  card cryptogram [‖ sequence counter]; the SCP02 sequence counter / SCP03 counter moves on.
- EXTERNAL AUTHENTICATE: checks the C-MAC and the host cryptogram; a failure costs one of
  ``tries`` attempts (memory ``isd_tries_left``, 3 by default) and answers 6300; at 0 the ISD
  is locked: INITIALIZE UPDATE answers 6983 for good.
- In a session every command must carry SM (CLA b3, or b6 on channels 4–19) and a right C-MAC
  (else 6982 and the session ends); C-DEC data is deciphered; SCP03 answers get R-MAC/R-ENC.
- INSTALL [for personalization] of the ARA-M, then STORE DATA goes to the ARA-M — the only way
  to write a locked ARA-M (``LockedAram`` answers its own STORE DATA with 6982).
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from typing import Callable

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .apdu import (
    SW_AUTH_BLOCKED, SW_CONDITIONS_NOT_SATISFIED, SW_DATA_NOT_FOUND, SW_INS_NOT_SUPPORTED, SW_OK,
    SW_SECURITY_NOT_SATISFIED, SW_WRONG_DATA, SW_WRONG_LENGTH, SW_WRONG_P1P2, ClassByte, Command, Response, status,
)
from .context import CardContext
from .profiles import AID_ARA_M, AID_ISD
from .tlv import encode_tlv

TEST_KEY = bytes(range(0x40, 0x50))


@dataclass(frozen=True)
class IsdKeys:
    enc: bytes
    mac: bytes
    dek: bytes


# --- the ciphers, as the spec composes them --------------------------------------------------

def _des(key: bytes) -> TripleDES:
    return TripleDES(key * 3 if len(key) == 8 else key + key[:8] if len(key) == 16 else key)


def _cbc(algo: algorithms.AES | TripleDES, iv: bytes, data: bytes, *, decrypt: bool = False) -> bytes:
    c = Cipher(algo, modes.CBC(iv))
    op = c.decryptor() if decrypt else c.encryptor()
    return op.update(data) + op.finalize()


def _pad(data: bytes, block: int) -> bytes:
    data += b"\x80"
    return data + bytes((block - len(data) % block) % block)


def _unpad(data: bytes) -> bytes | None:
    end = len(data)
    while end and data[end - 1] == 0:
        end -= 1
    return data[:end - 1] if end and data[end - 1] == 0x80 else None


def _cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()


def _kdf(key: bytes, constant: int, context: bytes, bits: int) -> bytes:
    """Amendment D §6.2.2, counter loop written out: CMAC(key, 00*11 ‖ c ‖ 00 ‖ L ‖ i ‖ context)."""
    out = b""
    i = 1
    while len(out) * 8 < bits:
        out += _cmac(key, bytes(11) + bytes([constant, 0]) + bits.to_bytes(2, "big") + bytes([i]) + context)
        i += 1
    return out[:bits // 8]


def _des_mac(key: bytes, data: bytes, iv: bytes) -> bytes:
    """ISO 9797-1 algorithm 1 with 3DES (cryptograms): last block of 3DES-CBC."""
    return _cbc(_des(key), iv, _pad(data, 8))[-8:]


def _retail_mac(key: bytes, data: bytes, iv: bytes) -> bytes:
    """ISO 9797-1 algorithm 3: DES-CBC with K1 over every block, then decrypt K2, encrypt K1."""
    h = _cbc(_des(key[:8]), iv, _pad(data, 8))[-8:]
    d = Cipher(_des(key[8:16]), modes.ECB()).decryptor()
    h = d.update(h) + d.finalize()
    e = Cipher(_des(key[:8]), modes.ECB()).encryptor()
    return e.update(h) + e.finalize()


def _ecb(algo: algorithms.AES | TripleDES, block: bytes) -> bytes:
    e = Cipher(algo, modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


# --- the security domain ---------------------------------------------------------------------

class LockedAram:
    """The ARA-M after the sysmocom ``aram_lock``: reads answered, STORE DATA refused (6982)."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = "ara-m"

    def select_data(self, aid: bytes) -> bytes:
        return self.inner.select_data(aid)  # type: ignore[attr-defined]

    def snapshot(self) -> object:
        return self.inner.snapshot() if hasattr(self.inner, "snapshot") else None

    def restore(self, snap: object) -> None:
        if hasattr(self.inner, "restore"):
            self.inner.restore(snap)

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.ins == 0xE2:
            return status(SW_SECURITY_NOT_SATISFIED)
        return self.inner.process(cmd, cla)  # type: ignore[attr-defined]


class Isd:
    """The ISD as selected on one logical channel (a new SELECT drops it and its session)."""

    name = "isd"

    def __init__(self, ctx: CardContext, keys: IsdKeys, aram: Callable[[], object], max_tries: int) -> None:
        self.ctx = ctx
        self.profile = ctx.profile
        self.scp = ctx.profile.isd_scp
        self.kvn = ctx.profile.isd_kvn
        self.i_param = ctx.profile.isd_i
        self.keys = keys
        self.aram = aram
        self.max_tries = max_tries
        self._pending: dict | None = None  # INITIALIZE UPDATE done, EXTERNAL AUTHENTICATE awaited
        self._session: dict | None = None
        self._target: object | None = None

    def select_data(self, aid: bytes) -> bytes:
        return encode_tlv(0x6F, encode_tlv(0x84, aid) + encode_tlv(0xA5, encode_tlv(0x9F6E, b"\x00")))

    # entry -------------------------------------------------------------------------------
    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cla.secure_messaging:
            if self._session is None:
                if cmd.ins == 0x82 and self._pending is not None:
                    return self._external_authenticate(cmd)
                return status(SW_SECURITY_NOT_SATISFIED)
            plain = self._unwrap(cmd)
            if plain is None:
                self._session = None
                self._target = None
                return status(SW_SECURITY_NOT_SATISFIED)
            return self._wrap_response(self._command(plain, cla))
        self._session = None  # a plain command ends a session (GP: the channel is no longer secure)
        self._target = None
        if cmd.ins == 0x50 and cla.proprietary:
            return self._initialize_update(cmd)
        if cmd.ins in (0xE6, 0xE2, 0x82):
            return status(SW_SECURITY_NOT_SATISFIED)
        return status(SW_INS_NOT_SUPPORTED)

    def _command(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.ins == 0xE6:
            return self._install(cmd)
        if cmd.ins == 0xE2:
            if self._target is None:
                return status(SW_CONDITIONS_NOT_SATISFIED)
            return self._target.process(cmd, cla)  # type: ignore[attr-defined]
        return status(SW_INS_NOT_SUPPORTED)

    # INITIALIZE UPDATE / EXTERNAL AUTHENTICATE -----------------------------------------------
    def _initialize_update(self, cmd: Command) -> Response:
        memory = self.ctx.memory
        self._pending = None
        if memory.isd_tries_left <= 0:
            return status(SW_AUTH_BLOCKED)
        if cmd.p1 not in (0, self.kvn) or cmd.p2 != 0:
            return status(SW_DATA_NOT_FOUND if cmd.p2 == 0 else SW_WRONG_P1P2)
        s16 = self.scp == 3 and bool(self.i_param & 0x01)
        if len(cmd.data) != (16 if s16 else 8):
            return status(SW_WRONG_LENGTH)
        memory.isd_counter += 1
        kdd = self.ctx.kdd
        host = cmd.data
        if self.scp == 2:
            counter = (memory.isd_counter & 0xFFFF).to_bytes(2, "big")
            card_challenge = os.urandom(6)
            s_enc = _cbc(_des(self.keys.enc), bytes(8), b"\x01\x82" + counter + bytes(12))
            s_mac = _cbc(_des(self.keys.mac), bytes(8), b"\x01\x01" + counter + bytes(12))
            card_cryptogram = _des_mac(s_enc, host + counter + card_challenge, bytes(8))
            self._pending = {"host": host, "counter": counter, "card": card_challenge, "s_enc": s_enc, "s_mac": s_mac}
            return Response(kdd + bytes([self.kvn, 0x02]) + counter + card_challenge + card_cryptogram)
        n = 16 if s16 else 8
        counter3 = (memory.isd_counter & 0xFFFFFF).to_bytes(3, "big")
        if self.i_param & 0x10:  # pseudo-random card challenge from the counter and the ISD AID
            card_challenge = _kdf(self.keys.enc, 0x02, counter3 + AID_ISD, n * 8)
        else:
            card_challenge = os.urandom(n)
        context = host + card_challenge
        bits = len(self.keys.enc) * 8
        s_enc = _kdf(self.keys.enc, 0x04, context, bits)
        s_mac = _kdf(self.keys.mac, 0x06, context, bits)
        s_rmac = _kdf(self.keys.mac, 0x07, context, bits)
        card_cryptogram = _kdf(s_mac, 0x00, context, n * 8)
        self._pending = {"host": host, "card": card_challenge, "s_enc": s_enc, "s_mac": s_mac, "s_rmac": s_rmac,
                         "n": n}
        tail = counter3 if self.i_param & 0x10 else b""
        return Response(kdd + bytes([self.kvn, 0x03, self.i_param]) + card_challenge + card_cryptogram + tail)

    def _external_authenticate(self, cmd: Command) -> Response:
        pending, self._pending = self._pending, None
        assert pending is not None
        memory = self.ctx.memory
        level = cmd.p1
        if self.scp == 2:
            n, ok_levels = 8, {0x01, 0x03}
            expected = _des_mac(pending["s_enc"], pending["counter"] + pending["card"] + pending["host"], bytes(8))
            header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2, len(cmd.data)])
            mac_ok = len(cmd.data) == 16 and hmac.compare_digest(
                _retail_mac(pending["s_mac"], header + cmd.data[:8], bytes(8)), cmd.data[8:])
        else:
            n, ok_levels = pending["n"], {0x01, 0x03, 0x11, 0x13, 0x33}
            expected = _kdf(pending["s_mac"], 0x01, pending["host"] + pending["card"], n * 8)
            header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2, len(cmd.data)])
            full = _cmac(pending["s_mac"], bytes(16) + header + cmd.data[:n])
            mac_ok = len(cmd.data) == 2 * n and hmac.compare_digest(full[:n], cmd.data[n:])
        if not (mac_ok and hmac.compare_digest(expected, cmd.data[:n])):
            memory.isd_tries_left = max(0, memory.isd_tries_left - 1)
            return status(0x6300)
        if level not in ok_levels or (self.scp == 3 and level & 0x30 and not self.i_param & 0x20):
            return status(SW_WRONG_P1P2)
        memory.isd_tries_left = self.max_tries
        session = dict(pending, level=level, counter_enc=0)
        if self.scp == 2:
            session["last_mac"] = cmd.data[8:]
        else:
            session["chain"] = full
        self._session = session
        return status(SW_OK)

    # secure messaging --------------------------------------------------------------------
    def _unwrap(self, cmd: Command) -> Command | None:
        s = self._session
        assert s is not None
        n = 8 if self.scp == 2 else s["n"]
        if len(cmd.data) < n:
            return None
        body, mac = cmd.data[:-n], cmd.data[-n:]
        header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2, len(cmd.data)])
        level = s["level"]
        if self.scp == 2:
            # the MAC covers the plain data: decipher first
            plain = body
            if level & 0x02 and body:
                if len(body) % 8:
                    return None
                deciphered = _unpad(_cbc(_des(s["s_enc"]), bytes(8), body, decrypt=True))
                if deciphered is None:
                    return None
                plain = deciphered
            header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2, len(plain) + 8])
            icv = _ecb(_des(s["s_mac"][:8]), s["last_mac"]) if self.profile.isd_i & 0x10 else s["last_mac"]
            if not hmac.compare_digest(_retail_mac(s["s_mac"], header + plain, icv), mac):
                return None
            s["last_mac"] = mac
        else:
            full = _cmac(s["s_mac"], s["chain"] + header + body)
            if not hmac.compare_digest(full[:n], mac):
                return None
            s["chain"] = full
            s["counter_enc"] += 1
            plain = body
            if level & 0x02 and body:
                if len(body) % 16:
                    return None
                icv = _ecb(algorithms.AES(s["s_enc"]), s["counter_enc"].to_bytes(16, "big"))
                deciphered = _unpad(_cbc(algorithms.AES(s["s_enc"]), icv, body, decrypt=True))
                if deciphered is None:
                    return None
                plain = deciphered
        cla = cmd.cla & ~0x20 if cmd.cla & 0x40 else cmd.cla & ~0x0C
        return Command(cla, cmd.ins, cmd.p1, cmd.p2, plain, cmd.le)

    def _wrap_response(self, resp: Response) -> Response:
        s = self._session
        if s is None or self.scp == 2 or not s["level"] & 0x10:
            return resp
        if resp.sw != SW_OK and resp.sw >> 8 not in (0x62, 0x63):
            return resp
        data = resp.data
        if s["level"] & 0x20 and data:
            icv = _ecb(algorithms.AES(s["s_enc"]), b"\x80" + s["counter_enc"].to_bytes(15, "big"))
            data = _cbc(algorithms.AES(s["s_enc"]), icv, _pad(data, 16))
        rmac = _cmac(s["s_rmac"], s["chain"] + data + resp.sw.to_bytes(2, "big"))[:s["n"]]
        return Response(data + rmac, resp.sw)

    # INSTALL [for personalization] ---------------------------------------------------------
    def _install(self, cmd: Command) -> Response:
        if cmd.p1 != 0x20 or cmd.p2 != 0x00:
            return status(SW_WRONG_P1P2)
        data = cmd.data
        try:
            if data[0] != 0 or data[1] != 0:
                return status(SW_WRONG_DATA)
            aid = data[3:3 + data[2]]
            if len(aid) != data[2]:
                return status(SW_WRONG_DATA)
        except IndexError:
            return status(SW_WRONG_DATA)
        if aid != AID_ARA_M:
            return status(SW_DATA_NOT_FOUND)
        self._target = self.aram()
        return Response(b"\x00")
