"""Per-target render options: the owned-name prefix and the names the user fits to the device.

Every target may declare :class:`OptionSpec` entries in its :class:`~wifiq.render.base.RendererInfo`
(``options``): a key, a safe default, a one-line help and how a value is checked. The user sets
them with ``wifiq render TARGET --prefix P --option KEY=VALUE`` or in a config ``[[outputs]]``
entry (``prefix = "acme"``, ``[outputs.options]``). A renderer reads them from one typed, frozen
:class:`RenderOptions` (``self.options``); unknown keys and bad values raise
:class:`RenderOptionError` naming the target, the key and what is accepted.

The prefix starts every object name the target creates (``wifiq-505-01-telstra-v4``,
``WIFIQ-EPDG``): it is how the output — and the user — tell wifiq's objects from everyone
else's. It is checked against the target's name rules (its character set and case).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import UsageError
from .errors import RenderOptionError

#: The longest prefix accepted: every target keeps room for the PLMN, a suffix and its own words.
MAX_PREFIX = 16
_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*")


@dataclass(frozen=True)
class OptionSpec:
    """One option a target accepts.

    ``kind``: ``"name"`` (an object name on the device: ``pattern`` must match the whole value),
    ``"choice"`` (one of ``choices``) or ``"integer"`` (``minimum``..``maximum``). ``default``
    may contain ``{prefix}`` (replaced by the render's prefix) or be empty (meaning "none").
    """

    key: str
    default: str
    help: str
    kind: str = "name"
    pattern: str = r"[A-Za-z][A-Za-z0-9_.-]{0,62}"
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0
    expect: str = ""
    """What a ``name`` value looks like, in words, for the error (default: the pattern)."""

    def check(self, target: str, value: str) -> str:
        """The value, checked (raises :class:`RenderOptionError` with what is accepted).

        An empty default (``""``: "none", e.g. no class to insert before) is also accepted."""
        if value == "" and self.default == "":
            return value
        if self.kind == "choice":
            if value not in self.choices:
                raise RenderOptionError(target, self.key, value, f"expected one of {', '.join(self.choices)}")
            return value
        if self.kind == "integer":
            if not re.fullmatch(r"[0-9]{1,10}", value) or not self.minimum <= int(value) <= self.maximum:
                raise RenderOptionError(target, self.key, value, f"expected a number {self.minimum}-{self.maximum}")
            return str(int(value))
        if not re.fullmatch(self.pattern, value):
            raise RenderOptionError(target, self.key, value, f"expected {self.expect or 'a name matching ' + self.pattern}")
        return value

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form for ``wifiq formats --json``."""
        out: dict[str, object] = {"key": self.key, "default": self.default, "help": self.help, "kind": self.kind}
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        elif self.kind == "integer":
            out["minimum"], out["maximum"] = self.minimum, self.maximum
        else:
            out["pattern"] = self.pattern
        return out

    def describe(self, default: str | None = None) -> str:
        """One line for ``wifiq formats``: ``policy-map=WIFIQ-EPDG-MARK  help`` (``default``: the
        default with the prefix filled in; an empty one shows as ``(none)``)."""
        shown = self.default if default is None else default
        accepted = f" ({'|'.join(self.choices)})" if self.kind == "choice" else ""
        return f"{self.key}={shown or '(none)'}{accepted}  {self.help}"


@dataclass(frozen=True)
class RenderOptions:
    """The options one render uses: the owned-name ``prefix`` (in the target's case) and every
    declared option's value (defaults filled in). Hashable, so configured renderers are cached."""

    prefix: str
    values: tuple[tuple[str, str], ...] = ()
    target: str = ""
    """The target these options were checked for (``render`` refuses them for another)."""

    def get(self, key: str) -> str:
        """The value of a declared option (KeyError for an undeclared key: a renderer bug)."""
        for name, value in self.values:
            if name == key:
                return value
        raise KeyError(key)

    def integer(self, key: str) -> int:
        """The value of an ``integer`` option."""
        return int(self.get(key))

    def as_dict(self) -> dict[str, str]:
        """``{"prefix": …, key: value…}`` (for JSON output and headers)."""
        return {"prefix": self.prefix, **dict(self.values)}


def check_prefix(target: str, prefix: str, allowed: str, case: str) -> str:
    """The prefix in the target's case, or :class:`RenderOptionError` if the target cannot name
    objects with it (its character set) or it is not a plain word (letters, digits, ``-``/``_``
    inside, starting with a letter, at most :data:`MAX_PREFIX` characters)."""
    if not _PREFIX.fullmatch(prefix) or len(prefix) > MAX_PREFIX:
        raise RenderOptionError(
            target,
            "prefix",
            prefix,
            f"expected a letter then letters/digits, '-' or '_' inside, at most {MAX_PREFIX} characters",
        )
    if not re.fullmatch(f"[{allowed}]+", prefix):
        raise RenderOptionError(target, "prefix", prefix, f"{target} names allow only [{allowed}]")
    return prefix.upper() if case == "upper" else prefix.lower() if case == "lower" else prefix


def build_options(
    target: str,
    specs: tuple[OptionSpec, ...],
    prefix: str,
    given: Mapping[str, object] | None,
) -> RenderOptions:
    """Check ``given`` (``{key: value}``; values str or int) against a target's ``specs`` and
    fill in the defaults. Raises :class:`RenderOptionError` for an unknown key (naming the
    target's known keys) or a bad value."""
    by_key = {spec.key: spec for spec in specs}
    # A default may follow the prefix: "{prefix}-EPDG-MARK" becomes "ACME-EPDG-MARK".
    values = {spec.key: spec.default.replace("{prefix}", prefix) for spec in specs}
    for key, raw in (given or {}).items():
        spec = by_key.get(key)
        if spec is None:
            known = f"known: {', '.join(by_key)}" if by_key else f"{target} has none"
            raise RenderOptionError(target, key, str(raw), f"unknown option ({known})")
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise RenderOptionError(target, key, str(raw), "expected a string or a number")
        values[key] = spec.check(target, str(raw))
    return RenderOptions(prefix=prefix, values=tuple(values.items()), target=target)


def parse_option_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["policy-map=VOICE", …]`` from the command line → ``{"policy-map": "VOICE"}``.

    Raises :class:`~wifiq.errors.UsageError` for an item without ``=`` or a key given twice."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--option {pair!r}: expected KEY=VALUE")
        if key in out:
            raise UsageError(f"--option {key}: given twice")
        out[key] = value
    return out
