"""Where things are printed, the same in both tools: data on stdout, messages on stderr.

``emit_json`` writes one JSON document (the ``--json`` contract); ``message`` writes one
``<prog>: <text>`` line for people. No click here, so library code may report through callers.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def emit_json(value: Any, *, indent: int | None = None, ensure_ascii: bool = True,
              stream: TextIO | None = None) -> None:
    """Write ``value`` as one JSON document and a newline on stdout (or ``stream``)."""
    out = sys.stdout if stream is None else stream
    out.write(json.dumps(value, indent=indent, ensure_ascii=ensure_ascii) + "\n")
    out.flush()


def message(prog: str, text: str, *, stream: TextIO | None = None) -> None:
    """Write ``<prog>: <text>`` as one line on stderr (or ``stream``)."""
    out = sys.stderr if stream is None else stream
    out.write(f"{prog}: {text}\n")
    out.flush()
