"""RC2 decryption in CBC mode (RFC 2268), for PKCS#12 files written by old keytool / OpenSSL.

Old keytool (before JDK 8u301) and ``openssl pkcs12 -legacy`` encrypt a keystore's certificates
with ``pbeWithSHAAnd40BitRC2-CBC``. OpenSSL 3 only has RC2 in its "legacy" provider, which is
often not loaded, and ``cryptography``'s RC2 takes 128-bit keys only; so the few hundred bytes
of certificate bags are decrypted here. Not constant-time, and decryption only: it reads
certificates (public data) out of a file whose MAC the password has already verified.
"""

from __future__ import annotations

import struct

# RFC 2268 section 2: PITABLE, a permutation of 0..255 from the digits of pi.
PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad")
BLOCK = 8


def expand_key(key: bytes, effective_bits: int) -> list[int]:
    """The 64 16-bit subkeys K[0..63] for ``key`` (1..128 bytes) reduced to ``effective_bits``."""
    if not 1 <= len(key) <= 128 or not 1 <= effective_bits <= 1024:
        raise ValueError("RC2 key of 1..128 bytes and 1..1024 effective bits")
    t = len(key)
    l = bytearray(key) + bytearray(128 - t)
    for i in range(t, 128):
        l[i] = PITABLE[(l[i - 1] + l[i - t]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    l[128 - t8] = PITABLE[l[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        l[i] = PITABLE[l[i + 1] ^ l[i + t8]]
    return [l[2 * i] | l[2 * i + 1] << 8 for i in range(64)]


def _ror(x: int, n: int) -> int:
    return ((x >> n) | (x << (16 - n))) & 0xFFFF


def decrypt_block(k: list[int], block: bytes) -> bytes:
    """One 8-byte block (RFC 2268 section 4: r-mix rounds and r-mash rounds in reverse)."""
    r = list(struct.unpack("<4H", block))
    j = 63
    for rnd in range(16, 0, -1):
        for i in (3, 2, 1, 0):
            shift = (1, 2, 3, 5)[i]
            r[i] = (_ror(r[i], shift) - k[j] - (r[(i - 1) % 4] & r[(i - 2) % 4])
                    - ((~r[(i - 1) % 4]) & r[(i - 3) % 4])) & 0xFFFF
            j -= 1
        if rnd in (6, 12):  # before mixing rounds 5 and 11 came a mashing round
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[(i - 1) % 4] & 63]) & 0xFFFF
    return struct.pack("<4H", *r)


def encrypt_block(k: list[int], block: bytes) -> bytes:
    """One 8-byte block forward (used by the tests against RFC 2268's vectors)."""
    r = list(struct.unpack("<4H", block))
    j = 0
    for rnd in range(1, 17):
        for i in range(4):
            shift = (1, 2, 3, 5)[i]
            x = (r[i] + k[j] + (r[(i - 1) % 4] & r[(i - 2) % 4])
                 + ((~r[(i - 1) % 4]) & r[(i - 3) % 4])) & 0xFFFF
            r[i] = ((x << shift) | (x >> (16 - shift))) & 0xFFFF
            j += 1
        if rnd in (5, 11):
            for i in range(4):
                r[i] = (r[i] + k[r[(i - 1) % 4] & 63]) & 0xFFFF
    return struct.pack("<4H", *r)


def cbc_decrypt(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption (no unpadding); ``data`` is a whole number of blocks."""
    if len(iv) != BLOCK or len(data) % BLOCK:
        raise ValueError("RC2-CBC needs an 8-byte IV and whole 8-byte blocks")
    k = expand_key(key, effective_bits)
    out = bytearray()
    prev = iv
    for pos in range(0, len(data), BLOCK):
        block = data[pos : pos + BLOCK]
        out += bytes(a ^ b for a, b in zip(decrypt_block(k, block), prev, strict=True))
        prev = block
    return bytes(out)
