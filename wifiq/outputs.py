"""After a refresh: re-render the config file's ``[[outputs]]`` with :mod:`wifiq.render`.

Policy: a *full* output is written when addresses changed or its file is missing; a *delta*
output (``delta = true``) is written only when addresses changed, and holds the change of that
refresh alone (platform add/remove commands), or the full config after the first refresh (when
nothing was active before). Unchanged refreshes touch no file. Files are
written atomically; a multi-file target (iptables, plain) needs ``path`` to be a directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import ConfigError, Output
from .errors import WifiqError
from .render import parse_render_input, render, render_options, write_output
from .render.registry import get_renderer
from .render_state import first_refresh, previous_document
from .report import OperatorReport, document


class OutputError(WifiqError):
    """An output could not be rendered or written (``target``, ``path``, ``reason``); the
    refresh itself is stored."""

    def __init__(self, output: Output, reason: str) -> None:
        super().__init__(f"output {output.target} -> {output.path}: {reason}")
        self.output = output
        self.reason = reason


@dataclass(frozen=True)
class Written:
    """An output written by :func:`write_outputs` and the files it wrote."""

    output: Output
    paths: tuple[Path, ...]


def check_outputs(outputs: Sequence[Output], config_path: Path) -> None:
    """Before any lookup: every target exists, a multi-file target's path is a directory and a
    single-file target's path is a file in an existing directory.
    Raises ConfigError naming the config file and the output (exit status 2)."""
    for index, output in enumerate(outputs):
        try:
            info = get_renderer(output.target).info
        except WifiqError as exc:
            raise ConfigError(config_path, f"outputs[{index}].target", str(exc)) from None
        try:
            render_options(output.target, output.prefix, dict(output.options))
        except WifiqError as exc:
            raise ConfigError(config_path, f"outputs[{index}].options", str(exc)) from None
        where = f"outputs[{index}].path"
        if info.files and not output.path.is_dir():
            raise ConfigError(
                config_path,
                where,
                f"{info.name} writes several files ({', '.join(info.files)}): "
                f"give an existing directory, not {output.path}",
            )
        if not info.files and output.path.is_dir():
            raise ConfigError(config_path, where, f"{output.path} is a directory: give a file")
        if not info.files and not output.path.parent.is_dir():
            raise ConfigError(config_path, where, f"no directory {output.path.parent}")


def write_outputs(
    outputs: Sequence[Output],
    status: str,
    refreshed_at: float,
    reports: Sequence[OperatorReport],
    previous_at: float | None,
) -> list[Written]:
    """Render and write every output the policy calls for; raises OutputError on the first
    that fails (earlier outputs stay written)."""
    changed = any(r.added or r.removed for r in reports)
    current_doc = document(status, refreshed_at, reports)
    written = []
    for output in outputs:
        if not (changed or (not output.delta and not output.path.exists())):
            continue
        try:
            current = parse_render_input(current_doc, "this refresh")
            previous = None
            if output.delta:
                previous_doc = previous_document(current_doc, previous_at)
                if previous_at is not None and not first_refresh(previous_doc):
                    previous = parse_render_input(previous_doc, "the previous refresh")
            text = render(
                output.target, current, previous=previous, dscp=output.dscp, prefix=output.prefix, options=dict(output.options)
            )
            paths = write_output(output.target, text, output.path)
        except WifiqError as exc:
            raise OutputError(output, str(exc)) from None
        except OSError as exc:
            raise OutputError(output, exc.strerror or str(exc)) from None
        written.append(Written(output, tuple(paths)))
    return written
