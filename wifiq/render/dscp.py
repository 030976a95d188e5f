"""DSCP code points by name or number, validated once for every renderer.

Names follow RFC 2474/2597/3246/5865 (``ef``, ``af11``…``af43``, ``cs0``…``cs7``, ``va``,
``default``/``be``). ``iptables`` accepts unknown class names silently, so we check here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import DscpError

_NAMED: dict[str, int] = {
    "default": 0,
    "be": 0,
    **{f"cs{i}": i * 8 for i in range(8)},
    **{f"af{c}{d}": c * 8 + d * 2 for c in range(1, 5) for d in range(1, 4)},
    "va": 44,
    "ef": 46,
}
#: The name we print for each value that has one (``cs0`` is printed as ``default``).
_CANONICAL: dict[int, str] = {}
for _name, _value in _NAMED.items():
    if _name not in ("be", "cs0"):
        _CANONICAL.setdefault(_value, _name)

#: 802.1p / WMM user priority for a DSCP (RFC 8325 §4.3 table; others by class selector bits).
_RFC8325_UP = {46: 6, 44: 6, 48: 7, 56: 7, 40: 5, 34: 4, 36: 4, 38: 4, 32: 4, 8: 1, 0: 0}


@dataclass(frozen=True)
class Dscp:
    """A validated DSCP: its 6-bit ``value`` and standard ``name`` if it has one."""

    value: int
    name: str | None

    @property
    def bits(self) -> str:
        """Six binary digits, as FortiOS wants them (EF → ``101110``)."""
        return f"{self.value:06b}"

    @property
    def user_priority(self) -> int:
        """802.1p / WMM user priority that goes with this DSCP (EF → 6, per RFC 8325)."""
        return _RFC8325_UP.get(self.value, self.value >> 3)

    def name_or_value(self, upper: bool = False) -> str:
        """The keyword every vendor knows (``ef``, ``af41``, ``cs5``) if there is one, else the
        number (``45``; also ``va`` and ``default``, which not every CLI accepts by name)."""
        if self.name is None or self.name in ("default", "va"):
            return str(self.value)
        return self.name.upper() if upper else self.name

    def __str__(self) -> str:
        return f"{self.name} ({self.value})" if self.name else str(self.value)


EF = Dscp(46, "ef")
_HEX = frozenset("0123456789abcdef")


def parse_dscp(value: str | int) -> Dscp:
    """Parse ``ef``, ``EF``, ``46``, ``0x2e`` or an int into a :class:`Dscp`.

    Raises :class:`DscpError` for unknown names and numbers outside 0–63.
    """
    if isinstance(value, bool):
        raise DscpError(str(value), "expected a DSCP name or a number 0-63")
    if isinstance(value, int):
        number = value
    else:
        text = value.strip().lower()
        if text in _NAMED:
            number = _NAMED[text]
        elif text.isascii() and (text.isdigit() or (
                text.startswith("0x") and len(text) > 2 and all(c in _HEX for c in text[2:]))):
            number = int(text, 0)  # plain ASCII digits or 0x hex only (not 0b, 0o, '_', '４')
        elif text[:1].isdigit():
            raise DscpError(value, "expected a number 0-63 in plain digits (or 0x hex)")
        else:
            names = ", ".join(sorted(n for n in _NAMED if n != "cs0"))
            raise DscpError(value, f"unknown DSCP name (known: {names})")
    if not 0 <= number <= 63:
        raise DscpError(str(value), "a DSCP is 6 bits: 0-63")
    return Dscp(number, _CANONICAL.get(number))
