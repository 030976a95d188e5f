"""Production line (``aram apply --watch``): for each card inserted, apply and verify the rules,
append one CSV audit row, ask for the card to be removed, wait for the next.

Two layers, both testable without pcscd:

- ``serve_card`` is the per-card step on one open card (``connect`` yields a CardProtocol; a
  scripted connection in unit tests): read the ICCID, read the rules, plan, write, verify. It
  never raises for a card's failure or the operator's Ctrl-C: it returns a CardOutcome whose
  ``added`` / ``deleted`` are the changes **the card confirmed** (counted from the STORE DATA
  answers it gave, not from the plan), with the plan, and a detail in words.
- ``watch`` is the loop: wait for a card, serve it, append the audit row, prompt, wait for its
  removal. Ctrl-C while a card is being served gives that card an ``interrupted`` row (what
  was confirmed) and ends the line; Ctrl-C while waiting ends it between cards.

The audit log is a CSV file (``CSV_FIELDS``), opened without following symlinks, appended to
and fsynced row by row; its default place is the user's log folder (``default_audit_log``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from ..card.errors import CardRemovedError
from ..card.gpsd import SdAccess
from ..card.protocol import CardProtocol, SentApdu
from ..card.uicc import read_iccid
from ..errors import SimtoolError
from ..exitcodes import ExitCode
from .errors import OutputFileError, RuleFileError
from .plan import Plan, describe, make_plan
from .rulefile import MAX_FILE_BYTES, load_desired_rules
from .rules import AccessRule
from .workflow import execute, open_aram

CSV_FIELDS = ("time_utc", "card_number", "reader", "iccid", "result", "added", "deleted",
              "planned_add", "planned_delete", "planned_keep", "rules_sha256", "detail")
RESULTS = ("applied", "unchanged", "planned", "failed", "interrupted")
AUDIT_LOG_NAME = "aram-audit.csv"
_STORE_OK = (0x9000, 0x6382)  # stored (6382: an unknown part was dropped); 6381 = it was there already


def default_audit_log() -> Path:
    """Where ``--watch`` logs without ``--log``: the user's log folder (platformdirs), e.g.
    ``~/.local/state/simtool/log/aram-audit.csv`` on Linux; never the working directory."""
    import platformdirs

    return platformdirs.user_log_path("simtool", appauthor=False) / AUDIT_LOG_NAME


@dataclass(frozen=True)
class RulesSource:
    """The rules of a production run and the SHA-256 of the exact file bytes they came from."""

    path: Path
    rules: tuple[AccessRule, ...]
    sha256: str


def load_rules_source(path: Path) -> RulesSource:
    """Load ``path`` and hash it; raises RuleFileError when it changed while being read (the
    audit rows would name a hash that is not the rules applied)."""
    def digest() -> str:
        try:
            with path.open("rb") as f:  # bounded like load_rules (/dev/zero has no st_size)
                return hashlib.sha256(f.read(MAX_FILE_BYTES + 1)).hexdigest()
        except OSError as exc:
            raise RuleFileError(f"{path}: {exc.strerror or exc}") from None

    before = digest()
    rules = load_desired_rules(path)
    if digest() != before:
        raise RuleFileError(f"{path}: the file changed while it was read; run again")
    return RulesSource(path, rules, before)


@dataclass(frozen=True)
class Job:
    """What the line does to every card. ``adm_key`` is never shown (repr) or logged."""

    rules: tuple[AccessRule, ...]
    prune: bool = False
    force: bool = False
    adm_key: bytes | None = field(default=None, repr=False)
    sd: SdAccess | None = None  # write through the security domain (keys per card from a file)


@dataclass(frozen=True)
class Confirmed:
    """Changes the card confirmed (by its STORE DATA answers), and the ones it answered as
    already done (6381: the rule existed)."""

    added: int = 0
    deleted: int = 0
    already: int = 0

    @property
    def total(self) -> int:
        return self.added + self.deleted


def confirmed_changes(sent: Sequence[SentApdu], plan: Plan | None) -> Confirmed:
    """Count the changes the card confirmed from the recorded exchanges: an F0 store answered
    9000/6382 added a rule, an F1 delete answered 9000 deleted one (``F1 00``: every rule the
    plan deleted). Commands not sent (dry run) or unanswered are not counted."""
    added = deleted = already = 0
    for s in sent:
        if s.response is None or s.sw is None:
            continue
        try:
            raw = bytes.fromhex(s.command)
        except ValueError:
            continue  # a redacted VERIFY
        if len(raw) < 7 or raw[1] != 0xE2:
            continue
        kind = raw[5]
        if kind == 0xF0:
            if s.sw in _STORE_OK:
                added += 1
            elif s.sw == 0x6381:
                already += 1
        elif kind == 0xF1 and s.sw == 0x9000:
            deleted += len(plan.delete) if raw[6] == 0 and plan is not None and plan.delete_all else 1
    return Confirmed(added, deleted, already)


@dataclass(frozen=True)
class CardOutcome:
    """One card's row: ``result`` (applied, unchanged, planned (dry run), failed, interrupted), the changes the
    card confirmed, the plan (None when the card could not be read), a detail in words."""

    iccid: str | None
    result: str
    added: int = 0
    deleted: int = 0
    detail: str = ""
    plan: Plan | None = field(default=None, compare=False)
    exit_code: int = 0
    number: int = 0  # insertion number on this line (set by ``watch``)

    def row(self, reader: str, rules_sha256: str, when: datetime | None = None) -> dict[str, str | int]:
        """The audit row (CSV_FIELDS) of this outcome."""
        plan = self.plan
        return {
            "time_utc": (when or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "card_number": self.number, "reader": reader, "iccid": self.iccid or "", "result": self.result,
            "added": self.added, "deleted": self.deleted,
            "planned_add": "" if plan is None else len(plan.add),
            "planned_delete": "" if plan is None else len(plan.delete),
            "planned_keep": "" if plan is None else len(plan.keep),
            "rules_sha256": rules_sha256, "detail": self.detail,
        }


def plan_words(plan: Plan | None) -> str:
    """``add 2, delete 1, keep 3`` (or ``unknown (the card's rules were not read)``)."""
    if plan is None:
        return "unknown (the card's rules were not read)"
    return f"add {len(plan.add)}, delete {len(plan.delete)}, keep {len(plan.keep)}"


def card_line(outcome: CardOutcome, of: str = "") -> str:
    """The one stderr line per card: ``card 3 of 10 8988…: applied — plan add 2, delete 0,
    keep 1; confirmed 2 added, 0 deleted`` (``of`` is `` of N`` or empty)."""
    name = outcome.iccid or "(no ICCID)"
    return (f"card {outcome.number}{of} {name}: {outcome.result} — plan {plan_words(outcome.plan)}; confirmed "
            f"{outcome.added} added, {outcome.deleted} deleted" + (f" — {outcome.detail}" if outcome.detail else ""))


def _phase(plan: Plan | None, confirmed: Confirmed) -> str:
    if plan is None:
        return "before its rules were read"
    if plan.empty:
        return "after reading its rules (nothing to change)"
    done = confirmed.total + confirmed.already
    if done >= plan.changes:
        return f"after all {plan.changes} change(s), while verifying"
    return f"while writing change {done + 1} of {plan.changes}"


def _confirmed_words(plan: Plan | None, confirmed: Confirmed) -> str:
    if plan is None or plan.empty:
        return "no change was written"
    return (f"the card confirmed {confirmed.added} of {len(plan.add)} addition(s) and "
            f"{confirmed.deleted} of {len(plan.delete)} deletion(s)")


def _failure_detail(err: BaseException, plan: Plan | None, confirmed: Confirmed) -> str:
    """The reason in words: which step, how many of N, what the card confirmed, what to do."""
    phase = _phase(plan, confirmed)
    writing = plan is not None and not plan.empty and confirmed.total + confirmed.already < plan.changes
    if isinstance(err, KeyboardInterrupt):
        what = f"stopped by the operator (Ctrl-C) {phase}"
        unsure = writing
    elif isinstance(err, CardRemovedError):
        what = f"card removed {phase}"
        unsure = writing and err.apdu.upper().startswith(("80E2", "81E2", "82E2", "83E2"))
    else:
        what = f"{err} ({phase})"
        unsure = False
    detail = f"{what}; {_confirmed_words(plan, confirmed)}"
    if unsure:
        detail += "; the change being sent got no answer and may or may not be stored"
    if plan is not None and not plan.empty:
        detail += "; insert the card again to finish"
    return detail


def serve_card(connect: Callable[[], AbstractContextManager[CardProtocol]], job: Job) -> CardOutcome:
    """Apply ``job`` to the card ``connect`` opens; never raises for the card's failure or for
    Ctrl-C (KeyboardInterrupt): returns the outcome with what the card confirmed."""
    iccid: str | None = None
    plan: Plan | None = None
    proto: CardProtocol | None = None
    try:
        with connect() as proto:
            proto.record = True
            iccid = read_iccid(proto)
            session, current = open_aram(proto, job.adm_key, job.sd)
            plan = make_plan(current.rules, job.rules, prune=job.prune)
            result = execute(session, plan, force=job.force)
            confirmed = confirmed_changes(proto.sent, plan)
            notes = "; ".join(result.notes)
            if plan.empty:
                return CardOutcome(iccid, "unchanged", 0, 0, notes, plan)
            if proto.dry_run:
                return CardOutcome(iccid, "planned", 0, 0, "dry run: nothing was written", plan)
            return CardOutcome(iccid, "applied", confirmed.added, confirmed.deleted, notes, plan)
    except (SimtoolError, KeyboardInterrupt) as err:
        confirmed = confirmed_changes(proto.sent if proto is not None else (), plan)
        interrupted = isinstance(err, KeyboardInterrupt)
        code = ExitCode.INTERRUPTED if interrupted else int(getattr(err, "exit_code", ExitCode.ERROR))
        return CardOutcome(iccid, "interrupted" if interrupted else "failed", confirmed.added, confirmed.deleted,
                           _failure_detail(err, plan, confirmed), plan, code)


def check_audit_log(path: Path, *, create_folder: bool = False) -> None:
    """Make sure ``path`` can take rows before the first card is touched, without creating it
    (a run that serves no card leaves no file). ``create_folder``: make a missing folder (the
    default log folder). Raises OutputFileError naming the path and the reason (missing folder,
    a folder or a symlink in the way, no permission, a file with other columns)."""
    folder = path.parent
    if create_folder and not folder.exists():
        try:
            folder.mkdir(mode=0o700, parents=True)
        except OSError as exc:
            raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None
    if path.is_symlink():
        raise OutputFileError("audit log", str(path), "it is a symbolic link (not followed)")
    if path.exists():
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
            os.close(fd)
            with open(path, encoding="utf-8", newline="") as fh:
                header = next(csv.reader(fh), None)
        except OSError as exc:
            raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None
        except (UnicodeDecodeError, csv.Error):
            raise OutputFileError("audit log", str(path), "it is not a CSV audit log") from None
        if header is not None and tuple(header) != CSV_FIELDS:
            raise OutputFileError("audit log", str(path),
                                  "its columns are not this version's (" + ",".join(CSV_FIELDS)
                                  + "); use a new --log file")
        return
    if not folder.is_dir():
        raise OutputFileError("audit log", str(path), f"no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputFileError("audit log", str(path), f"folder {folder} is not writable")


def append_audit(path: Path, reader: str, outcome: CardOutcome, rules_sha256: str) -> None:
    """Append one CSV row (header first when the file is new), flushed to disk. The file is
    opened without following a symlink; a new file gets mode 0600, an existing one keeps its mode.

    Raises OutputFileError when the file cannot be written (e.g. the disk filled up).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None
    try:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
        if os.fstat(fd).st_size == 0:
            writer.writeheader()
        writer.writerow(outcome.row(reader, rules_sha256))
        data = buf.getvalue().encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    except OSError as exc:
        raise OutputFileError("audit log", str(path), exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LineSummary:
    """The end of a run: every insertion in order, and whether Ctrl-C stopped a card."""

    outcomes: tuple[CardOutcome, ...]
    interrupted: bool

    def by_insertion(self) -> dict[str, int]:
        counts = Counter(o.result for o in self.outcomes)
        return {r: counts.get(r, 0) for r in RESULTS}

    def by_card(self) -> dict[str, CardOutcome]:
        """The last outcome of each card (by ICCID); cards without an ICCID each on their own."""
        last: dict[str, CardOutcome] = {}
        for o in self.outcomes:
            last[o.iccid or f"(no ICCID, insertion {o.number})"] = o
        return last

    def failed_cards(self) -> list[str]:
        return [k for k, o in self.by_card().items() if o.result in ("failed", "interrupted")]

    @property
    def exit_code(self) -> int:
        """INTERRUPTED when Ctrl-C stopped a card, NOT_VERIFIED when a card's last outcome failed."""
        if self.interrupted:
            return ExitCode.INTERRUPTED
        return ExitCode.NOT_VERIFIED if self.failed_cards() else ExitCode.OK


def watch(
    *,
    wait: Callable[[bool, float | None], bool],
    serve: Callable[[], CardOutcome],
    log_path: Path,
    reader: str,
    rules_sha256: str,
    count: int | None,
    idle_timeout: float | None,
    on_outcome: Callable[[CardOutcome], None],
    on_prompt: Callable[[str, int, CardOutcome | None], None] = lambda kind, n, o: None,
) -> LineSummary:
    """Serve cards until ``count`` were handled, no card came within ``idle_timeout``, or the
    operator pressed Ctrl-C. ``on_prompt("next", n, None)`` before waiting for card n,
    ``on_prompt("remove", n, outcome)`` after card n's row is written."""
    outcomes: list[CardOutcome] = []
    interrupted = False
    try:
        while count is None or len(outcomes) < count:
            number = len(outcomes) + 1
            on_prompt("next", number, None)
            if not wait(True, idle_timeout):
                break
            outcome = serve()
            outcome = CardOutcome(outcome.iccid, outcome.result, outcome.added, outcome.deleted, outcome.detail,
                                  outcome.plan, outcome.exit_code, number)
            append_audit(log_path, reader, outcome, rules_sha256)
            outcomes.append(outcome)
            on_outcome(outcome)
            if outcome.result == "interrupted":
                interrupted = True
                break
            if count is not None and len(outcomes) >= count:
                break
            on_prompt("remove", number, outcome)
            wait(False, None)
    except KeyboardInterrupt:
        pass  # between cards: nothing in progress
    return LineSummary(tuple(outcomes), interrupted)


def describe_plan_lines(plan: Plan) -> list[str]:
    """The plan as ``aram apply`` prints it: ``keep``/``delete``/``add`` + the rule."""
    lines = [f"{label:<7}{describe(r)}" for label, rules in (("keep", plan.keep), ("delete", plan.delete),
                                                            ("add", plan.add)) for r in rules]
    if plan.delete_all:
        lines.append("(deletes with one DELETE ALL command)")
    return lines or ["nothing to change"]
