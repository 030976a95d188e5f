"""The cipher operations GlobalPlatform secure channels use, all done by ``cryptography``.

Nothing here implements a cipher: AES, 3DES, AES-CMAC and the NIST SP 800-108 counter-mode KDF
come from ``cryptography`` (3DES from its ``decrepit`` module, where it lives since 43.0). This
module only names the GP compositions of them: ISO 9797-1 padding method 2 (``80 00…``), the
SCP02 retail MAC (ISO 9797-1 MAC algorithm 3 with single-DES chaining), the full 3DES MAC
(algorithm 1) of the SCP02 cryptograms, the SCP03 KDF of GP Amendment D §6.2.2 and the key
check values (KCV) of GP Card Specification §11.8.2.3.3 / Amendment D §7.2.
"""

from __future__ import annotations

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.kbkdf import CounterLocation, KBKDFCMAC, Mode

AES_BLOCK = 16
DES_BLOCK = 8


def pad80(data: bytes, block: int) -> bytes:
    """ISO 9797-1 padding method 2: ``80`` then zeros up to a multiple of ``block`` (always adds)."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block)


def unpad80(data: bytes) -> bytes | None:
    """``data`` without its method-2 padding, or None when the padding is not there."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        return None
    return stripped[:-1]


def aes_ecb(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def aes_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def aes_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    mac = cmac.CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()


def _des_key(key: bytes) -> TripleDES:
    """TripleDES for an 8 (single DES), 16 (two-key) or 24-byte key, given to ``cryptography``
    in its 24-byte form (K1 K2 K1), which it takes without a deprecation warning."""
    if len(key) == 8:
        key = key * 3
    elif len(key) == 16:
        key = key + key[:8]
    return TripleDES(key)


def des3_ecb(key: bytes, data: bytes) -> bytes:
    """3DES (two- or three-key; an 8-byte key is single DES) in ECB mode."""
    enc = Cipher(_des_key(key), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def des3_cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    enc = Cipher(_des_key(key), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def des3_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    dec = Cipher(_des_key(key), modes.CBC(iv)).decryptor()
    return dec.update(data) + dec.finalize()


def full_3des_mac(key: bytes, data: bytes, iv: bytes = bytes(DES_BLOCK)) -> bytes:
    """ISO 9797-1 MAC algorithm 1 with 3DES over method-2 padded ``data`` (SCP02 cryptograms)."""
    return des3_cbc_encrypt(key, iv, pad80(data, DES_BLOCK))[-DES_BLOCK:]


def retail_mac(key: bytes, data: bytes, iv: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 (single-DES CBC with the key's first half, 3DES on the last
    block) over method-2 padded ``data``, chained from ``iv`` (SCP02 C-MAC)."""
    padded = pad80(data, DES_BLOCK)
    head, last = padded[:-DES_BLOCK], padded[-DES_BLOCK:]
    chained = iv
    if head:
        chained = des3_cbc_encrypt(key[:8], iv, head)[-DES_BLOCK:]
    return des3_cbc_encrypt(key, chained, last)


def scp03_kdf(key: bytes, constant: int, context: bytes, length: int) -> bytes:
    """GP Amendment D §6.2.2: NIST SP 800-108 counter mode with AES-CMAC; the fixed input is
    label ``00×11 ‖ constant`` ‖ separator ``00`` ‖ L (bits, 2 bytes), then the counter (1
    byte), then ``context``. ``length`` is in bytes."""
    fixed = bytes(11) + bytes([constant, 0x00]) + (length * 8).to_bytes(2, "big") + context
    kdf = KBKDFCMAC(algorithm=algorithms.AES, mode=Mode.CounterMode, length=length, rlen=1, llen=None,
                    location=CounterLocation.MiddleFixed, label=None, context=None, fixed=fixed,
                    break_location=15)
    return kdf.derive(key)


def kdf_counter_first(key: bytes, fixed: bytes, length: int) -> bytes:
    """SP 800-108 counter mode with AES-CMAC, the 1-byte counter before ``fixed`` (the layout
    of GlobalPlatformPro's ``kdf3`` diversification)."""
    kdf = KBKDFCMAC(algorithm=algorithms.AES, mode=Mode.CounterMode, length=length, rlen=1, llen=None,
                    location=CounterLocation.BeforeFixed, label=None, context=None, fixed=fixed)
    return kdf.derive(key)


def kcv_des(key: bytes) -> bytes:
    """KCV of a DES/3DES key: the first 3 bytes of 3DES-ECB(key, 00×8)."""
    return des3_ecb(key, bytes(DES_BLOCK))[:3]


def kcv_aes(key: bytes) -> bytes:
    """KCV of an AES key (Amendment D §7.2): the first 3 bytes of AES-ECB(key, 01×16)."""
    return aes_ecb(key, b"\x01" * AES_BLOCK)[:3]
