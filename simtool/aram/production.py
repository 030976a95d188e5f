"""Production-line mode of ``aram apply --watch``: for each card inserted, apply and verify the
rules, append ICCID and outcome to a CSV audit log, wait for removal, continue.

The loop is driven through two callables so the card handling stays in one place: ``wait``
(block until a card is present / absent) and ``process`` (apply to the card now present,
returning (iccid, result, detail)). Every card gets exactly one CSV row, failures included.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .errors import OutputFileError

CSV_FIELDS = ("time_utc", "reader", "iccid", "result", "added", "deleted", "detail")


@dataclass(frozen=True)
class CardOutcome:
    """One line of the audit log."""

    iccid: str | None
    result: str  # "applied", "unchanged" or "failed"
    added: int = 0
    deleted: int = 0
    detail: str = ""


def check_audit_log(path: Path) -> None:
    """Make sure ``path`` can take rows before the first card is touched, without creating it
    (a run that serves no card leaves no file). Raises OutputFileError naming the path and the
    reason (missing folder, a folder in the way, no permission)."""
    if path.exists():
        try:
            with open(path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None
        return
    folder = path.parent
    if not folder.is_dir():
        raise OutputFileError("audit log", str(path), f"no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError("audit log", str(path), f"folder {folder} is not writable")


def append_audit(path: Path, reader: str, outcome: CardOutcome) -> None:
    """Append one CSV row (header first when the file is new), flushed to disk.

    Raises OutputFileError when the file cannot be written (e.g. the disk filled up).
    """
    try:
        _append_row(path, reader, outcome)
    except OSError as exc:
        raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None


def _append_row(path: Path, reader: str, outcome: CardOutcome) -> None:
    new = not path.exists() or path.stat().st_size == 0
    buf = io.StringIO()
    writer = csv.writer(buf)
    if new:
        writer.writerow(CSV_FIELDS)
    writer.writerow((
        datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), reader, outcome.iccid or "",
        outcome.result, outcome.added, outcome.deleted, outcome.detail,
    ))
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
        fh.flush()
        os.fsync(fh.fileno())


def watch(
    *,
    wait: Callable[[bool, float | None], bool],
    process: Callable[[], CardOutcome],
    log_path: Path,
    reader: str,
    count: int | None,
    idle_timeout: float | None,
    on_outcome: Callable[[CardOutcome], None],
) -> list[CardOutcome]:
    """Serve cards until ``count`` were handled, no card came within ``idle_timeout``, or the
    operator pressed Ctrl-C (a card interrupted mid-write gets no row: re-run it)."""
    outcomes: list[CardOutcome] = []
    try:
        while count is None or len(outcomes) < count:
            if not wait(True, idle_timeout):
                break
            outcome = process()
            append_audit(log_path, reader, outcome)
            outcomes.append(outcome)
            on_outcome(outcome)
            if count is not None and len(outcomes) >= count:
                break
            wait(False, None)
    except KeyboardInterrupt:
        pass
    return outcomes
