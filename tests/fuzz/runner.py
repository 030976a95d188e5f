"""The fuzz loop: seeds first (each must pass as is), then mutated seeds until the budget ends."""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from .mutate import mutate
from .targets import Target


@dataclass
class FuzzResult:
    runs: int = 0
    seeds: int = 0
    elapsed: float = 0.0
    findings: list[str] = field(default_factory=list)


def fuzz(target: Target, *, seconds: float | None, iterations: int | None, seed: int,
         crashes: Path | None = None, max_findings: int = 10) -> FuzzResult:
    """Run ``target`` on its seeds, then on mutations of them, for ``seconds`` or
    ``iterations`` inputs. A finding records the exception and (with ``crashes``) the input."""
    rng = random.Random(seed)
    result = FuzzResult()
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target.name}-") as tmp:
        workdir = Path(tmp)
        (workdir / "seeds").mkdir()
        seeds = target.seeds(workdir / "seeds")
        result.seeds = len(seeds)
        inputs = iter(seeds)
        while len(result.findings) < max_findings:
            data = next(inputs, None)
            if data is None:
                if iterations is not None and result.runs >= iterations + len(seeds):
                    break
                if seconds is not None and time.monotonic() - start >= seconds:
                    break
                data = mutate(rng, rng.choice(seeds), seeds)
            result.runs += 1
            try:
                target.run(data, workdir, rng)
            except Exception as exc:  # noqa: BLE001 - anything else is what we are looking for
                digest = hashlib.sha256(data).hexdigest()[:16]
                where = traceback.extract_tb(exc.__traceback__)[-1]
                note = (f"{type(exc).__name__}: {str(exc)[:200]} at {where.filename}:"
                        f"{where.lineno} (input {digest}, {len(data)} bytes)")
                if crashes is not None:
                    crashes.mkdir(parents=True, exist_ok=True)
                    (crashes / f"{target.name}-{digest}.bin").write_bytes(data)
                result.findings.append(note)
    result.elapsed = time.monotonic() - start
    return result
