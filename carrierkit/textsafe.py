"""Make input-derived text safe to print on one line of a terminal.

Every string that comes from an input file (a certificate's DN, an alias, a ZIP entry name, a
package name, a path) goes through :func:`escape_controls` before it is printed in text output:
a character that is not printable — C0/C1 controls (newline, CR, ESC, NUL, DEL), format
characters (bidi overrides and isolates, zero-width characters), line/paragraph separators,
lone surrogates, unassigned code points, and spaces other than U+0020 — is written as a Python
escape (``\\n``, ``\\x1b``, ``\\u202e``). So no input can start a new line, move the cursor,
hide text or reorder what a terminal shows: a line that looks like one of ours is one of ours.
Backslashes are left as they are (Java-style DNs use them), so the form is not reversible; the
``--json`` output (``json.dumps``, ASCII only) is the exact one.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_controls(text: str) -> str:
    """``text`` with every non-printable character escaped (unchanged when all are printable)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)
