"""ARA-M as GlobalPlatform SEAC v1.1 describes it (and as standard-following card applets behave).

GET DATA `FF40` (all rules, 255-byte pieces, rest with `FF60` until done, then 6A88), `FF50`
(one AR-DO by REF-DO), `DF20` (refresh tag), `DF21` (config); STORE DATA `80 E2 90 00` with `F0`
(store one or more REF-AR-DOs, all-or-nothing), `F1` (delete all / by AID / by REF-DO / one
rule), `F2` (new refresh tag). A REF-DO that already has a rule is a conflict (6A89).
"""

from __future__ import annotations

from .apdu import (
    INS_GET_DATA, INS_STORE_DATA, SW_CLA_NOT_SUPPORTED, SW_CONFLICT, SW_DATA_NOT_FOUND,
    SW_DO_NOT_SUPPORTED, SW_INS_NOT_SUPPORTED, SW_MEMORY_FULL, SW_OK, SW_SECURITY_NOT_SATISFIED,
    SW_STORED_UNKNOWN_DISCARDED, SW_WRONG_DATA, SW_WRONG_LENGTH, SW_WRONG_P1P2, ClassByte, Command,
    Response, status,
)
from .context import CardContext
from .tlv import Tlv, TlvError, encode_tlv, parse_one, parse_tlvs

CHUNK = 255
REF_DO_TAGS = (0x4F, 0xC0, 0xC1, 0xCA)
AR_DO_TAGS = (0xD0, 0xD1, 0xDB)
COMMAND_TAGS_NOT_SUPPORTED = (0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8)  # SEAC ARA-C commands


class Refused(Exception):
    """A command the ARA-M refuses; `sw` is its answer."""

    def __init__(self, sw: int) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


def _children(tlv: Tlv) -> list[Tlv]:
    try:
        return parse_tlvs(tlv.value)
    except TlvError:
        raise Refused(SW_WRONG_DATA) from None


def ref_do_key(ref_do: Tlv) -> frozenset[tuple[int, bytes]]:
    """A REF-DO's identity (order of its parts does not matter). Raises Refused(6A80) if invalid."""
    if ref_do.tag != 0xE1:
        raise Refused(SW_WRONG_DATA)
    parts: dict[int, bytes] = {}
    for child in _children(ref_do):
        if child.tag not in REF_DO_TAGS or child.tag in parts:
            raise Refused(SW_WRONG_DATA)
        parts[child.tag] = child.value
    aid, implicit, hash_, pkg = (parts.get(t) for t in REF_DO_TAGS)
    if aid is not None and not (len(aid) == 0 or 5 <= len(aid) <= 16):
        raise Refused(SW_WRONG_DATA)
    if implicit is not None and (implicit or aid is not None):
        raise Refused(SW_WRONG_DATA)
    if hash_ is None or len(hash_) not in (0, 20, 32):
        raise Refused(SW_WRONG_DATA)
    if pkg is not None and not (1 <= len(pkg) <= 127 and all(0x20 < b < 0x7F for b in pkg)):
        raise Refused(SW_WRONG_DATA)
    return frozenset(parts.items())


def _check_ar_do(ar_do: Tlv, refuse_db: bool) -> tuple[list[Tlv], bool]:
    """The AR-DO's known parts and whether unknown ones were dropped. Raises Refused(6A80)."""
    if ar_do.tag != 0xE3:
        raise Refused(SW_WRONG_DATA)
    kept: list[Tlv] = []
    dropped = False
    for child in _children(ar_do):
        if child.tag not in AR_DO_TAGS:
            dropped = True
            continue
        if any(k.tag == child.tag for k in kept):
            raise Refused(SW_WRONG_DATA)
        v = child.value
        ok = {
            0xD0: (len(v) == 1 and v[0] in (0, 1)) or (len(v) > 0 and len(v) % 8 == 0),
            0xD1: len(v) == 1 and v[0] in (0, 1),
            0xDB: len(v) == 8,
        }[child.tag]
        if not ok or (child.tag == 0xDB and refuse_db):
            raise Refused(SW_WRONG_DATA)
        kept.append(child)
    if not kept:
        raise Refused(SW_WRONG_DATA)
    return kept, dropped


def normalise_rule(ref_ar_do: Tlv, refuse_db: bool = False) -> tuple[bytes, frozenset, bool]:
    """(stored REF-AR-DO bytes, REF-DO key, unknown parts dropped). Raises Refused(6A80)."""
    if ref_ar_do.tag != 0xE2:
        raise Refused(SW_WRONG_DATA)
    parts = _children(ref_ar_do)
    if [p.tag for p in parts] != [0xE1, 0xE3]:
        raise Refused(SW_WRONG_DATA)
    key = ref_do_key(parts[0])
    kept, dropped = _check_ar_do(parts[1], refuse_db)
    ref_do = encode_tlv(0xE1, b"".join(c.encode() for c in _children(parts[0])))
    ar_do = encode_tlv(0xE3, b"".join(k.encode() for k in kept))
    return encode_tlv(0xE2, ref_do + ar_do), key, dropped


def _stored_key(rule: bytes) -> frozenset:
    return ref_do_key(parse_tlvs(parse_one(rule).value)[0])


class SpecAram:
    """One selection of the spec ARA-M on one logical channel (holds its GET DATA continuation)."""

    name = "ara-m"
    empty_answer_6a88 = True  # the ARA-M follows ``CardContext.empty_6a88``

    def __init__(self, ctx: CardContext) -> None:
        self.ctx = ctx
        self.pending = b""

    def stored(self) -> list[bytes]:
        """The REF-AR-DOs this application answers GET DATA with (the ARA-M's own)."""
        return self.ctx.memory.rules

    def select_data(self, aid: bytes) -> bytes:
        return encode_tlv(0x6F, encode_tlv(0x84, aid)) if self.ctx.profile.select_fci else b""

    def snapshot(self) -> object:
        return self.pending

    def restore(self, snap: object) -> None:
        self.pending = snap  # type: ignore[assignment]

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if not cla.proprietary:
            return status(SW_CLA_NOT_SUPPORTED)
        try:
            if cmd.ins == INS_GET_DATA:
                return self._get_data(cmd)
            if cmd.ins == INS_STORE_DATA:
                return self._store_data(cmd)
        except Refused as refused:
            return status(refused.sw)
        return status(SW_INS_NOT_SUPPORTED)

    # GET DATA ---------------------------------------------------------------------------
    def _get_data(self, cmd: Command) -> Response:
        tag = (cmd.p1 << 8) | cmd.p2
        memory = self.ctx.memory
        if tag == 0xFF40:
            if not self.stored() and self.ctx.empty_6a88 and self.empty_answer_6a88:
                self.pending = b""
                return status(SW_DATA_NOT_FOUND)
            answer = encode_tlv(0xFF40, b"".join(self.stored()))
            self.pending = answer[CHUNK:]
            return Response(answer[:CHUNK])
        if tag == 0xFF60:
            if not self.pending:
                return status(SW_DATA_NOT_FOUND)
            piece, self.pending = self.pending[:CHUNK], self.pending[CHUNK:]
            return Response(piece)
        if tag == 0xFF50:
            return self._get_specific(cmd.data)
        if tag == 0xDF20:
            return Response(encode_tlv(0xDF20, memory.refresh_tag))
        if tag == 0xDF21:
            if cmd.data:
                self._check_device_config(cmd.data)
            return Response(encode_tlv(0xDF21, encode_tlv(0xE5, encode_tlv(0xE6, b"\x01\x01\x00"))))
        return status(SW_DATA_NOT_FOUND)

    def _get_specific(self, data: bytes) -> Response:
        try:
            key = ref_do_key(parse_one(data))
        except TlvError:
            raise Refused(SW_WRONG_DATA) from None
        for rule in self.stored():
            if _stored_key(rule) == key:
                return Response(encode_tlv(0xFF50, parse_tlvs(parse_one(rule).value)[1].encode()))
        return status(SW_DATA_NOT_FOUND)

    @staticmethod
    def _check_device_config(data: bytes) -> None:
        try:
            config = parse_one(data)
            parts = parse_tlvs(config.value) if config.tag == 0xE4 else []
        except TlvError:
            raise Refused(SW_WRONG_DATA) from None
        if not parts or any(p.tag != 0xE6 or len(p.value) != 3 for p in parts):
            raise Refused(SW_WRONG_DATA)

    # STORE DATA -------------------------------------------------------------------------
    def _store_data(self, cmd: Command) -> Response:
        if self.ctx.profile.needs_adm and not self.ctx.adm_verified:
            return status(SW_SECURITY_NOT_SATISFIED)
        if (cmd.p1, cmd.p2) != (0x90, 0x00):
            return status(SW_WRONG_P1P2)
        if not cmd.data:
            return status(SW_WRONG_LENGTH)
        try:
            command = parse_one(cmd.data)
        except TlvError:
            return status(SW_WRONG_DATA)
        if command.tag == 0xF0:
            return self._store(command)
        if command.tag == 0xF1:
            return self._delete(command)
        if command.tag == 0xF2:
            if command.value:
                return status(SW_WRONG_DATA)
            self.ctx.new_refresh_tag()
            return status(SW_OK)
        if command.tag in COMMAND_TAGS_NOT_SUPPORTED:
            return status(SW_DO_NOT_SUPPORTED)
        return status(SW_WRONG_DATA)

    def _store(self, command: Tlv) -> Response:
        memory = self.ctx.memory
        new = [normalise_rule(t, self.ctx.profile.refuse_db) for t in _children(command)]
        if not new:
            return status(SW_WRONG_DATA)
        keys = {_stored_key(rule) for rule in memory.rules}
        for _, key, _ in new:
            if key in keys:
                return status(SW_CONFLICT)
            keys.add(key)
        size = sum(map(len, memory.rules)) + sum(len(rule) for rule, _, _ in new)
        if size > self.ctx.capacity:
            return status(SW_MEMORY_FULL)
        memory.rules.extend(rule for rule, _, _ in new)
        self.ctx.new_refresh_tag()
        dropped = any(d for _, _, d in new)
        return status(SW_STORED_UNKNOWN_DISCARDED if dropped else SW_OK)

    def _delete(self, command: Tlv) -> Response:
        memory = self.ctx.memory
        if not command.value:
            memory.rules.clear()
            self.ctx.new_refresh_tag()
            return status(SW_OK)
        items = _children(command)
        if len(items) != 1:
            return status(SW_WRONG_DATA)
        target = items[0]
        if target.tag in (0x4F, 0xC0):
            def matches(rule: bytes) -> bool:
                return (target.tag, target.value) in _stored_key(rule)
        elif target.tag == 0xE1:
            key = ref_do_key(target)

            def matches(rule: bytes) -> bool:
                return _stored_key(rule) == key
        elif target.tag == 0xE2:
            wanted, _, _ = normalise_rule(target)

            def matches(rule: bytes) -> bool:
                return _same_rule(rule, wanted)
        else:
            return status(SW_WRONG_DATA)
        kept = [rule for rule in memory.rules if not matches(rule)]
        if len(kept) == len(memory.rules):
            return status(SW_DATA_NOT_FOUND)
        memory.rules[:] = kept
        self.ctx.new_refresh_tag()
        return status(SW_OK)


def _same_rule(a: bytes, b: bytes) -> bool:
    """Equal REF-DO (in any order) and equal AR-DO parts (in any order)."""
    ea, eb = parse_tlvs(parse_one(a).value), parse_tlvs(parse_one(b).value)
    return ref_do_key(ea[0]) == ref_do_key(eb[0]) and (
        set(map(tuple, ((t.tag, t.value) for t in parse_tlvs(ea[1].value))))
        == set(map(tuple, ((t.tag, t.value) for t in parse_tlvs(eb[1].value))))
    )
