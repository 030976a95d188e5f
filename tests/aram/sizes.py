"""Rule lists of an exact FF40 length L, made of rules both simulated ARA-Ms can hold
(4F AID + C1 hash in E1, DB permissions in E3, each REF-AR-DO shorter than 128 bytes)."""

from __future__ import annotations

from simtool.aram.tlv import encode_tlv

MIN_RULE = 10  # E2 08 E1 04 4F00 C100 E3 00
MAX_RULE = 56  # 16-byte AID, 20-byte hash, DB 08


def rule_of_size(size: int, n: int) -> bytes:
    """One REF-AR-DO of exactly ``size`` bytes (10…56); ``n`` makes its hash distinct."""
    if not MIN_RULE <= size <= MAX_RULE:
        raise ValueError(f"rule size {size} outside {MIN_RULE}..{MAX_RULE}")
    perm = size >= 20
    room = size - (20 if perm else 10)
    aid_len = min(16, room)
    hash_len = room - aid_len
    aid = (bytes([0xA0 | n % 16]) + bytes(range(1, aid_len))) if aid_len else b""
    hash_ = (n.to_bytes(4, "big") * 5)[:hash_len]
    ar = encode_tlv(0xDB, (n % 256).to_bytes(8, "big")) if perm else b""
    rule = encode_tlv(0xE2, encode_tlv(0xE1, encode_tlv(0x4F, aid) + encode_tlv(0xC1, hash_)) + encode_tlv(0xE3, ar))
    assert len(rule) == size, (size, len(rule))
    return rule


def rules_of_length(length: int) -> list[bytes]:
    """REF-AR-DOs whose concatenation is exactly ``length`` bytes (0, or 10 and more)."""
    if length == 0:
        return []
    if length < MIN_RULE:
        raise ValueError(f"no rule list is {length} bytes long (a rule takes at least {MIN_RULE})")
    count = -(-length // MAX_RULE)
    sizes = [length // count + (1 if i < length % count else 0) for i in range(count)]
    if sizes[-1] < 20 and count > 1:
        raise AssertionError(sizes)
    return [rule_of_size(s, i + 1) for i, s in enumerate(sizes)]
