"""Issue 9 (7): the fuzz targets (APK reader, keystore readers, ARA-M TLV parser) run briefly in
the suite, seeded with real files and the hostile inputs. ``CARRIERKIT_FUZZ_SECONDS=N`` makes
each run N seconds instead; ``python -m tests.fuzz`` runs them for long (tests/fuzz/__init__.py).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.fuzz.runner import fuzz
from tests.fuzz.targets import TARGETS, Target

SECONDS = float(os.environ.get("CARRIERKIT_FUZZ_SECONDS", "0")) or None
ITERATIONS = {"apk": 250, "keystore": 250, "tlv": 3000}
MIN_SEEDS = {"apk": 12, "keystore": 4, "tlv": 8}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_target(name: str, tmp_path: Path) -> None:
    result = fuzz(TARGETS[name], seconds=SECONDS, iterations=None if SECONDS else ITERATIONS[name],
                  seed=9, crashes=tmp_path)
    assert result.seeds >= MIN_SEEDS[name]
    assert result.runs >= result.seeds + (0 if SECONDS else ITERATIONS[name])
    assert result.findings == [], "\n".join(result.findings)


def test_fuzzer_reports_a_broken_target(tmp_path: Path) -> None:
    """The loop really catches what a target lets escape, and saves the input."""
    def run(data: bytes, workdir: Path, rng: random.Random) -> None:
        if data.startswith(b"\xff"):
            raise IndexError("escaped")

    result = fuzz(Target("demo", run, lambda _: [b"\x00\x01", b"\xfe\x02"]), seconds=None,
                  iterations=2000, seed=1, crashes=tmp_path)
    assert result.findings and "IndexError: escaped" in result.findings[0]
    assert any(p.read_bytes().startswith(b"\xff") for p in tmp_path.iterdir())
