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


def _commands():
    """Every (command path, click command) of both tools, card commands included."""
    import click

    from simtool.cli import cli as simtool_cli
    from wifiq.cli import cli as wifiq_cli

    def walk(cmd: click.Command, ctx: click.Context):
        yield ctx, cmd
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx))

    for root, name in ((simtool_cli, "simtool"), (wifiq_cli, "wifiq")):
        yield from walk(root, click.Context(root, info_name=name))


def test_one_style_of_default_in_every_help() -> None:
    """A default is shown by click as ``[default: …]`` after the help (``show_default``, with
    ``carrierkit.cli.TextDefault`` for one that is a description); never written into the help
    text itself as "(default: …)", "Default: on." or "[2]"."""
    import re

    import click

    written = re.compile(r"default|\[[^\]]*\]\s*$", re.IGNORECASE)
    offenders = []
    seen = 0
    for ctx, cmd in _commands():
        for param in cmd.params:
            if isinstance(param, click.Option) and param.help:
                seen += 1
                if written.search(param.help):
                    offenders.append(f"{ctx.command_path} {param.opts[0]}: {param.help}")
            if isinstance(param, click.Option) and isinstance(param.show_default, str):
                record = param.get_help_record(ctx)
                assert record is not None and f"[default: {param.show_default}" in record[1]
    assert seen > 50 and offenders == []


def test_reader_selector_reads_the_same_everywhere() -> None:
    metavars = {}
    for ctx, cmd in _commands():
        for param in cmd.params:
            if "--reader" in getattr(param, "opts", ()):
                metavars[ctx.command_path] = param.make_metavar(ctx)
    assert "simtool readers" in metavars and len(metavars) > 5
    assert set(metavars.values()) == {"N|NAME"}
