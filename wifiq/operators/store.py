"""Reading wifiq's operator data file and overrides files (the on-disk formats).

Data file (JSON, written by :mod:`wifiq.operators.build`)::

    {"format": "wifiq-operators/1",
     "metadata": {... source package, version, integrity, licence, attribution, what was
                  skipped or merged ...},
     "columns": ["mcc", "mnc", "country_iso", "country", "brand", "operator", "status"],
     "operators": [["505", "01", "AU/CC/CX", "Australia", "Telstra", "Telstra …", "Operational"],
                   ...]}

Overrides file (TOML)::

    [[operator]]
    plmns = ["311-480"]          # one or more PLMNs the entry applies to
    names = ["wo.vzwwo.com"]     # extra FQDNs to resolve (optional)
    ranges = ["192.0.2.0/24"]    # CIDR ranges the operator publishes (optional)
    source = "https://…"         # where this was published (required in the embedded file;
                                 # a user file's entries default to the file's path)
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import WifiqError
from ..plmn import InvalidPlmnError, Plmn, parse_plmn
from .model import Operator, Override

FORMAT = "wifiq-operators/1"
COLUMNS = ("mcc", "mnc", "country_iso", "country", "brand", "operator", "status")
MAX_FILE_BYTES = 32 * 1024 * 1024  # far above the ~0.4 MB world list; refuses runaway input
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


class OperatorDataError(WifiqError):
    """An operator data or overrides file is unreadable or malformed; names file and problem."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = str(path)
        self.problem = problem


def read_limited(path: Path) -> bytes:
    """The bytes of ``path``, refusing files over :data:`MAX_FILE_BYTES`.

    Raises :class:`OperatorDataError` when the file is missing, unreadable or too large.
    """
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise OperatorDataError(path, err.strerror or str(err)) from err
    if len(data) > MAX_FILE_BYTES:
        raise OperatorDataError(path, f"larger than {MAX_FILE_BYTES} bytes")
    return data


def load_json(raw: bytes, origin: str | Path, what: str = "the file") -> Any:
    """``json.loads`` that raises :class:`OperatorDataError` saying ``what`` is not JSON."""
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise OperatorDataError(origin, f"{what} is not JSON ({err})") from err


def parse_data(raw: bytes, origin: str | Path) -> tuple[tuple[Operator, ...], dict[str, Any]]:
    """Parse a data file's bytes into operators and its metadata.

    Raises :class:`OperatorDataError` (naming ``origin`` and the row) on anything malformed.
    """
    doc = load_json(raw, origin)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OperatorDataError(origin, f"not a {FORMAT} data file")
    if tuple(doc.get("columns", ())) != COLUMNS:
        raise OperatorDataError(origin, f"columns must be {list(COLUMNS)}")
    rows = doc.get("operators")
    metadata = doc.get("metadata", {})
    if not isinstance(rows, list) or not isinstance(metadata, dict):
        raise OperatorDataError(origin, "'operators' must be a list and 'metadata' an object")
    operators = []
    for index, row in enumerate(rows):
        if (not isinstance(row, list) or len(row) != len(COLUMNS)
                or not all(isinstance(v, str) for v in row[:4])
                or not all(v is None or isinstance(v, str) for v in row[4:])):
            raise OperatorDataError(origin, f"operators[{index}] is not a row of {list(COLUMNS)}")
        try:
            plmn = Plmn(row[0], row[1])
        except InvalidPlmnError as err:
            raise OperatorDataError(origin, f"operators[{index}]: {err}") from err
        operators.append(Operator(plmn, row[2], row[3], row[4], row[5], row[6]))
    return tuple(operators), metadata


def read_data_file(path: Path) -> tuple[tuple[Operator, ...], dict[str, Any]]:
    """Read and parse a data file; raises :class:`OperatorDataError`."""
    return parse_data(read_limited(path), path)


def check_fqdn(name: str) -> str:
    """Lower-case ``name`` and check it is a DNS host name; raises ValueError saying why."""
    fqdn = name.strip().rstrip(".").lower()
    if not fqdn or len(fqdn) > 253:
        raise ValueError(f"{name!r} is not a host name (1 to 253 characters)")
    if not all(_LABEL.fullmatch(label) for label in fqdn.split(".")):
        raise ValueError(f"{name!r} is not a host name (letters, digits, hyphens; dot-separated)")
    return fqdn


def check_range(text: str) -> str:
    """Normalise a CIDR range ("208.54.0.0/17"); raises ValueError for host bits or junk."""
    try:
        return str(ipaddress.ip_network(text.strip(), strict=True))
    except ValueError as err:
        raise ValueError(f"{text!r} is not a CIDR range ({err})") from err


def _string_list(entry: Mapping[str, Any], key: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"'{key}' must be a list of strings")
    return value


def parse_overrides(text: str, origin: str | Path, *, require_source: bool) -> tuple[Override, ...]:
    """Parse an overrides TOML document into one :class:`Override` per (entry, PLMN).

    ``require_source``: entries must carry ``source`` (the embedded file); otherwise a missing
    source defaults to ``origin``. Raises :class:`OperatorDataError` naming the entry.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise OperatorDataError(origin, f"not TOML ({err})") from err
    entries = doc.get("operator", [])
    unknown = set(doc) - {"operator"}
    if unknown or not isinstance(entries, list):
        raise OperatorDataError(origin, "expected only [[operator]] tables")
    out: list[Override] = []
    for index, entry in enumerate(entries):
        where = f"operator[{index}]"
        try:
            if not isinstance(entry, dict):
                raise ValueError("must be a table")
            extra = set(entry) - {"plmns", "names", "ranges", "source", "note"}
            if extra:
                raise ValueError(f"unknown keys {sorted(extra)}")
            plmns = [parse_plmn(p) for p in _string_list(entry, "plmns")]
            if not plmns:
                raise ValueError("'plmns' must list at least one PLMN")
            names = tuple(dict.fromkeys(check_fqdn(n) for n in _string_list(entry, "names")))
            ranges = tuple(dict.fromkeys(check_range(r) for r in _string_list(entry, "ranges")))
            if not names and not ranges:
                raise ValueError("give 'names' or 'ranges'")
            source = entry.get("source", None if require_source else str(origin))
            if not isinstance(source, str) or not source.strip():
                raise ValueError("'source' must say where this was published")
        except (ValueError, InvalidPlmnError) as err:
            raise OperatorDataError(origin, f"{where}: {err}") from err
        out.extend(Override(plmn, names, ranges, source.strip()) for plmn in plmns)
    return tuple(out)


def read_overrides_file(path: Path, *, require_source: bool = False) -> tuple[Override, ...]:
    """Read and parse an overrides TOML file; raises :class:`OperatorDataError`."""
    raw = read_limited(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise OperatorDataError(path, "not UTF-8 text") from err
    return parse_overrides(text, path, require_source=require_source)
