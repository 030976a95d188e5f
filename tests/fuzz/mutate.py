"""Byte-level mutations, deterministic for a given ``random.Random``: flips, edge values in
u16/u32/u64 fields, inserts, deletes, duplicated ranges, truncation and splicing of two seeds."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence

EDGES_16 = (0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF)
EDGES_32 = (0, 1, 4, 8, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF)
EDGES_64 = (0, 1, 24, 2**31, 2**32, 2**63, 2**64 - 1)


def _flip(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    if b:
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)


def _byte(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    if b:
        b[rng.randrange(len(b))] = rng.choice((0, 0x7F, 0x80, 0xFF, rng.randrange(256)))


def _field(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    fmt, edges = rng.choice((("<H", EDGES_16), ("<I", EDGES_32), ("<Q", EDGES_64),
                             (">H", EDGES_16), (">I", EDGES_32)))
    size = struct.calcsize(fmt)
    if len(b) >= size:
        i = rng.randrange(len(b) - size + 1)
        b[i : i + size] = struct.pack(fmt, rng.choice(edges))


def _insert(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    i = rng.randrange(len(b) + 1)
    b[i:i] = bytes(rng.randrange(256) for _ in range(rng.choice((1, 2, 4, 8, 64))))


def _delete(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    if b:
        i = rng.randrange(len(b))
        del b[i : i + rng.choice((1, 2, 4, 16, 256))]


def _duplicate(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    if b:
        i = rng.randrange(len(b))
        n = rng.choice((2, 8, 64, 512))
        b[i:i] = b[i : i + n]


def _truncate(rng: random.Random, b: bytearray, _: Sequence[bytes]) -> None:
    if b:
        del b[rng.randrange(len(b)) :]


def _splice(rng: random.Random, b: bytearray, seeds: Sequence[bytes]) -> None:
    other = rng.choice(seeds)
    if b and other:
        i, j = rng.randrange(len(b)), rng.randrange(len(other))
        b[i:] = other[j:]


MUTATIONS: tuple[Callable[[random.Random, bytearray, Sequence[bytes]], None], ...] = (
    _flip, _byte, _field, _field, _insert, _delete, _duplicate, _truncate, _splice)


def mutate(rng: random.Random, seed: bytes, seeds: Sequence[bytes]) -> bytes:
    """One to four mutations of ``seed`` (``seeds`` feed splicing)."""
    b = bytearray(seed)
    for _ in range(rng.choice((1, 1, 2, 4))):
        rng.choice(MUTATIONS)(rng, b, seeds)
    return bytes(b)
