"""Command-line conventions both tools share: shell completion (click's), documented in README."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _complete(tool: str, words: str) -> list[str]:
    """What bash completion offers for ``words`` (the last word being completed)."""
    env = {**os.environ, f"_{tool.upper()}_COMPLETE": "bash_complete", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}
    proc = subprocess.run([sys.executable, "-m", f"{tool}.cli"], env=env, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines()]


def test_render_targets_complete() -> None:
    assert _complete("wifiq", "wifiq render cisco") == ["cisco-9800", "cisco-ios"]
    everything = _complete("wifiq", "wifiq render ")
    assert {"nftables", "mikrotik", "json", "plain"} <= set(everything)
    assert everything == sorted(everything)


def test_commands_complete_in_both_tools() -> None:
    assert _complete("wifiq", "wifiq re") == ["refresh", "render", "resolve"]
    assert set(_complete("simtool", "simtool ")) >= {"aram", "card", "digest", "readers"}
    assert "--verify" in _complete("simtool", "simtool digest --v")
