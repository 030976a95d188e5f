"""Object names derived from operator and MCC/MNC, sanitised per platform's length and charset.

A name is ``<prefix><sep><mcc><sep><mnc>[<sep><brand>][<sep><suffix>]``; the PLMN part always
survives (it makes names unique), the brand is transliterated to ASCII, unsupported characters
become the separator, and the brand is shortened first when the platform's limit is reached.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .model import OperatorAddresses


@dataclass(frozen=True)
class NameRules:
    """One platform's naming limits: maximum length, allowed characters, separator, case."""

    max_length: int
    allowed: str = "A-Za-z0-9_-"
    separator: str = "-"
    case: str = "keep"  # "upper", "lower" or "keep"
    prefix: str = "wifiq"
    _memo: dict[tuple[str, ...], str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def clean(self, text: str) -> str:
        """Transliterate to ASCII and replace every disallowed run with the separator."""
        key = ("clean", text)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._clean_uncached(text)
        return found

    def _clean_uncached(self, text: str) -> str:
        cleaned = re.sub(f"[^{self.allowed}]+", self.separator, ascii_text(text)).strip(self.separator + "_-.")
        if self.case == "upper":
            cleaned = cleaned.upper()
        elif self.case == "lower":
            cleaned = cleaned.lower()
        return cleaned

    def fixed(self, *parts: str) -> str:
        """A name from fixed parts (``wifiq``, ``epdg``…), cleaned and checked against the limit."""
        key = ("fixed", *parts)
        found = self._memo.get(key)
        if found is not None:
            return found
        name = self._memo[key] = self.separator.join(self.clean(p) for p in (self.prefix, *parts) if p)
        if len(name) > self.max_length:
            raise ValueError(f"fixed name {name!r} longer than {self.max_length}")
        return name

    def operator(self, op: OperatorAddresses, suffix: str = "") -> str:
        """The object name of one operator (plus an optional suffix such as ``v6``)."""
        key = (op.mcc, op.mnc, op.brand or op.operator or "", suffix)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self._operator_uncached(*key)
        return found

    def address_object(self, op: OperatorAddresses, address_text: str) -> str:
        """Name of a per-address object: operator name + the address (``:`` → ``.``).

        Room is kept for the longest address of the family (15 / 39 characters), so all of an
        operator's objects share one prefix; the address part keeps every name unique.
        """
        reserve = 15 if "." in address_text and ":" not in address_text else 39
        key = ("address-prefix", op.mcc, op.mnc, op.brand or op.operator or "", str(reserve))
        prefix = self._memo.get(key)
        if prefix is None:
            placeholder = self._operator_uncached(op.mcc, op.mnc, op.brand or op.operator or "", "x" * reserve)
            prefix = self._memo[key] = placeholder[: -reserve - len(self.separator)]
        return f"{prefix}{self.separator}{self.clean(address_text.replace(':', '.'))}"

    def _operator_uncached(self, mcc: str, mnc: str, label: str, suffix: str) -> str:
        sep = self.separator
        head = f"{self.clean(self.prefix)}{sep}{mcc}{sep}{mnc}"  # digits: nothing to clean
        tail = sep + self.clean(suffix) if suffix else ""
        room = self.max_length - len(head) - len(tail) - len(sep)
        brand = self.clean(label)
        if room <= 0 or not brand:
            name = head + tail
        else:
            name = head + sep + brand[:room].rstrip(sep + "_-.") + tail
        if len(name) > self.max_length:
            raise ValueError(f"name {name!r} longer than {self.max_length}")
        return name


#: Control characters become spaces (then runs of spaces collapse).
_CONTROL = {**dict.fromkeys(range(32), " "), 127: " "}


@lru_cache(maxsize=65536)
def ascii_text(text: str) -> str:
    """Transliterate to printable ASCII (é → e; other characters dropped), spaces collapsed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    if not text.isprintable():
        text = text.translate(_CONTROL)
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def quote_comment(text: str, max_length: int, forbidden: str = '"\\') -> str:
    """Make free text safe inside a double-quoted comment: ASCII, no quotes; cut to the limit."""
    safe = ascii_text(text).translate({ord(ch): None for ch in forbidden})
    return safe[:max_length].rstrip()
