"""Where things are printed, the same in both tools: data on stdout, messages on stderr.

``emit_json`` writes one JSON document (the ``--json`` contract); ``message`` writes one
``<prog>: <text>`` line for people. No click here, so library code may report through callers.

The JSON is strict (RFC 8259 and I-JSON, RFC 7493): ASCII, and no string holds a lone
surrogate. Python carries text it could not decode that way — a file name that is not UTF-8
(``os.fsdecode`` turns byte 0xff into U+DCFF) — and ``json.dumps`` would write it as a
``\udcff`` escape, which strict parsers refuse and others read into a string that cannot be
encoded again. :func:`json_text` writes every surrogate as U+FFFD (the replacement character)
instead. Text decoded from input files never holds one: the decoders replace what is invalid.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any, TextIO


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_replace_surrogates(k): _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_surrogates(v) for v in value]
    return value


def json_text(value: Any, *, indent: int | None = None, ensure_ascii: bool = True) -> str:
    """``json.dumps(value)`` with every surrogate code point in a string (key or value) written
    as U+FFFD, so the document is strict JSON (see the module docstring)."""
    text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)
    found = _ESCAPED_SURROGATE.search(text) if ensure_ascii else _SURROGATE.search(text)
    if found is None:  # the usual case: one pass, nothing to replace
        return text
    return json.dumps(_replace_surrogates(value), indent=indent, ensure_ascii=ensure_ascii)


def emit_json(value: Any, *, indent: int | None = None, ensure_ascii: bool = True,
              stream: TextIO | None = None) -> None:
    """Write ``value`` as one strict JSON document (:func:`json_text`) and a newline on stdout
    (or ``stream``)."""
    out = sys.stdout if stream is None else stream
    out.write(json_text(value, indent=indent, ensure_ascii=ensure_ascii) + "\n")
    out.flush()


def message(prog: str, text: str, *, stream: TextIO | None = None) -> None:
    """Write ``<prog>: <text>`` as one line on stderr (or ``stream``)."""
    out = sys.stderr if stream is None else stream
    out.write(f"{prog}: {text}\n")
    out.flush()
