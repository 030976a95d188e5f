"""Render the active ePDG addresses as QoS/ACL configuration for network gear (full or delta).

Library API (what ``wifiq render`` and ``wifiq refresh`` call)::

    from wifiq.render import load_render_input, render, targets, write_output

    current = load_render_input("state.json")            # or parse_render_input(dict, source)
    text = render("nftables", current)                    # full configuration
    text = render("nftables", current, previous=older)    # only the change (platform commands)
    text = render("cisco-ios", current, dscp="af41")      # dscp: int, name or number string
    write_output("iptables", text, "/etc/wifiq/")         # atomic; multi-file targets → a dir
    for name, info in targets().items(): print(name, info.families, info.delta)

- ``render(target, current, *, previous=None, dscp=46) -> str``: ``previous`` given → delta,
  else full. Multi-file targets (``info.files``: iptables, plain) return one text of
  ``==> file <==`` sections; :func:`split_sections` turns it back into files.
- ``targets() -> dict[str, RendererInfo]``: every registered target and what it supports.
- Errors: :class:`UnknownTargetError`, :class:`DscpError` (bad ``dscp``),
  :class:`TargetLimitError` (the target cannot express the input: names target and limit),
  :class:`RenderInputError` (malformed input file: names file and field). All are WifiqError.
"""

from __future__ import annotations

import os
from pathlib import Path

from carrierkit.fileio import atomic_write_text

from ..errors import UsageError, WifiqError
from .base import RendererInfo, split_sections
from .dscp import Dscp, parse_dscp
from .errors import DscpError, RenderInputError, TargetLimitError, UnknownTargetError
from .loader import load_render_input, parse_render_input
from .model import Delta, OperatorAddresses, RenderInput, compute_delta
from .registry import get_renderer
from .registry import registry as _all_renderers

__all__ = [
    "Delta",
    "Dscp",
    "DscpError",
    "OperatorAddresses",
    "RenderInput",
    "RenderInputError",
    "RendererInfo",
    "TargetLimitError",
    "UnknownTargetError",
    "compute_delta",
    "load_render_input",
    "parse_dscp",
    "parse_render_input",
    "render",
    "split_sections",
    "targets",
    "write_output",
]


def targets() -> dict[str, RendererInfo]:
    """Every registered target's capability sheet, by name (built-ins and plug-ins)."""
    return {name: renderer.info for name, renderer in sorted(_all_renderers().items())}


def render(
    target: str,
    current: RenderInput,
    *,
    previous: RenderInput | None = None,
    dscp: int | str | Dscp = 46,
) -> str:
    """Render ``current`` for ``target``: the full config, or the delta since ``previous``.

    Raises UnknownTargetError, DscpError, or TargetLimitError when the target cannot express
    the input (checked for the current refresh, whether full or delta).
    """
    renderer = get_renderer(target)
    mark = dscp if isinstance(dscp, Dscp) else parse_dscp(dscp)
    renderer.check(current)
    if previous is None:
        return renderer.full(current, mark)
    return renderer.delta(compute_delta(previous, current), mark)


def write_output(target: str, text: str, out: str | os.PathLike[str]) -> list[Path]:
    """Write a rendered text atomically; returns the paths written.

    A single-file target goes to ``out``; a multi-file target (iptables, plain) needs ``out``
    to be a directory and writes each section as its own file there.
    """
    info = get_renderer(target).info
    path = Path(out)
    if info.files:
        if not path.is_dir():
            names = ", ".join(info.files)
            raise UsageError(f"--out {path}: {info.name} writes several files ({names}): give an existing directory")
        files = {path / name: content for name, content in split_sections(text).items()}
    else:
        # A directory gets the target's default file name (wifiq-nftables.nft, …).
        files = {path / f"wifiq-{info.name}.{info.extension}" if path.is_dir() else path: text}
    for destination, content in files.items():
        try:
            atomic_write_text(destination, content)
        except OSError as err:
            raise WifiqError(f"--out {destination}: {err.strerror or err}") from None
    return list(files)
