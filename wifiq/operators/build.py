"""Build wifiq's operator data file from the npm package ``mcc-mnc-list`` (Wikipedia data).

Input: the package tarball from ``npm pack mcc-mnc-list@<version>`` (its version is read from
``package/package.json`` and its npm ``integrity`` — sha512 of the tarball — is recomputed and
recorded), or the bare ``mcc-mnc-list.json`` (its own sha512 is recorded instead).

What the build does to the rows (each decision is counted in the output's metadata):

- text fields: whitespace trimmed and runs collapsed ("Cable &  Wireless"); empty → null;
- MNCs that are not 2 or 3 digits are skipped with the reason: ranges ("100 - 190"),
  placeholders ("?"), and the French 5-digit sub-allocations ("50144");
- rows without a country code (MCC 001/999 test, 901/902/991/995 international) get
  ``country_iso`` "" and ``country`` "International" or "Test network";
- rows identical after clean-up are merged; one PLMN listed for several territories
  (234-50 in GG, JE and GB) keeps a row per territory, listed under ``shared_plmns``.

Run: ``python -m wifiq.operators.build mcc-mnc-list-1.1.11.tgz --out wifiq/operators/data/mcc-mnc.json``
or ``wifiq operators update --from FILE``.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import json
import re
import sys
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..plmn import Plmn
from .load import install_data_file
from .store import (
    COLUMNS,
    FORMAT,
    MAX_FILE_BYTES,
    OperatorDataError,
    load_json,
    parse_data,
    read_limited,
)

PACKAGE = "mcc-mnc-list"
TARBALL_DATA = "package/mcc-mnc-list.json"
TARBALL_MANIFEST = "package/package.json"
LICENCE = "CC BY-SA 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
ATTRIBUTION = (
    "MCC/MNC data from the English Wikipedia articles \"Mobile country code\" and \"Mobile "
    "Network Codes in ITU region 2xx-7xx\" (https://en.wikipedia.org/wiki/Mobile_country_code), "
    "by Wikipedia contributors, licensed CC BY-SA 4.0; collected by the npm package "
    "mcc-mnc-list (Peter Bakondy, code MIT) and converted by wifiq.operators.build "
    "(changes listed in this file's metadata). This file is shared under CC BY-SA 4.0."
)
_NO_COUNTRY = {"International": "International", "Test": "Test network"}
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SourceFile:
    """The ``mcc-mnc-list`` records read from a tarball or JSON file, with their provenance."""

    records: list[Any]
    path: str
    version: str | None
    integrity: str  # "sha512-<base64>" of the tarball (npm's dist.integrity) or of the JSON
    integrity_of: str  # "tarball" or "json"


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def _member(archive: tarfile.TarFile, name: str, path: Path) -> bytes:
    try:
        member = archive.getmember(name)
    except KeyError as err:
        raise OperatorDataError(path, f"the tarball has no {name}") from err
    if not member.isfile() or member.size > MAX_FILE_BYTES:
        raise OperatorDataError(path, f"{name} is not a regular file under {MAX_FILE_BYTES} bytes")
    handle = archive.extractfile(member)
    if handle is None:
        raise OperatorDataError(path, f"cannot read {name}")
    return handle.read(MAX_FILE_BYTES + 1)


def read_source(path: Path) -> SourceFile:
    """Read an ``npm pack`` tarball or a bare ``mcc-mnc-list.json``.

    Raises :class:`OperatorDataError` naming the file and the problem.
    """
    raw = read_limited(path)
    version: str | None = None
    if raw[:2] == b"\x1f\x8b":
        try:
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as archive:
                data = _member(archive, TARBALL_DATA, path)
                manifest = _member(archive, TARBALL_MANIFEST, path)
        except (tarfile.TarError, OSError, EOFError) as err:
            raise OperatorDataError(path, f"not a readable npm tarball ({err})") from err
        meta = load_json(manifest, path, TARBALL_MANIFEST)
        if not isinstance(meta, dict) or meta.get("name") != PACKAGE:
            raise OperatorDataError(path, f"not the {PACKAGE} package")
        version = str(meta.get("version")) if meta.get("version") else None
        integrity, integrity_of = _integrity(raw), "tarball"
    else:
        data = raw
        integrity, integrity_of = _integrity(raw), "json"
    records = load_json(data, path, f"the {PACKAGE} data")
    if not isinstance(records, list):
        raise OperatorDataError(path, f"the {PACKAGE} data must be a JSON array of records")
    return SourceFile(records, str(path), version, integrity, integrity_of)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    cleaned = _SPACES.sub(" ", value).strip()
    return cleaned or None


def _row(record: Any) -> tuple[list[str | None] | None, str]:
    """One source record → a data row, or None and why it was skipped."""
    if not isinstance(record, dict):
        return None, "not a JSON object"
    mcc, mnc = _text(record.get("mcc")), _text(record.get("mnc"))
    if mcc is None or not (len(mcc) == 3 and mcc.isascii() and mcc.isdigit()):
        return None, f"MCC {mcc!r} is not 3 digits"
    if mnc is None or not (len(mnc) in (2, 3) and mnc.isascii() and mnc.isdigit()):
        return None, f"MNC {mnc!r} is not 2 or 3 digits"
    iso = (_text(record.get("countryCode")) or "").upper()
    kind = _text(record.get("type")) or ""
    country = _text(record.get("countryName")) or _NO_COUNTRY.get(kind, "")
    return [mcc, mnc, iso, country, _text(record.get("brand")), _text(record.get("operator")),
            _text(record.get("status"))], ""


def build_document(source: SourceFile, *, retrieved: str) -> dict[str, Any]:
    """The data-file document (see :mod:`wifiq.operators.store`) for ``source``'s records."""
    rows: list[list[str | None]] = []
    seen: set[tuple[str | None, ...]] = set()
    skipped: list[dict[str, Any]] = []
    merged: list[dict[str, Any]] = []
    for index, record in enumerate(source.records):
        row, reason = _row(record)
        if row is None:
            where = record if isinstance(record, dict) else {}
            skipped.append({"index": index, "mcc": where.get("mcc"), "mnc": where.get("mnc"),
                            "operator": where.get("operator"), "reason": reason})
            continue
        key = tuple(row)
        if key in seen:
            merged.append({"index": index, "plmn": f"{row[0]}-{row[1]}", "country_iso": row[2]})
            continue
        seen.add(key)
        rows.append(row)
    rows.sort(key=lambda r: (Plmn(str(r[0]), str(r[1])), str(r[2]), str(r[5] or "")))
    territories: dict[str, list[str]] = {}
    for row in rows:
        territories.setdefault(f"{row[0]}-{row[1]}", []).append(str(row[2]))
    shared = {plmn: isos for plmn, isos in territories.items() if len(isos) > 1}
    metadata = {
        "source": {
            "package": PACKAGE,
            "version": source.version,
            "integrity": source.integrity,
            "integrity_of": source.integrity_of,
            "file": Path(source.path).name,
            "retrieved": retrieved,
        },
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": ATTRIBUTION,
        "built_by": "wifiq.operators.build",
        "rows_in": len(source.records),
        "rows_out": len(rows),
        "plmns": len(territories),
        "skipped": skipped,
        "merged_identical": merged,
        "shared_plmns": shared,
    }
    return {"format": FORMAT, "metadata": metadata, "columns": list(COLUMNS), "operators": rows}


def render_document(doc: dict[str, Any]) -> str:
    """JSON text with one operator row per line, so updates diff readably."""
    head = {key: value for key, value in doc.items() if key != "operators"}
    body = ",\n".join("  " + json.dumps(row, ensure_ascii=False) for row in doc["operators"])
    text = json.dumps(head, ensure_ascii=False, indent=1)
    return text[:-1].rstrip() + ',\n "operators": [\n' + body + "\n ]\n}\n"


def build_file(source_path: Path, *, retrieved: str | None = None) -> tuple[str, dict[str, Any]]:
    """Read ``source_path``, build and render the data file; the text is re-parsed as a check.

    Returns ``(text, metadata)``. Raises :class:`OperatorDataError` on bad input or when no
    row survives, :class:`~wifiq.errors.UsageError` for a malformed ``retrieved`` date.
    """
    if retrieved is not None:
        try:
            dt.date.fromisoformat(retrieved)
        except ValueError as err:
            raise UsageError(f"invalid date {retrieved!r}: expected YYYY-MM-DD") from err
    source = read_source(source_path)
    date = retrieved or dt.datetime.now(dt.timezone.utc).date().isoformat()
    doc = build_document(source, retrieved=date)
    if not doc["operators"]:
        raise OperatorDataError(source_path, "no usable MCC/MNC rows")
    text = render_document(doc)
    parse_data(text.encode("utf-8"), source_path)
    return text, doc["metadata"]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m wifiq.operators.build SOURCE --out PATH`` (used to make the embedded file)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="npm pack tarball or mcc-mnc-list.json")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--retrieved", help="date the source was fetched (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    try:
        text, meta = build_file(args.source, retrieved=args.retrieved)
        install_data_file(text, args.out)
    except (OperatorDataError, UsageError) as err:
        print(f"build: error: {err}", file=sys.stderr)
        return 1
    print(f"{args.out}: {meta['rows_out']} rows ({meta['plmns']} PLMNs) from "
          f"{meta['rows_in']}; {len(meta['skipped'])} skipped, "
          f"{len(meta['merged_identical'])} merged", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
