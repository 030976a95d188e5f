"""After a refresh: re-render the config file's ``[[outputs]]`` with :mod:`wifiq.render`.

Each output reflects a run recorded in the state (:mod:`wifiq.delivery`). Policy: an output is
*behind* when its addresses then differ from the active addresses now; a *full* output is
written when it is behind or its file is missing; a *delta* output (``delta = true``) only when
it is behind, and holds the change since the run it reflects (platform add/remove commands),
or the full config when it reflects no address yet (a first refresh, a new output). So an
output that failed (disk full) is redone, with the accumulated change, by the next refresh.
Unchanged refreshes touch no file. Files are written atomically; an output path that is a
symbolic link stays one and the file it points to is written (carrierkit.fileio); a multi-file target
(iptables, plain) needs ``path`` to be a directory. Before any lookup, :func:`check_outputs`
refuses a path that is the config file, the state (or its journal and lock files) or another
output's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carrierkit.fileio import write_target

from .config import ConfigError, Output
from .delivery import ActiveHistory
from .errors import WifiqError
from .holddown import format_time
from .render import RenderInput, check_dscp_change, parse_render_input, render, render_options, write_output
from .render.registry import get_renderer
from .render_state import first_refresh
from .report import OperatorReport
from .resolve.lookup import sort_addresses


class OutputError(WifiqError):
    """An output could not be rendered or written (``target``, ``path``, ``reason``); the
    refresh itself is stored."""

    def __init__(self, output: Output, reason: str) -> None:
        super().__init__(f"output {output.target} -> {output.path}: {reason}")
        self.output = output
        self.reason = reason


@dataclass(frozen=True)
class Written:
    """An output handled by :func:`write_outputs`: the files it wrote (none when it was up to
    date) and whether it was behind (its addresses differed from the active ones)."""

    output: Output
    paths: tuple[Path, ...]
    behind: bool = False


def check_outputs(outputs: Sequence[Output], config_path: Path, state_path: Path) -> None:
    """Before any lookup: every target exists, a multi-file target's path is a directory and a
    single-file target's path is a file in an existing directory; no output writes the config
    file, the state file (or its journal, WAL and lock files) or another output's file.
    Raises ConfigError naming the config file and the output (exit status 2)."""
    reserved = {_same(config_path): "the config file", _same(state_path): "the state file"}
    for suffix in ("-wal", "-shm", "-journal", ".lock"):
        reserved[_same(Path(f"{state_path}{suffix}"))] = f"the state's {suffix.lstrip('-.')} file"
    taken: dict[str, int] = {}
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
        if not info.files:
            try:  # a link is followed: its file is written (carrierkit.fileio)
                written = write_target(output.path)
            except OSError as exc:
                raise ConfigError(config_path, where,
                                  f"{output.path}: {exc.strerror or exc}") from None
            if not written.parent.is_dir():
                raise ConfigError(config_path, where, f"no directory {written.parent}"
                                  + (f" (for {output.path}, a link to {written})"
                                     if written != output.path else ""))
        files = [output.path / name for name in info.files] or [output.path]
        for file in files:
            key = _same(file)
            if key in reserved:
                raise ConfigError(config_path, where, f"{file} is {reserved[key]}: "
                                  "an output may not overwrite it")
            if key in taken:
                raise ConfigError(config_path, where, f"{file} is also written by "
                                  f"outputs[{taken[key]}]: give each output its own path")
            taken[key] = index


def _same(path: Path) -> str:
    """A key equal for two paths naming the same file (symbolic links, ``..`` and, for files
    that exist, hard links resolved)."""
    try:
        info = os.stat(path)
        return f"inode {info.st_dev}:{info.st_ino}"
    except OSError:
        return os.path.realpath(path)


def write_outputs(
    outputs: Sequence[Output],
    current_doc: Mapping[str, Any],
    reports: Sequence[OperatorReport],
    baseline: Callable[[Output], int],
    history: ActiveHistory,
) -> tuple[list[Written], list[OutputError]]:
    """Render and write every output the policy calls for. Every output is tried; returns the
    outputs written (or found up to date: ``paths`` empty) and the errors of those that
    failed (to be redone by the next refresh)."""
    current: RenderInput | None = None
    done: list[Written] = []
    errors: list[OutputError] = []
    for output in outputs:
        then, then_at = history.at(baseline(output))
        previous_doc = _document_then(current_doc, reports, then, then_at)
        behind = any(
            set(before["active"]) != set(now["active"])
            for before, now in zip(previous_doc["operators"], current_doc["operators"])
        )
        if not behind and (output.delta or output.path.exists()):
            done.append(Written(output, (), behind=False))
            continue
        try:
            if current is None:
                current = parse_render_input(current_doc, "this refresh")
            previous = None
            then_doc = parse_render_input(previous_doc, "the refresh it reflects")
            if output.delta and not first_refresh(previous_doc):
                previous = then_doc
            if output.path.is_file():
                check_dscp_change(output.target, output.path.read_text(encoding="utf-8", errors="replace"), output.dscp,
                                  render_options(output.target, output.prefix, dict(output.options)))
            # A full output also removes what the file it replaces held (operators gone since).
            text = render(
                output.target, current.knowing(then_doc), previous=previous, dscp=output.dscp, prefix=output.prefix, options=dict(output.options)
            )
            paths = write_output(output.target, text, output.path)
        except WifiqError as exc:
            errors.append(OutputError(output, str(exc)))
            continue
        except OSError as exc:
            errors.append(OutputError(output, exc.strerror or str(exc)))
            continue
        done.append(Written(output, tuple(paths), behind=behind))
    return done, errors


def _document_then(
    current_doc: Mapping[str, Any],
    reports: Sequence[OperatorReport],
    then: Mapping[str, frozenset[str]],
    then_at: float | None,
) -> dict[str, Any]:
    """``current_doc`` with each operator's active addresses as they were (``then``)."""
    operators = []
    for entry, report in zip(current_doc["operators"], reports):
        fqdns = {n.fqdn for n in report.names}
        before = {a for n in fqdns for a in then.get(n, ())}
        operators.append({**entry, "active": list(sort_addresses(before)), "added": [],
                          "removed": []})
    previous = {**current_doc, "operators": operators}
    if then_at is not None:
        previous["refreshed_at"] = format_time(then_at)
    return previous
