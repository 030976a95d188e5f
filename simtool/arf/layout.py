"""Where new entries go in a file as the card created it (pure: bytes in, bytes out).

- Transparent EF: the objects back to back from byte 0, padded with FF to the file's size
  (``files.fill``; ArfFileFullError when they do not fit).
- Linear fixed EF: one object per record, in place. A record whose objects all stay is left
  as it is; a record losing objects is rewritten with the ones it keeps (all FF when none);
  each new object goes into the next free (all FF) record, in record order. Nothing moves
  between records, so a delete rewrites one record and an add one record.
  ArfRecordTooSmallError when an object is longer than a record; ArfNoFreeRecordError when
  there are fewer free records than new objects. The record count never changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .errors import ArfNoFreeRecordError, ArfRecordTooSmallError
from .files import content_objects, fill
from .reader import EfData


def new_content(ef: EfData, objects: Sequence[bytes], file: str) -> bytes:
    """The file's new bytes (same length as ``ef.data``) holding exactly ``objects``."""
    if not ef.structured:
        return fill(b"".join(objects), ef.size, file)
    return place_records(ef.records, ef.record_size, objects, file)


def place_records(records: Sequence[bytes], size: int, objects: Sequence[bytes], file: str) -> bytes:
    """``objects`` (encoded DER, one per record) placed in ``records`` as the module says."""
    for obj in objects:
        if len(obj) > size:
            raise ArfRecordTooSmallError(file, len(obj), size)
    wanted = Counter(objects)
    out: list[bytes] = []
    free: list[int] = []
    for index, record in enumerate(records):
        held = [t.encode() for t in content_objects(record, file)]
        kept = []
        for obj in held:
            if wanted[obj] > 0:
                wanted[obj] -= 1
                kept.append(obj)
        out.append(record if kept == held else pad(b"".join(kept), size))
        if not kept:
            free.append(index)
    new = []
    for obj in objects:
        if wanted[obj] > 0:
            wanted[obj] -= 1
            new.append(obj)
    if len(new) > len(free):
        raise ArfNoFreeRecordError(file, len(new), len(free), len(records), size)
    for index, obj in zip(free, new):
        out[index] = pad(obj, size)
    return b"".join(out)


def pad(content: bytes, size: int) -> bytes:
    return content + b"\xff" * (size - len(content))


def changed_records(old: bytes, new: bytes, size: int) -> list[tuple[int, bytes]]:
    """(record number from 1, new record) for every record that differs."""
    if len(old) != len(new) or size <= 0 or len(old) % size:
        raise ValueError("a record file's new content must keep its records")
    return [(i // size + 1, new[i : i + size]) for i in range(0, len(new), size) if old[i : i + size] != new[i : i + size]]
