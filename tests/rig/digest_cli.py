"""Runs the real ``simtool digest`` CLI in a child process and reads its ``--json`` contract.

The contract (issue 2): per input an object with ``path``, ``verified``, ``schemes``,
``signers`` (``scheme``, ``min_sdk``, ``max_sdk``, ``subject``, ``sha1``, ``sha256``, ``md5``),
``lineage`` (``subject``, ``sha1``, ``sha256``), ``recommended_sha1``, ``errors``; exit status 0
only when every input verified; bad input gives a one-line error on stderr, never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .apksigner import CertDigests


def simtool_argv() -> list[str]:
    """The command that starts our CLI: the venv's console script, else ``python -m``."""
    script = Path(sys.executable).with_name("simtool")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from simtool.cli import main; sys.exit(main())"]


@dataclass(frozen=True)
class DigestRun:
    """One finished ``simtool digest`` process: exit status, raw streams, parsed JSON reports."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    reports: tuple[dict, ...]

    def only(self) -> dict:
        """The single input's report (asserting there is exactly one)."""
        assert len(self.reports) == 1, f"expected one report, got {len(self.reports)}: {self}"
        return self.reports[0]


def _parse_reports(stdout: str) -> tuple[dict, ...]:
    text = stdout.strip()
    if not text:
        return ()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        # JSON Lines: one object per input.
        return tuple(json.loads(line) for line in text.splitlines() if line.strip())
    if isinstance(doc, dict):
        return (doc,)
    return tuple(doc)


def run_digest(inputs: Sequence[Path | str], *, json_out: bool = True, verify: bool = False,
               min_sdk: int | None = None, max_sdk: int | None = None,
               extra: Sequence[str] = (), env: dict[str, str] | None = None,
               timeout: float = 120) -> DigestRun:
    """Run ``simtool digest [--json] [--verify] [--min/--max-sdk-version] INPUT…``."""
    argv = [*simtool_argv(), "digest"]
    if json_out:
        argv.append("--json")
    if verify:
        argv.append("--verify")
    if min_sdk is not None:
        argv += ["--min-sdk-version", str(min_sdk)]
    if max_sdk is not None:
        argv += ["--max-sdk-version", str(max_sdk)]
    argv += [*extra, *map(str, inputs)]
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env,
                          stdin=subprocess.DEVNULL)
    reports: tuple[dict, ...] = ()
    if json_out:
        try:
            reports = _parse_reports(proc.stdout)
        except json.JSONDecodeError as err:
            raise AssertionError(f"simtool digest --json printed invalid JSON ({err}):\n"
                                 f"{proc.stdout[:2000]}\nstderr: {proc.stderr[:2000]}") from err
    return DigestRun(tuple(argv), proc.returncode, proc.stdout, proc.stderr, reports)


def run_digest_batch(inputs: Sequence[Path], **options: object) -> dict[Path, dict]:
    """One ``simtool digest --json`` process over many inputs (the JVM-free side of a test
    should not pay Python's start-up per file on a busy 2-core machine): the report of each
    input by path. Asserts the batch contract: one report per input, in order, and exit status
    0 exactly when every input verified."""
    run = run_digest(inputs, **options)  # type: ignore[arg-type]
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert [r["path"] for r in run.reports] == [str(p) for p in inputs], run.stderr[:2000]
    all_ok = all(r["verified"] is True for r in run.reports)
    assert (run.exit_code == 0) == all_ok, (run.exit_code, run.stderr[:2000])
    return dict(zip(inputs, run.reports))


def signer_certs(report: dict) -> set[CertDigests]:
    """Distinct signer certificates in a report (source-stamp entries, if any, left out)."""
    return {CertDigests(subject=s["subject"], sha256=s["sha256"], sha1=s["sha1"], md5=s["md5"])
            for s in report["signers"] if "stamp" not in str(s.get("scheme", "")).lower()}


def verified_schemes(report: dict) -> set[str]:
    """Scheme names our report marks verified; ``schemes`` may be a list of names or a
    name → bool mapping. Names are normalised to "v1", "v2", "v3", "v3.1", "v4"."""
    raw = report["schemes"]
    names = [k for k, v in raw.items() if v] if isinstance(raw, dict) else list(raw)
    return {normalise_scheme(n) for n in names}


def printed_schemes(verified: set[str]) -> set[str]:
    """Whose signers apksigner prints: v3.1 with v3 when v3.1 verified, else v3, v2, v1."""
    for scheme, printed in (("v3.1", {"v3.1", "v3"}), ("v3", {"v3"}), ("v2", {"v2"}), ("v1", {"v1"})):
        if scheme in verified:
            return printed
    return set()


def normalise_scheme(name: object) -> str:
    """"V3.1", "v31", "3.1", "apk-signature-scheme-v2" … → "v3.1", "v2"; "jar" → "v1"."""
    text = str(name).lower().replace("_", ".")
    if "jar" in text:
        return "v1"
    for known in ("3.1", "31", "1", "2", "3", "4"):
        if text.endswith(known):
            return "v3.1" if known in ("3.1", "31") else f"v{known}"
    return text


def assert_one_line_error(run: DigestRun) -> None:
    """Non-zero exit, no traceback, and a non-empty stderr that is one line per input at most
    (each starting ``simtool``)."""
    assert run.exit_code != 0, f"expected failure, got 0: {run.stdout[:500]}"
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout, run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert lines, f"no error message on stderr (exit {run.exit_code})"
    assert len(lines) == 1, f"expected a one-line error, got:\n{run.stderr}"
