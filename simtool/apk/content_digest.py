"""One sequential pass over the APK that feeds every hasher the full verification needs.

* v2/v3 content digests: the file minus the signing block is cut into three sections
  (entries ``[0, signing_block)``, central directory, EOCD with its CD offset replaced by the
  signing block's offset); each section into 1 MiB chunks hashed as ``H(0xa5 | u32 len | chunk)``,
  and the top digest is ``H(0x5a | u32 count | chunk digests...)``.
* verity (``VERITY_CHUNKED_SHA256``): SHA-256 Merkle tree over 4 KiB pages of the same bytes;
  the digest is the root hash followed by the u64 length hashed.
* v1: each entry's data is inflated as it streams by and hashed for MANIFEST.MF's digests.

The file is read once, 1 MiB at a time; chunk hashing runs on a small thread pool (hashlib and
zlib release the GIL), with at most ``IN_FLIGHT`` chunks queued, so memory stays flat whatever
the APK's size (only the 32-byte chunk/page digests accumulate).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import struct
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .algorithms import CHUNKED_SHA256, CHUNKED_SHA512, VERITY_CHUNKED_SHA256
from .bytereader import FileSource
from .errors import ApkError
from .zipfile_index import EntryInflater, ZipEntry, ZipSections, entry_data_offset

CHUNK = 1 << 20
PAGE = 4096
IN_FLIGHT = 4
_CHUNKED = {CHUNKED_SHA256: "sha256", CHUNKED_SHA512: "sha512"}


@dataclass(frozen=True)
class EntryCheck:
    """A ZIP entry whose uncompressed content must hash to ``expected`` ((algo, digest) pairs)."""

    entry: ZipEntry
    expected: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class PassResult:
    """Computed content digests by algorithm name, and v1 entries whose digest did not match."""

    digests: dict[str, bytes]
    entry_mismatches: tuple[str, ...]
    file_root: bytes | None = None  # Merkle root of the whole file (v4), when asked for


def _chunk_digests(hash_names: tuple[str, ...], data: bytes) -> list[bytes]:
    """One chunk's ``H(0xa5 | u32 len | chunk)`` for each hash name."""
    prefix = b"\xa5" + struct.pack("<I", len(data))
    out = []
    for name in hash_names:
        h = hashlib.new(name, prefix)
        h.update(data)
        out.append(h.digest())
    return out


VERITY_SALT = b"\0" * 8  # apksig hashes every v2/v3 verity page with an 8-byte zero salt


def _page_digests(data: bytes, salt: bytes = VERITY_SALT) -> bytes:
    return b"".join(hashlib.sha256(salt + data[i : i + PAGE]).digest()
                    for i in range(0, len(data), PAGE))


class _Verity:
    """Builds a SHA-256 Merkle root over 4 KiB pages incrementally (``salt`` before each page).

    Used for the v2/v3 ``VERITY_CHUNKED_SHA256`` digest and for the v4 root hash of the whole
    file. Each level keeps only its unfinished page of 32-byte hashes: a full page is hashed
    into the level above at once, so memory stays a few pages per level whatever the file's size.
    """

    def __init__(self, salt: bytes = VERITY_SALT) -> None:
        self.salt = salt
        self.total = 0
        self.carry = b""
        self.levels: list[bytearray] = [bytearray()]  # unfinished page of each level
        self.sizes: list[int] = [0]  # bytes of hashes each level has received in all

    def pages_of(self, data: bytes) -> tuple[bytes, bytes]:
        """Split ``carry + data`` into whole pages and a remainder (kept for the next call)."""
        self.total += len(data)
        buf = self.carry + data
        cut = len(buf) - len(buf) % PAGE
        self.carry = buf[cut:]
        return buf[:cut], self.carry

    def add(self, hashes: bytes, level: int = 0) -> None:
        """Append page hashes (in file order) to ``level``, hashing each page of them that
        fills up into the level above."""
        if level == len(self.levels):
            self.levels.append(bytearray())
            self.sizes.append(0)
        buf = self.levels[level]
        self.sizes[level] += len(hashes)
        buf += hashes
        if len(buf) >= PAGE:
            cut = len(buf) - len(buf) % PAGE
            full = bytes(buf[:cut])
            del buf[:cut]
            self.add(_page_digests(full, self.salt), level + 1)

    def root(self) -> bytes:
        """The 32-byte root hash (call once, after the last data): the first level whose hashes
        fit in one page, zero-padded to a page, hashed."""
        if self.carry:
            self.add(_page_digests(self.carry + b"\0" * (PAGE - len(self.carry)), self.salt))
            self.carry = b""
        if not self.sizes[0]:
            self.add(_page_digests(b"\0" * PAGE, self.salt))
        level = 0
        while self.sizes[level] > PAGE:
            buf = self.levels[level]
            if buf:  # the level's last, partial page, zero-padded
                self.add(_page_digests(bytes(buf) + b"\0" * (PAGE - len(buf)), self.salt),
                         level + 1)
                buf.clear()
            level += 1
        if self.sizes[level] == PAGE:  # exactly one full page: already hashed into the next
            return bytes(self.levels[level + 1])
        buf = self.levels[level]
        return _page_digests(bytes(buf) + b"\0" * (PAGE - len(buf)), self.salt)


class _EntryFeeder:
    """Feeds each checked entry's slice of the stream through its inflater and hashers."""

    def __init__(self, src: FileSource, checks: Iterable[EntryCheck], limit: int) -> None:
        self.path = src.path
        spans = []
        for check in checks:
            start = entry_data_offset(src, check.entry)
            end = start + check.entry.compressed_size
            if end > limit:
                raise ApkError(src.path, f"entry {check.entry.name!r} data overlaps the APK "
                               "Signing Block", start)
            spans.append((start, end, check))
        spans.sort(key=lambda s: s[0])
        self.pending = deque(spans)
        # Merged [start, stop) data ranges, fixed up front: the reading thread asks ``wanted``
        # while the inflating thread moves entries from ``pending`` to ``active``.
        self.ranges: list[tuple[int, int]] = []
        for start, stop, _ in spans:
            if self.ranges and start <= self.ranges[-1][1]:
                self.ranges[-1] = (self.ranges[-1][0], max(stop, self.ranges[-1][1]))
            else:
                self.ranges.append((start, stop))
        self._starts = [r[0] for r in self.ranges]
        self.active: list[tuple[int, int, EntryCheck, EntryInflater, list]] = []
        self.mismatches: list[tuple[int, str]] = []  # (entry offset, message)

    def wanted(self, offset: int, length: int) -> bool:
        """Whether any checked entry's data overlaps ``[offset, offset + length)`` (an empty
        entry counts when it sits in that range)."""
        i = bisect.bisect_right(self._starts, offset + length - 1) - 1
        return i >= 0 and self.ranges[i][1] >= offset

    def feed(self, offset: int, data: bytes) -> None:
        """Feed the stream bytes at ``offset`` to every checked entry they overlap (in order)."""
        end = offset + len(data)
        while self.pending and self.pending[0][0] < end:
            start, stop, check = self.pending.popleft()
            hashers = [hashlib.new(algo) for algo, _ in check.expected]
            self.active.append((start, stop, check, EntryInflater(self.path, check.entry), hashers))
        still = []
        for item in self.active:
            start, stop, check, inflater, hashers = item
            a, b = max(start, offset), min(stop, end)
            if a < b:
                for out in inflater.feed(data[a - offset : b - offset]):
                    for h in hashers:
                        h.update(out)
            if stop <= end:
                self._finish(check, inflater, hashers)
            else:
                still.append(item)
        self.active = still

    def _finish(self, check: EntryCheck, inflater: EntryInflater, hashers: list) -> None:
        """Check one entry's size and digests once its last byte has been fed."""
        inflater.finish()
        for (algo, expected), h in zip(check.expected, hashers, strict=True):
            if h.digest() != expected:
                self.mismatches.append((check.entry.local_header_offset,
                                        f"{algo.upper()} digest of {check.entry.name} does not "
                                        "match the digest specified in META-INF/MANIFEST.MF"))
                return

    def close(self) -> None:
        """Finish entries still open at the end of the stream (empty ones included)."""
        for _, _, check, inflater, hashers in self.active:
            self._finish(check, inflater, hashers)
        for _, _, check in self.pending:  # empty entries past the last chunk
            self._finish(check, EntryInflater(self.path, check.entry),
                         [hashlib.new(a) for a, _ in check.expected])


def stream_pass(src: FileSource, zs: ZipSections, signing_block_offset: int,
                algorithms: set[str], entry_checks: Iterable[EntryCheck] = (),
                progress: Callable[[int], None] | None = None,
                file_tree_salt: bytes | None = None) -> PassResult:
    """Read the file once and return the requested content digests and v1 mismatches; with
    ``file_tree_salt`` also the Merkle root of the whole file as stored (v4)."""
    hash_names = tuple(_CHUNKED[a] for a in (CHUNKED_SHA256, CHUNKED_SHA512) if a in algorithms)
    verity = _Verity() if VERITY_CHUNKED_SHA256 in algorithms else None
    if verity is not None and signing_block_offset % PAGE:
        raise ApkError(src.path, "APK Signing Block is not 4 KiB-aligned as verity requires",
                       signing_block_offset)
    # v1 entries are spread over ``lanes`` single-thread executors (entry i -> lane i % lanes):
    # each lane inflates and hashes its entries in stream order, lanes run side by side.
    lanes = max(1, min(2, os.cpu_count() or 1))
    ordered = sorted(entry_checks, key=lambda c: c.entry.local_header_offset)
    feeders = [_EntryFeeder(src, ordered[i::lanes], signing_block_offset) for i in range(lanes)]
    eocd = bytearray(zs.eocd)
    eocd[16:20] = struct.pack("<I", signing_block_offset)
    file_tree = _Verity(file_tree_salt) if file_tree_salt is not None else None
    # (start, stop, part of the v2/v3 content?) in file order; the signing block itself and the
    # stored EOCD only feed the whole-file tree.
    sections = [(0, signing_block_offset, True), (signing_block_offset, zs.cd_offset, False),
                (zs.cd_offset, zs.eocd_offset, True), (zs.eocd_offset, src.size, False)]
    chunk_digests: list[list[bytes]] = [[] for _ in hash_names]
    workers = min(4, max(2, os.cpu_count() or 2))
    # Chunk digests go to a pool; v1 entries are inflated and hashed in order on one more thread,
    # so reading, hashing and inflating overlap (hashlib and zlib release the GIL).
    lane_pools = [ThreadPoolExecutor(1) for _ in feeders]
    with ThreadPoolExecutor(workers) as pool:
        queue: deque[list[Future | None]] = deque()

        def drain(keep: int) -> None:
            """Collect finished jobs in submission order until at most ``keep`` are in flight."""
            while len(queue) > keep:
                fut, vfut, tfut, *ffuts = queue.popleft()
                if fut is not None:
                    for i, d in enumerate(fut.result()):
                        chunk_digests[i].append(d)
                if vfut is not None and verity is not None:
                    verity.add(vfut.result())
                for ffut in ffuts:
                    if ffut is not None:
                        ffut.result()  # re-raises an ApkError from the inflater
                if tfut is not None and file_tree is not None:
                    file_tree.add(tfut.result())

        def submit(data: bytes, content: bool, whole: bool, entries_at: int | None = None) -> None:
            """Queue the hashing jobs for one chunk (content digests, verity, v1 entries, v4 tree)."""
            jobs: list[Future | None] = [None, None, None]
            if content:
                jobs[0] = pool.submit(_chunk_digests, hash_names, data)
                if verity is not None:
                    jobs[1] = pool.submit(_page_digests, verity.pages_of(data)[0])
            if whole and file_tree is not None:
                jobs[2] = pool.submit(_page_digests, file_tree.pages_of(data)[0], file_tree.salt)
            if entries_at is not None:
                jobs += [lane.submit(feeder.feed, entries_at, data)
                         for lane, feeder in zip(lane_pools, feeders, strict=True)
                         if feeder.wanted(entries_at, len(data))]
            queue.append(jobs)
            drain(IN_FLIGHT)

        try:
            for start, stop, content in sections:
                if not content and file_tree is None:
                    continue
                pos = start
                while pos < stop:
                    n = min(CHUNK, stop - pos)
                    data = src.read_at(pos, n, "APK contents")
                    submit(data, content, True, pos if start == 0 else None)
                    pos += n
                    if progress is not None:
                        progress(n)
            submit(bytes(eocd), True, False)
            drain(0)
        finally:
            for lane in lane_pools:
                lane.shutdown(wait=True, cancel_futures=True)
    for feeder in feeders:
        feeder.close()
    mismatches = sorted(m for feeder in feeders for m in feeder.mismatches)
    digests: dict[str, bytes] = {}
    for i, name in enumerate(hash_names):
        algo = CHUNKED_SHA256 if name == "sha256" else CHUNKED_SHA512
        top = hashlib.new(name, b"\x5a" + struct.pack("<I", len(chunk_digests[i])))
        for d in chunk_digests[i]:
            top.update(d)
        digests[algo] = top.digest()
    if verity is not None:
        digests[VERITY_CHUNKED_SHA256] = verity.root() + struct.pack("<Q", verity.total)
    return PassResult(digests, tuple(text for _, text in mismatches),
                      file_tree.root() if file_tree is not None else None)
