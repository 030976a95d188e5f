"""ARA-M as bertrandmartel's aram-applet (and sysmocom's fork) behaves, bug for bug.

Modelled from reading its source (AccessRuleMaster.java, AramUtils.java, RuleEntry.java; MIT)
and from what was observed in a Java Card simulator (REFERENCE §2). Not copied: the Java's
fixed-offset parsing is re-expressed here so that the same inputs get the same answers:

- a rule is (AID, hash, AR-DO body); STORE accepts only `F0 E2 E1 {4F C1} E3` with one-byte
  lengths read as *signed* Java bytes, each checked against a maximum (AID 16, hash 20 or 32 in
  the fork, AR-DO 162); anything else is 6984 (Java Card's SW_DATA_INVALID). So `CA`, `C0`, a
  missing AID or a 2-byte BER length (F0 payload of 128 B or more) are refused with 6984;
  duplicates are stored again; new rules go first (GET DATA answers newest first);
- a negative length that the Java would use to copy raises an exception there: 6F00 here;
- GET DATA `FF40` announces length L and cuts the answer in 255-byte windows. L ≥ 255: the first
  answer is the 5-byte header + 250 bytes, and GET NEXT counts ceil(L/255) answers in all, so
  L = 255 gives 250 bytes, then 6A88; otherwise floor((L-1)/255) pieces of 255 and the rest in
  one: a rest of 256 (L mod 255 = 251) has a stale last byte, 257/258 (252, 253) arrive oversize
  with the bytes past 255 stale, and 259/260 (254, 0) overflow the APDU buffer: 6F00 (REFERENCE
  §2, observed in a Java Card simulator). 128 ≤ L < 255: one answer of L+4 bytes of which
  content bytes from index 252 on are stale (L=253: 257 bytes, last wrong).
  A stale byte is modelled as the right byte XOR FF, so it is always wrong;
- DF20 is all zeros until an `F2`; stores and deletes leave it alone; DF21 → 6A86;
- CLA must be 80–83 (else 6E00); INS other than CA/E2 → 6D00.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .apdu import (
    INS_GET_DATA, INS_STORE_DATA, SW_CLA_NOT_SUPPORTED, SW_DATA_INVALID, SW_DATA_NOT_FOUND,
    SW_INS_NOT_SUPPORTED, SW_OK, SW_UNKNOWN, SW_WRONG_P1P2, ClassByte, Command, Response, status,
)
from .context import CardContext

SIZE_AID = 16
SIZE_RULE = 162
CHUNK = 255
BUFFER_REST = 258  # longest FF60 rest observed to come back (257/258: oversize, stale tail)


class JavaFault(Exception):
    """An uncaught Java exception in the applet (the runtime answers 6F00) or an ISOException."""

    def __init__(self, sw: int = SW_UNKNOWN) -> None:
        super().__init__(f"{sw:04X}")
        self.sw = sw


def jbyte(n: int) -> int:
    """The value as a signed Java byte."""
    n &= 0xFF
    return n - 0x100 if n & 0x80 else n


def jshort(n: int) -> int:
    n &= 0xFFFF
    return n - 0x10000 if n & 0x8000 else n


@dataclass(frozen=True)
class Entry:
    """One stored rule of the applet."""

    aid: bytes
    hash: bytes
    rule: bytes

    def encode(self) -> bytes:
        """The REF-AR-DO the applet builds for it, with its one-byte (possibly ≥ 0x80) lengths."""
        ref = bytes([0x4F, len(self.aid)]) + self.aid + bytes([0xC1, len(self.hash)]) + self.hash
        ref_do = bytes([0xE1, len(ref) & 0xFF]) + ref
        ar_do = bytes([0xE3, len(self.rule) & 0xFF]) + self.rule
        return bytes([0xE2, (len(ref_do) + len(ar_do)) & 0xFF]) + ref_do + ar_do

    def java_length(self) -> int:
        """What buildRefArDo returns for it: a signed byte that wraps past 127."""
        ref_do = jbyte(jbyte(len(self.aid) + 2) + jbyte(len(self.hash) + 2) + 2)
        return jbyte(ref_do + jbyte(len(self.rule) + 2) + 2)


def decode_entry(raw: bytes) -> Entry:
    """Read back an entry written by Entry.encode. Raises ValueError for any other layout."""
    try:
        if raw[0] != 0xE2 or raw[2] != 0xE1 or raw[4] != 0x4F:
            raise ValueError
        aid_len = raw[5]
        aid = raw[6 : 6 + aid_len]
        pos = 6 + aid_len
        if raw[pos] != 0xC1:
            raise ValueError
        hash_ = raw[pos + 2 : pos + 2 + raw[pos + 1]]
        pos += 2 + raw[pos + 1]
        if raw[pos] != 0xE3:
            raise ValueError
        rule = raw[pos + 2 : pos + 2 + raw[pos + 1]]
        entry = Entry(aid, hash_, rule)
    except (IndexError, ValueError):
        raise ValueError(f"not a rule the aram-applet can hold: {raw.hex().upper()}") from None
    if entry.encode() != raw or len(aid) > SIZE_AID or len(rule) > 127:
        raise ValueError(f"not a rule the aram-applet can hold: {raw.hex().upper()}")
    return entry


class _Buffer:
    """The APDU buffer's command data as the Java reads it: bytes past Lc are stale (0 here)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __getitem__(self, i: int) -> int:
        if i < 0:
            raise JavaFault()
        return self.data[i] if i < len(self.data) else 0

    def copy(self, ofs: int, length: int) -> bytes:
        if length < 0 or ofs < 0:
            raise JavaFault()
        return bytes(self[ofs + k] for k in range(length))

    def check_tlv(self, ofs: int, tag: int, max_len: int) -> int:
        """checkTLV: tag must match and the signed length must not exceed max_len → 6984."""
        if self[ofs] != tag:
            raise JavaFault(SW_DATA_INVALID)
        length = jbyte(self[ofs + 1])
        if length > max_len:
            raise JavaFault(SW_DATA_INVALID)
        return ofs + 2 + length


class AppletAram:
    """The applet: one instance for the whole card (its GET NEXT fields are applet fields)."""

    name = "ara-m"

    def __init__(self, ctx: CardContext) -> None:
        self.ctx = ctx
        self.size_hash = ctx.profile.max_hash
        self.data_offset = 0
        self.next_length = 0
        self.current_next = 0

    def select_data(self, aid: bytes) -> bytes:
        return b""

    def snapshot(self) -> object:
        return (self.data_offset, self.next_length, self.current_next)

    def restore(self, snap: object) -> None:
        self.data_offset, self.next_length, self.current_next = snap  # type: ignore[misc]

    def entries(self) -> list[Entry]:
        return [decode_entry(raw) for raw in self.ctx.memory.rules]

    def process(self, cmd: Command, cla: ClassByte) -> Response:
        if cmd.cla & 0xFC != 0x80:
            return status(SW_CLA_NOT_SUPPORTED)
        try:
            if cmd.ins == INS_STORE_DATA:
                return self._store_data(cmd)
            if cmd.ins == INS_GET_DATA:
                return self._get_data(cmd)
        except JavaFault as fault:
            return status(fault.sw)
        return status(SW_INS_NOT_SUPPORTED)

    # GET DATA ---------------------------------------------------------------------------
    def _get_data(self, cmd: Command) -> Response:
        p1p2 = (cmd.p1, cmd.p2)
        if p1p2 == (0xFF, 0x40):
            return self._get_all()
        if p1p2 == (0xFF, 0x50):
            return self._get_specific(_Buffer(cmd.data))
        if p1p2 == (0xDF, 0x20):
            return Response(bytes([0xDF, 0x20, 8]) + self.ctx.memory.refresh_tag)
        if p1p2 == (0xFF, 0x60):
            return self._get_next()
        return status(SW_WRONG_P1P2)

    def _stream(self) -> tuple[bytes, int]:
        """All entries back to back, and the length L the Java computes for them."""
        entries = self.entries()
        return b"".join(e.encode() for e in entries), jshort(sum(e.java_length() for e in entries))

    @staticmethod
    def _window(stream: bytes, start: int, count: int, written: int) -> bytes:
        """`count` bytes from stream position `start`; only the first `written` are right."""
        out = bytearray()
        for k in range(count):
            pos = start + k
            right = stream[pos] if 0 <= pos < len(stream) else 0
            out.append(right if k < written and 0 <= pos < len(stream) else right ^ 0xFF)
        return bytes(out)

    def _get_all(self) -> Response:
        if not self.ctx.memory.rules:
            return Response(b"\xFF\x40\x00")
        stream, length = self._stream()
        self.data_offset = 0
        self.current_next = 1
        self.next_length = length
        if length < 0:
            raise JavaFault()  # setOutgoingAndSend with a negative length
        if length < 0x80:
            self.data_offset = -3
            return Response(bytes([0xFF, 0x40, length]) + self._window(stream, 0, length, 252))
        if length < 0xFF:
            self.data_offset = -4
            head = bytes([0xFF, 0x40, 0x81, length])
            return Response(head + self._window(stream, 0, length, 252))
        if length < 0x7FFF:
            self.data_offset = -5
            head = bytes([0xFF, 0x40, 0x82, length >> 8, length & 0xFF])
            return Response(head + self._window(stream, 0, CHUNK - 5, 252))
        raise JavaFault(SW_DATA_INVALID)

    def _get_next(self) -> Response:
        total = self.next_length // CHUNK + (1 if self.next_length % CHUNK else 0)
        if self.current_next >= total:
            return status(SW_DATA_NOT_FOUND)
        stream, _ = self._stream()
        self.data_offset += CHUNK
        diff = self.next_length - self.current_next * CHUNK
        if diff > CHUNK:
            count = CHUNK
        else:
            java_rem = abs(self.data_offset) % CHUNK * (1 if self.data_offset >= 0 else -1)
            count = diff + (CHUNK - java_rem)
        self.current_next += 1
        if count > BUFFER_REST:
            raise JavaFault()  # a 259/260-byte rest overflows the APDU buffer: 6F00
        return Response(self._window(stream, self.data_offset, count, CHUNK))

    def _get_specific(self, buf: _Buffer) -> Response:
        hash_max = self.size_hash
        buf.check_tlv(1, 0xE1, 4 + SIZE_AID + hash_max)
        hash_ofs = buf.check_tlv(3, 0x4F, SIZE_AID)
        buf.check_tlv(hash_ofs, 0xC1, hash_max)
        aid = buf.copy(5, jbyte(buf[4]))
        hash_ = buf.copy(hash_ofs + 2, jbyte(buf[hash_ofs + 1]))
        for entry in self.entries():
            if entry.aid == aid and entry.hash == hash_:
                body = entry.encode()
                return Response(bytes([0xFF, 0x50, len(body) & 0xFF]) + body)
        return status(SW_DATA_NOT_FOUND)

    # STORE DATA -------------------------------------------------------------------------
    def _store_data(self, cmd: Command) -> Response:
        if (cmd.p1, cmd.p2) != (0x90, 0x00):
            return status(SW_WRONG_P1P2)
        buf = _Buffer(cmd.data)
        if buf[0] == 0xF0:
            self._store(buf)
        elif buf[0] == 0xF1:
            self._delete(buf)
        elif buf[0] == 0xF2:
            self.ctx.new_refresh_tag()
        elif buf[0] == 0xA1 and self.ctx.profile.lockable:  # sysmocom's aram_lock (pySim ara_m.py)
            self.ctx.memory.aram_locked = True
        else:
            return status(SW_DATA_INVALID)
        return status(SW_OK)

    def _parse_ref_do(self, buf: _Buffer, at: int) -> tuple[bytes, bytes, int]:
        """AID and hash of `E1 {4F C1}` at `at`, and the offset after the C1."""
        buf.check_tlv(at, 0xE1, 4 + SIZE_AID + self.size_hash)
        hash_ofs = buf.check_tlv(at + 2, 0x4F, SIZE_AID)
        end = buf.check_tlv(hash_ofs, 0xC1, self.size_hash)
        aid = buf.copy(at + 4, jbyte(buf[at + 3]))
        hash_ = buf.copy(hash_ofs + 2, jbyte(buf[hash_ofs + 1]))
        return aid, hash_, end

    def _store(self, buf: _Buffer) -> None:
        h = self.size_hash
        buf.check_tlv(0, 0xF0, 8 + SIZE_AID + h + SIZE_RULE)
        buf.check_tlv(2, 0xE2, 6 + SIZE_AID + h + SIZE_RULE)
        aid, hash_, ar_ofs = self._parse_ref_do(buf, 4)
        buf.check_tlv(ar_ofs, 0xE3, SIZE_RULE)
        entry = Entry(aid, hash_, buf.copy(ar_ofs + 2, jbyte(buf[ar_ofs + 1])))
        memory = self.ctx.memory
        if sum(map(len, memory.rules)) + len(entry.encode()) > self.ctx.capacity:
            raise JavaFault()  # new RuleEntry() fails: SystemException NO_RESOURCE
        memory.rules.insert(0, entry.encode())

    def _delete(self, buf: _Buffer) -> None:
        h = self.size_hash
        buf.check_tlv(0, 0xF1, 6 + SIZE_AID + h + SIZE_RULE)
        memory = self.ctx.memory
        if buf[1] == 0:
            memory.rules.clear()
            return
        if buf[2] == 0x4F:
            buf.check_tlv(2, 0x4F, SIZE_AID)
            aid = buf.copy(4, jbyte(buf[3]))
            self._remove(lambda e: e.aid == aid)
        elif buf[2] == 0xE1:
            aid, hash_, _ = self._parse_ref_do(buf, 2)
            self._remove(lambda e: (e.aid, e.hash) == (aid, hash_))
        elif buf[2] == 0xE2:
            buf.check_tlv(2, 0xE2, 6 + SIZE_AID + h + SIZE_RULE)
            aid, hash_, ar_ofs = self._parse_ref_do(buf, 4)
            buf.check_tlv(ar_ofs, 0xE3, SIZE_RULE)
            if jbyte(buf[ar_ofs + 1]) > 2:
                rule = buf.copy(ar_ofs + 2, jbyte(buf[ar_ofs + 1]))
                self._remove(lambda e: (e.aid, e.hash, e.rule) == (aid, hash_, rule))
            else:
                self._remove(lambda e: (e.aid, e.hash) == (aid, hash_))

    def _remove(self, matches: Callable[[Entry], bool]) -> None:
        entries = self.entries()
        if not any(matches(e) for e in entries):
            raise JavaFault(SW_DATA_NOT_FOUND)
        self.ctx.memory.rules[:] = [e.encode() for e in entries if not matches(e)]
