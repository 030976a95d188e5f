"""What every renderer is: a declared capability sheet plus full and delta rendering.

A renderer states what it supports (:class:`RendererInfo`) and raises
:class:`~wifiq.render.errors.TargetLimitError` for anything it cannot express — it never drops
an address, a family or a protocol quietly (aerleon's failure mode that we avoid).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import ClassVar

from .dscp import Dscp
from .errors import RenderOptionError, TargetLimitError
from .model import Delta, RenderInput
from .names import NameRules, ascii_text
from .options import OptionSpec, RenderOptions, build_options, check_prefix

#: Marks the start of each file in a multi-file output (like ``head`` does for several files).
SECTION_MARK = "==> {name} <=="


@dataclass(frozen=True)
class RendererInfo:
    """A target's capability sheet, shown by ``wifiq formats``.

    ``families`` the IP versions it expresses; ``protocols`` what it matches; ``downstream``
    whether ePDG→client traffic is marked; ``delta`` ``"commands"`` (incremental add/remove) or
    ``"full"`` (the platform replaces the whole object, so a delta is the full output);
    ``files`` the file names of a multi-file output (empty: one text); ``limits`` enforced limits;
    ``options`` the names the user fits to the device (``--option KEY=VALUE``); ``prefix``
    whether ``--prefix`` renames every object the target owns (a target sets it once all its
    names, fixed ones included, come from :attr:`Renderer.names`).
    """

    name: str
    title: str
    description: str
    families: tuple[int, ...] = (4, 6)
    protocols: str = "udp/500, udp/4500, esp"
    downstream: bool = True
    delta: str = "commands"
    comments: bool = True
    files: tuple[str, ...] = ()
    extension: str = "txt"
    limits: tuple[str, ...] = ()
    options: tuple[OptionSpec, ...] = ()
    prefix: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form for ``wifiq formats --json``."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "families": [f"ipv{f}" for f in self.families],
            "protocols": self.protocols,
            "downstream": self.downstream,
            "delta": self.delta,
            "comments": self.comments,
            "files": list(self.files),
            "limits": list(self.limits),
            "prefix": self.prefix,
            "options": [spec.as_dict() for spec in self.options],
        }


class Renderer(ABC):
    """Base of every target: subclasses set ``info`` and ``names`` and implement :meth:`full`."""

    info: ClassVar[RendererInfo]
    #: The target's naming rules; on a configured copy (:meth:`configured`) with the user's prefix.
    names: NameRules
    #: Set when the target's objects cannot be empty (a class-map needs an ACL…): the limit
    #: named when the input has no active address at all.
    needs_addresses: ClassVar[str] = ""
    _options: RenderOptions | None = None

    @property
    def options(self) -> RenderOptions:
        """The options of this render: the user's (on a :meth:`configured` copy) or the defaults."""
        if self._options is None:
            return self.parse_options()
        return self._options

    def parse_options(self, prefix: str | None = None, given: Mapping[str, object] | None = None) -> RenderOptions:
        """Check a prefix and ``{key: value}`` options against this target (defaults filled in).

        Raises :class:`~wifiq.render.errors.RenderOptionError` naming the target, the key and
        what it accepts (an unknown key lists the target's known keys)."""
        default = self.names.prefix
        chosen = default
        if prefix is not None:
            chosen = check_prefix(self.info.name, prefix, self.names.allowed, self.names.case)
            if chosen != default and not self.info.prefix:
                raise RenderOptionError(
                    self.info.name, "prefix", prefix, f"{self.info.name} names no object on a device, so there is nothing to prefix"
                )
        return build_options(self.info.name, self.info.options, chosen, given)

    def configured(self, options: RenderOptions) -> Renderer:
        """This renderer with ``options`` (a copy; the shared instance keeps the defaults)."""
        if options == self.options:
            return self
        clone = copy.copy(self)
        clone.names = replace(self.names, prefix=options.prefix, _memo={})
        clone._options = options
        return clone

    def check(self, doc: RenderInput) -> None:
        """Raise :class:`TargetLimitError` if ``doc`` holds what this target cannot express."""
        for version in (4, 6):
            if version not in self.info.families and doc.addresses(version):
                raise TargetLimitError(self.info.name, f"no IPv{version} support", f"input has IPv{version} addresses")
        if self.needs_addresses and not doc.with_addresses:
            raise self.fail(self.needs_addresses, "no active addresses")

    @abstractmethod
    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        """The whole configuration for ``doc`` (safe to apply again: it replaces our objects)."""

    def delta(self, change: Delta, dscp: Dscp) -> str:
        """Only what changed, as the platform's own add/remove commands.

        The default suits targets whose device replaces the whole object (``info.delta ==
        "full"``): the delta is the full output of the current refresh.
        """
        return self.full(change.current, dscp)

    def fail(self, limit: str, detail: str) -> TargetLimitError:
        """Build the error for a limit this target cannot meet (the caller raises it)."""
        return TargetLimitError(self.info.name, limit, detail)


def header_lines(doc: RenderInput, dscp: Dscp, target: str, change: Delta | None = None) -> list[str]:
    """The provenance header every commented output starts with (text only, no comment marks)."""
    ops = doc.operators
    lines = [
        f"wifiq {doc.wifiq_version} - {target} - Wi-Fi calling (IKE udp/500, NAT-T udp/4500, ESP) marked DSCP {dscp}",
        f"refreshed {doc.refreshed_at_text}; "
        + (f"DELTA since {change.previous.refreshed_at_text}" if change else "FULL configuration"),
        f"{len(ops)} operators, {len(doc.addresses(4))} IPv4 + {len(doc.addresses(6))} IPv6 active addresses:",
    ]
    # A country or world render holds thousands of operators without addresses: name only the
    # ones with addresses (what the configuration is about) and count the rest in one line.
    listed = doc.with_addresses
    lines += [f"  {op.summary}" for op in listed]
    if len(listed) < len(ops):
        rest = len(ops) - len(listed)
        lines.append(f"  {rest} more operator{'s' if rest > 1 else ''} without active addresses (not listed)")
    if change:
        added = sum(len(c.added) for c in change.operators)
        removed = sum(len(c.removed) for c in change.operators)
        lines.append(f"changes: +{added} -{removed} addresses")
        for item in change.operators:
            moves = [f"+{a}" for a in item.added] + [f"-{a}" for a in item.removed]
            lines.append(f"  {item.current.plmn} ({item.kind}): {' '.join(moves)}")
    return lines


def commented(prefix: str, lines: list[str]) -> list[str]:
    """Prefix each header line with a comment marker (``#``, ``!``…), ASCII only."""
    return [f"{prefix} {' ' * (len(line) - len(line.lstrip()))}{ascii_text(line)}".rstrip() for line in lines]


def join_sections(files: dict[str, str]) -> str:
    """Put several files in one text, each after a ``==> name <==`` line (see split_sections)."""
    parts = []
    for name, text in files.items():
        parts.append(SECTION_MARK.format(name=name) + "\n" + text.rstrip("\n") + "\n")
    return "\n".join(parts)


def split_sections(text: str) -> dict[str, str]:
    """Inverse of :func:`join_sections`: file name → content (ends with one newline)."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("==> ") and line.endswith(" <=="):
            current = files.setdefault(line[4:-4], [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).rstrip("\n") + "\n" for name, lines in files.items()}
