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


_AR_PARTS = (("D00101",), ("D00101", "D10101"), ("DB080000000000000001",),
             ("D00101", "DB080000000000000001"), ("D00101", "D10101", "DB080000000000000001"))


def _spec_rule(aid_len: int, hash_: bytes, ar_choice: int, n: int) -> bytes:
    aid = (bytes([0xA0, n % 256, n // 256 % 256]) + bytes(range(3, aid_len)))[:aid_len] if aid_len else b""
    ar = bytes.fromhex("".join(_AR_PARTS[ar_choice]))
    return encode_tlv(0xE2, encode_tlv(0xE1, encode_tlv(0x4F, aid) + encode_tlv(0xC1, hash_)) + encode_tlv(0xE3, ar))


def _spec_rule_of_size(size: int, n: int, *, with_hash: bool) -> bytes:
    """A rule a GP SEAC card accepts (AID 0 or 5…16 bytes, hash 0 or 20, a valid AR-DO)."""
    base = 10 + (20 if with_hash else 0)
    hash_ = (n.to_bytes(4, "big") * 5) if with_hash else b""
    for ar_choice, ar_len in enumerate((3, 6, 10, 13, 16)):
        aid_len = size - base - ar_len
        if aid_len == 0 or 5 <= aid_len <= 16:
            rule = _spec_rule(aid_len, hash_, ar_choice, n)
            assert len(rule) == size
            return rule
    raise ValueError(f"no valid rule of {size} bytes")


def portable_rules_of_length(length: int) -> list[bytes]:
    """REF-AR-DOs both a correct card and the applet accept (distinct REF-DOs; at most one
    without a hash) adding up to ``length`` bytes: 0, 13, 16 and every length from 18."""
    if length == 0:
        return []
    if length <= 42:
        return [_spec_rule_of_size(length, 0, with_hash=False)]
    if length <= 62:
        return [_spec_rule_of_size(length, 1, with_hash=True)]
    big = -(-(length - 42) // 62)  # rules of 38…62 bytes with a hash, plus one of 18…42 without
    rest = length - 38 * big
    small = max(18, rest - 24 * big)
    spread = rest - small
    sizes = [38 + spread // big + (1 if i < spread % big else 0) for i in range(big)]
    return [_spec_rule_of_size(small, 0, with_hash=False)] + [
        _spec_rule_of_size(s, i + 1, with_hash=True) for i, s in enumerate(sizes)]


PORTABLE_LENGTHS = (0, 13, 16, *range(18, 2001))
