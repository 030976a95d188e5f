"""The card's persistent memory, mirrored to a JSON state file after every APDU (atomic rename).

The file is what tests inspect (`CardHandle.state()`) and what a re-inserted card starts from:
rules, refresh tag and ADM tries survive; the APDU log and `removed` start afresh each insertion.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CardMemory:
    """What the card keeps: rules as stored REF-AR-DO bytes (in the card's own order), the
    ARA-D's rules (profiles whose ARA-D holds rules; seeded only through this file) and the
    PKCS#15 files of an ARF profile."""

    rules: list[bytes] = field(default_factory=list)
    ara_d_rules: list[bytes] = field(default_factory=list)  # the ARA-D's REF-AR-DOs (ara_d.py)
    refresh_tag: bytes = bytes(8)
    adm_tries_left: int = 10
    isd_tries_left: int = 3  # failed EXTERNAL AUTHENTICATEs left before the ISD locks
    isd_counter: int = 0  # SCP02 sequence counter / SCP03 counter
    aram_locked: bool = False  # sysmocom's aram_lock (STORE DATA A1) was taken: direct STORE DATA refused
    apdus: list[tuple[bytes, bytes]] = field(default_factory=list)
    removed: bool = False
    files: dict[str, bytes] = field(default_factory=dict)  # PKCS#15 EFs: file id (hex) → content
    record_sizes: dict[str, int] = field(default_factory=dict)  # linear fixed ones: file id → record size

    def to_json(self) -> dict:
        return {
            "rules": [r.hex().upper() for r in self.rules],
            "ara_d_rules": [r.hex().upper() for r in self.ara_d_rules],
            "refresh_tag": self.refresh_tag.hex().upper(),
            "apdus": [[c.hex().upper(), r.hex().upper()] for c, r in self.apdus],
            "adm_tries_left": self.adm_tries_left,
            "isd_tries_left": self.isd_tries_left,
            "isd_counter": self.isd_counter,
            "aram_locked": self.aram_locked,
            "removed": self.removed,
            "files": {fid: data.hex().upper() for fid, data in self.files.items()},
            "record_sizes": dict(self.record_sizes),
        }

    @classmethod
    def from_json(cls, doc: dict) -> "CardMemory":
        """Rules, refresh tag and tries from a saved state; the APDU log starts empty."""
        return cls(
            rules=[bytes.fromhex(r) for r in doc.get("rules", [])],
            ara_d_rules=[bytes.fromhex(r) for r in doc.get("ara_d_rules", [])],
            refresh_tag=bytes.fromhex(doc.get("refresh_tag", "00" * 8)),
            adm_tries_left=int(doc.get("adm_tries_left", 10)),
            isd_tries_left=int(doc.get("isd_tries_left", 3)),
            isd_counter=int(doc.get("isd_counter", 0)),
            aram_locked=bool(doc.get("aram_locked", False)),
            files={fid: bytes.fromhex(data) for fid, data in doc.get("files", {}).items()},
            record_sizes={fid: int(size) for fid, size in doc.get("record_sizes", {}).items()},
        )


def load_memory(path: Path) -> CardMemory | None:
    """The memory saved at `path`, or None when there is no such file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return CardMemory.from_json(json.loads(text))


def save_memory(path: Path, memory: CardMemory) -> None:
    """Write the state file atomically (temp file in the same folder + rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(memory.to_json()))
    os.replace(tmp, path)
