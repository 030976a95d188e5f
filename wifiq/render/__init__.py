"""Render the active ePDG addresses as QoS/ACL configuration for network gear (full or delta).

Library API (what ``wifiq render`` and ``wifiq refresh`` call)::

    from wifiq.render import load_render_input, render, targets, write_output

    current = load_render_input("state.json")            # or parse_render_input(dict, source)
    text = render("nftables", current)                    # full configuration
    text = render("nftables", current, previous=older)    # only the change (platform commands)
    text = render("cisco-ios", current, dscp="af41")      # dscp: int, name or number string
    text = render("cisco-9800", current, prefix="acme", options={"policy-map": "VOICE"})
    write_output("iptables", text, "/etc/wifiq/")         # atomic; multi-file targets → a dir
    for name, info in targets().items(): print(name, info.families, info.delta)

- ``render(target, current, *, previous=None, dscp=46) -> str``: ``previous`` given → delta,
  else full. Multi-file targets (``info.files``: iptables, plain) return one text of
  ``==> file <==`` sections; :func:`split_sections` turns it back into files.
- ``prefix`` renames every object the target owns (default ``wifiq``, in the target's case);
  ``options`` sets the names the user fits to the device (``info.options``: key, default, help).
- ``targets() -> dict[str, RendererInfo]``: every registered target and what it supports.
- Errors: :class:`UnknownTargetError`, :class:`DscpError` (bad ``dscp``),
  :class:`TargetLimitError` (the target cannot express the input: names target and limit),
  :class:`RenderOptionError` (unknown option key or a value the target cannot use),
  :class:`RenderInputError` (malformed input file: names file and field). All are WifiqError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from carrierkit.fileio import atomic_write_text

from ..errors import UsageError, WifiqError
from .base import Renderer, RendererInfo, split_sections
from .dscp import Dscp, parse_dscp
from .errors import DscpError, RenderInputError, RenderOptionError, TargetLimitError, UnknownTargetError
from .loader import load_render_input, parse_render_input
from .model import Delta, OperatorAddresses, RenderInput, compute_delta
from .options import OptionSpec, RenderOptions
from .registry import get_renderer
from .registry import registry as _all_renderers

__all__ = [
    "Delta",
    "Dscp",
    "DscpError",
    "OperatorAddresses",
    "OptionSpec",
    "RenderInput",
    "RenderInputError",
    "RenderOptionError",
    "RenderOptions",
    "RendererInfo",
    "TargetLimitError",
    "UnknownTargetError",
    "check_dscp_change",
    "compute_delta",
    "load_render_input",
    "parse_dscp",
    "parse_render_input",
    "render",
    "render_options",
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
    prefix: str | None = None,
    options: Mapping[str, object] | RenderOptions | None = None,
) -> str:
    """Render ``current`` for ``target``: the full config, or the delta since ``previous``.

    ``prefix`` (default: the target's, ``wifiq``) starts every name the output owns; ``options``
    (``{key: value}`` or a :class:`RenderOptions` from :func:`render_options`) sets the names
    the user fits to the device. Raises UnknownTargetError, DscpError, RenderOptionError, or
    TargetLimitError when the target cannot express the input (checked for the current
    refresh, whether full or delta).
    """
    if isinstance(options, RenderOptions):
        if prefix is not None:
            raise UsageError("give the prefix inside the RenderOptions, not beside it")
        chosen = options
    else:
        chosen = render_options(target, prefix, options)
    renderer = get_renderer(target)
    if chosen.target and chosen.target != renderer.info.name:
        raise UsageError(f"options checked for {chosen.target} cannot render {renderer.info.name}")
    renderer = _configured(renderer, chosen)
    mark = dscp if isinstance(dscp, Dscp) else parse_dscp(dscp)
    renderer.check(current)
    if previous is None:
        return renderer.full(current, mark)
    # What ``previous`` held, ``current`` had (its objects may be on the device).
    return renderer.delta(compute_delta(previous, current.knowing(previous)), mark)


_HEADER_DSCP = re.compile(r"marked DSCP (?:[a-z0-9]+ \()?([0-9]{1,2})\)?\s*$")


def check_dscp_change(target: str, written: str, dscp: int | str | Dscp, options: RenderOptions) -> None:
    """Refuse to replace ``written`` (an earlier output of ``target``, e.g. the ``--out`` file)
    when its header marks another DSCP, the target's lines carry the DSCP (it declares a
    ``previous-dscp`` option: ArubaOS) and that option does not name it: the old lines would
    stay on the device and keep matching first. Raises UsageError in one line."""
    info = get_renderer(target).info
    if not any(spec.key == "previous-dscp" for spec in info.options):
        return
    # The header's first line: "! wifiq 0.1.0 - aruba-os - … marked DSCP ef (46)" (this target's only).
    found = next((m for line in written.splitlines()[:3]
                  if f" - {info.name} - " in line and (m := _HEADER_DSCP.search(line))), None)
    mark = dscp if isinstance(dscp, Dscp) else parse_dscp(dscp)
    if found is None or int(found.group(1)) == mark.value:
        return
    named = options.get("previous-dscp")
    if named and parse_dscp(named).value == int(found.group(1)):
        return
    raise UsageError(
        f"{target}: the output being replaced marks DSCP {found.group(1)}, this one {mark}: its ACL lines would stay "
        f"and match first; render with --option previous-dscp={found.group(1)} (takes them out)"
    )


def render_options(target: str, prefix: str | None = None, options: Mapping[str, object] | None = None) -> RenderOptions:
    """Check a prefix and ``{key: value}`` options against ``target``'s declared ones (defaults
    filled in); raises RenderOptionError naming the target, the key and what it accepts."""
    return get_renderer(target).parse_options(prefix, options)


@lru_cache(maxsize=64)
def _configured(renderer: Renderer, options: RenderOptions) -> Renderer:
    """``renderer`` with these options (cached: its name memo survives refreshes)."""
    return renderer.configured(options)


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
