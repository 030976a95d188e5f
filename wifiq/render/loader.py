"""Read a ``wifiq resolve --json`` / ``wifiq refresh --json`` document into a RenderInput.

Contract (extra keys are ignored): ``{"refreshed_at": ISO-8601 UTC, "wifiq_version": str,
"operators": [{"plmn": "505-01", "brand": str|null, "operator": str|null, "active": [addr…],
"removed": [{"address": addr, …}|addr…] (optional), "had_addresses": bool (optional)}]}``.

``removed`` (what ``wifiq refresh --json`` lists as gone in that refresh) and ``had_addresses``
(written by the state reader, :mod:`wifiq.render_state`, for every operator whose history holds
an address) tell that an operator had addresses before: a full output removes the objects of
those operators and of operators with addresses, and names no other operator
(:attr:`~wifiq.render.model.OperatorAddresses.had_addresses`).
Every problem raises :class:`RenderInputError` naming the file and the field; files larger than
:data:`MAX_INPUT_BYTES` are refused before they are read.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..unicast import not_remote
from .errors import RenderInputError
from .model import IPAddress, OperatorAddresses, RenderInput, address_sort_key, parse_address

#: The largest input accepted (the whole world is well under 1 MiB; 64 MiB bounds memory).
MAX_INPUT_BYTES = 64 * 1024 * 1024
_PLMN = re.compile(r"^([0-9]{3})-([0-9]{2,3})$")
_MAX_NAME = 200


def load_render_input(path: str | Path) -> RenderInput:
    """Read and parse the JSON file at ``path`` (``-`` reads standard input).

    Raises :class:`RenderInputError` if the file is missing, too large, not JSON or malformed.
    """
    source = str(path)
    try:
        if source == "-":
            raw = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_INPUT_BYTES + 1)
    except OSError as err:
        raise RenderInputError(source, "file", err.strerror or str(err)) from None
    if len(raw) > MAX_INPUT_BYTES:
        raise RenderInputError(source, "file", f"larger than {MAX_INPUT_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RenderInputError(source, "file", f"not JSON ({err})") from None
    return parse_render_input(document, source)


def parse_render_input(document: Any, source: str = "<input>") -> RenderInput:
    """Validate a decoded JSON document and build the typed model (see module docstring)."""
    if not isinstance(document, dict):
        raise RenderInputError(source, "(top level)", "expected a JSON object")
    refreshed_at = _timestamp(source, document.get("refreshed_at"))
    version = document.get("wifiq_version")
    if not isinstance(version, str) or not version or len(version) > 64:
        raise RenderInputError(source, "wifiq_version", "expected a non-empty string")
    operators = document.get("operators")
    if not isinstance(operators, list):
        raise RenderInputError(source, "operators", "expected a list")
    parsed: dict[str, OperatorAddresses] = {}
    for index, entry in enumerate(operators):
        op = _operator(source, f"operators[{index}]", entry)
        if op.plmn in parsed:
            raise RenderInputError(source, f"operators[{index}].plmn", f"duplicate PLMN {op.plmn}")
        parsed[op.plmn] = op
    ordered = tuple(parsed[p] for p in sorted(parsed, key=lambda p: (p[:3], len(p), p)))
    return RenderInput(operators=ordered, refreshed_at=refreshed_at, wifiq_version=version)


def _timestamp(source: str, value: Any) -> datetime:
    if not isinstance(value, str):
        raise RenderInputError(source, "refreshed_at", "expected an ISO-8601 UTC timestamp")
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise RenderInputError(source, "refreshed_at", f"not an ISO-8601 time: {value!r}") from None
    if stamp.tzinfo is None:
        raise RenderInputError(source, "refreshed_at", f"no time zone in {value!r} (want UTC)")
    return stamp.astimezone(timezone.utc)


def _name(source: str, where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _MAX_NAME:
        raise RenderInputError(source, where, f"expected a string of at most {_MAX_NAME} characters or null")
    value = " ".join(value.split())
    return value or None


def _operator(source: str, where: str, entry: Any) -> OperatorAddresses:
    if not isinstance(entry, dict):
        raise RenderInputError(source, where, "expected an object")
    plmn = entry.get("plmn")
    match = _PLMN.match(plmn) if isinstance(plmn, str) else None
    if match is None:
        raise RenderInputError(source, f"{where}.plmn", f"expected 'MCC-MNC' like '505-01', got {plmn!r}")
    active = entry.get("active")
    if not isinstance(active, list):
        raise RenderInputError(source, f"{where}.active", "expected a list of IP addresses")
    addresses: set[IPAddress] = set()
    for i, text in enumerate(active):
        try:
            if not isinstance(text, str):
                raise ValueError
            address = parse_address(text)
        except ValueError:
            raise RenderInputError(source, f"{where}.active[{i}]", f"not an IP address: {text!r}") from None
        if not_remote(address) or "%" in text:  # the same classes `wifiq probe` skips in a state
            raise RenderInputError(source, f"{where}.active[{i}]", f"not a unicast ePDG address: {text}")
        addresses.add(address)
    return OperatorAddresses(
        plmn=match.group(0),
        mcc=match.group(1),
        mnc=match.group(2),
        brand=_name(source, f"{where}.brand", entry.get("brand")),
        operator=_name(source, f"{where}.operator", entry.get("operator")),
        addresses=tuple(sorted(addresses, key=address_sort_key)),
        had_addresses=_had_addresses(source, where, entry),
    )


def _had_addresses(source: str, where: str, entry: dict[str, Any]) -> bool:
    """True when the entry says the operator had addresses before: a ``removed`` entry (an
    address, or an object with an ``address``, as refresh prints it) or ``had_addresses: true``."""
    had = entry.get("had_addresses", False)
    if not isinstance(had, bool):
        raise RenderInputError(source, f"{where}.had_addresses", f"expected true or false, got {had!r}")
    removed = entry.get("removed", [])
    if not isinstance(removed, list):
        raise RenderInputError(source, f"{where}.removed", "expected a list of removed addresses")
    for i, item in enumerate(removed):
        text = item.get("address") if isinstance(item, dict) else item
        try:
            if not isinstance(text, str):
                raise ValueError
            parse_address(text)
        except ValueError:
            raise RenderInputError(
                source, f"{where}.removed[{i}]", f"expected an address or {{\"address\": …}}, got {item!r}"
            ) from None
    return had or bool(removed)
