"""The ARA-M workflows behind ``simtool aram …``, on an open CardProtocol.

Read the rules (on a logical channel too, as Android does), add, delete and apply once (plan,
write, verify by reading back), export and verify the file. The commands only parse options
and print what these return (``jsonforms`` has the JSON forms); everything here is testable
with a scripted connection.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from carrierkit.fileio import atomic_write_text

from ..card.adm import verify_adm
from ..card.errors import CardRemovedError, TransportError
from ..card.gpsd import SdAccess
from ..card.protocol import CardProtocol
from ..errors import SimtoolError, UsageError
from .errors import DamagedAnswerError, OutputFileError, StoreRefusedError, VerificationError
from .plan import ApplyResult, Plan, apply_plan, delete_plan, describe, make_plan, unique
from .rulefile import dump_rules, load_rules
from .rules import CARRIER_PRIVILEGE_AID, AccessRule
from .session import AramSession, RuleList

Progress = Callable[[int, int], None]
"""Called after each change the card confirmed, with (changes done, changes in the plan)."""


def recovery_hint(err: DamagedAnswerError) -> DamagedAnswerError:
    """Add the way out to a damaged list's message (once): what needs no read, and --blind."""
    if not getattr(err, "next_step", ""):
        err.next_step = (  # type: ignore[attr-defined]
            "`simtool aram delete --all` empties the card without reading the list; "
            "`simtool aram apply FILE --prune --blind`, `add --blind` and `delete --blind` write "
            "without reading it (docs/simtool-aram.md, Recovery)")
        err.message += f"; to get out: {err.next_step}"  # type: ignore[attr-defined]
    return err


def advice(err: SimtoolError, rerun: str) -> str:
    """What to run next after ``err`` interrupted a command that had already written."""
    if isinstance(err, (CardRemovedError, TransportError)):
        return f"re-insert the card and re-run `{rerun}`: it reads what the card holds and finishes"
    if isinstance(err, DamagedAnswerError):
        return ("the list cannot be read back at its new size, and Android cannot read it either: "
                "`simtool aram delete --all` empties the card without reading; then write a rule "
                "set of another size")
    if isinstance(err, StoreRefusedError):
        return f"`simtool aram list` shows what the card holds; fix what the card refused, then run `{rerun}`"
    return f"`simtool aram list` shows what the card holds; then run `{rerun}` again"


@contextmanager
def next_step(rerun: str) -> Iterator[None]:
    """Give every error of the block its next step: after writes, ``advice``; for a list that
    could not be read before any write, the recovery hint."""
    try:
        yield
    except DamagedAnswerError as err:
        if getattr(err, "result", None) is None:
            raise recovery_hint(err) from None
        _advise(err, rerun)
        raise
    except SimtoolError as err:
        if getattr(err, "result", None) is not None:
            _advise(err, rerun)
        raise


def _advise(err: SimtoolError, rerun: str) -> None:
    if not getattr(err, "next_step", ""):
        err.next_step = advice(err, rerun)  # type: ignore[attr-defined]
        err.message += f"; next: {err.next_step}"  # type: ignore[attr-defined]


def read_rules(proto: CardProtocol, *, logical: bool = False, sd: SdAccess | None = None) -> RuleList:
    """Select the ARA-M and read every rule; with ``logical`` on a fresh logical channel, as
    Android does (the channel is closed again afterwards). With ``sd`` the security-domain
    route is opened first (a key check: nothing is written)."""
    channel = proto.open_channel() if logical else 0
    try:
        with next_step(""):
            session = AramSession(proto, channel, via=sd)
            session.select()
            session.authenticate()
            return session.read_rules()
    finally:
        if logical:
            proto.close_channel(channel)


def open_aram(proto: CardProtocol, adm_key: bytes | None = None,
              sd: SdAccess | None = None) -> tuple[AramSession, RuleList]:
    """Verify ADM when a key is given, select the ARA-M on the basic channel and read it;
    with ``sd`` its writes go through the security domain."""
    session = _open_unread(proto, adm_key, sd)
    return session, session.read_rules()


def execute(session: AramSession, plan: Plan, *, force: bool, progress: Progress | None = None,
            verify: bool | Callable[[RuleList], None] = True) -> ApplyResult:
    """Send ``plan`` (nothing when it is empty), refresh the tag and verify by reading back
    (``verify``: a check of the read-back other than "exactly ``plan.expected``")."""
    step = None
    if progress is not None:
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            progress(done[0], plan.changes)

    return apply_plan(session, plan, force=force, progress=step, verify=verify)


def _open_unread(proto: CardProtocol, adm_key: bytes | None, sd: SdAccess | None = None) -> AramSession:
    """ADM when asked, then SELECT the ARA-M on the basic channel (``sd``: writes through the
    security domain); the list is not read."""
    if adm_key is not None:
        verify_adm(proto, adm_key)
    session = AramSession(proto, via=sd)
    session.select()
    return session


def add_rule(proto: CardProtocol, rule: AccessRule, *, force: bool, adm_key: bytes | None = None,
             progress: Progress | None = None, blind: bool = False,
             rerun: str = "simtool aram add …", sd: SdAccess | None = None) -> ApplyResult:
    """Store ``rule`` unless the identical rule is there already (then nothing is sent: the
    result's plan is empty). A rule with the same REF-DO is replaced (new one stored first).

    ``blind`` (for a list that cannot be read): delete every rule with the rule's REF-DO
    (``F1 E1``), store the rule, and verify where the list can be read back.
    """
    with next_step(rerun):
        if blind:
            session = _open_unread(proto, adm_key, sd)
            plan = Plan(keep=(), add=(rule,), delete=(), expected=(rule,), delete_by_ref=(rule,))

            def verify(readback: RuleList) -> None:
                same = [r.identity for r in readback.rules if r.ref_identity == rule.ref_identity]
                if same != [rule.identity]:
                    raise VerificationError(
                        f"read-back holds {len(same)} rule(s) with the REF-DO of {describe(rule)}, "
                        "expected exactly the one stored", int(rule.identity not in same), len(same))

            return execute(session, plan, force=force, progress=progress, verify=verify)
        session, current = open_aram(proto, adm_key, sd)
        plan = make_plan(current.rules, [rule], prune=False)
        if plan.empty:
            return ApplyResult(plan, verified=True)
        return execute(session, plan, force=force, progress=progress)



@dataclass(frozen=True)
class RuleMatch:
    """Which rules ``aram delete`` removes: every rule matching all the given fields, or
    ``everything``."""

    hash: bytes | None = None
    package: str | None = None
    aid: bytes | None = None
    everything: bool = False

    def __call__(self, rule: AccessRule) -> bool:
        return self.everything or (
            (self.hash is None or rule.hash == self.hash)
            and (self.package is None or rule.package == self.package)
            and (self.aid is None or rule.aid == self.aid)
        )


def delete_rules(proto: CardProtocol, match: RuleMatch, *, adm_key: bytes | None = None,
                 progress: Progress | None = None, blind: bool = False,
                 rerun: str = "simtool aram delete …", sd: SdAccess | None = None) -> ApplyResult:
    """Delete the rules ``match`` selects; nothing is sent when none matches.

    ``match.everything`` needs no readable list: the list is read only to skip the write on an
    empty card; when it cannot be read, one ``F1 00`` is sent anyway. ``blind`` (needs
    ``match.hash``): ``F1 E1`` with the REF-DO (hash, ``match.aid`` or FFFFFFFFFFFF, package)
    deletes every rule with exactly that REF-DO without reading the list.
    """
    with next_step(rerun):
        if match.everything:
            return _delete_all(proto, adm_key, progress, sd)
        if blind:
            if match.hash is None:
                raise UsageError("delete --blind needs --hash (it deletes by REF-DO: hash, --aid, --package)")
            target = AccessRule(match.hash, aid=CARRIER_PRIVILEGE_AID if match.aid is None else match.aid,
                                package=match.package)
            session = _open_unread(proto, adm_key, sd)
            plan = Plan(keep=(), add=(), delete=(), delete_by_ref=(target,))

            def verify(readback: RuleList) -> None:
                left = [r for r in readback.rules if r.ref_identity == target.ref_identity]
                if left:
                    raise VerificationError(f"read-back still holds {len(left)} rule(s) with the REF-DO of "
                                            f"{describe(target)}", 0, len(left))

            return execute(session, plan, force=True, progress=progress, verify=verify)
        session, current = open_aram(proto, adm_key, sd)
        plan = delete_plan(current.rules, match)
        if plan.empty:
            return ApplyResult(plan, verified=True)
        return execute(session, plan, force=True, progress=progress)


def _delete_all(proto: CardProtocol, adm_key: bytes | None, progress: Progress | None,
                sd: SdAccess | None) -> ApplyResult:
    session = _open_unread(proto, adm_key, sd)
    note = ""
    try:
        current: tuple[AccessRule, ...] | None = session.read_rules().rules
    except DamagedAnswerError as err:
        current, note = None, f"the list could not be read ({err.problem}): deleted without reading it"
    if current == ():
        return ApplyResult(Plan(keep=(), add=(), delete=()), verified=True)  # empty: nothing to send
    plan = Plan(keep=(), add=(), delete=current or (), delete_all=True, expected=())
    result = execute(session, plan, force=True, progress=progress)
    if note:
        result.notes.insert(0, note)
    return result


def apply_rules(proto: CardProtocol, desired: Iterable[AccessRule], *, prune: bool, force: bool,
                adm_key: bytes | None = None, progress: Progress | None = None, blind: bool = False,
                rerun: str = "simtool aram apply …", sd: SdAccess | None = None) -> ApplyResult:
    """Make the card hold ``desired`` (and with ``prune`` nothing else), verified.

    ``blind`` (needs ``prune``; for a list that cannot be read): ``F1 00``, then store every
    wanted rule once, verified by reading back.
    """
    with next_step(rerun):
        if blind:
            if not prune:
                raise UsageError("--blind replaces every rule on the card: give --prune too")
            wanted = unique(desired)
            session = _open_unread(proto, adm_key, sd)
            plan = Plan(keep=(), add=wanted, delete=(), delete_all=True, expected=wanted)
            return execute(session, plan, force=force, progress=progress)
        session, current = open_aram(proto, adm_key, sd)
        plan = make_plan(current.rules, tuple(desired), prune=prune)
        return execute(session, plan, force=force, progress=progress)


def export_format(output: Path, fmt: str | None) -> str:
    """The export format: ``fmt`` when given, else from the file name (TOML or JSON)."""
    return fmt or ("toml" if output.suffix.lower() == ".toml" else "json")


def write_export(rules: tuple[AccessRule, ...], output: Path, fmt: str) -> int:
    """Write ``rules`` to ``output`` atomically, read the file back and compare; returns how
    many rules it holds. Raises OutputFileError (not writable) or VerificationError."""
    try:
        atomic_write_text(output, dump_rules(rules, fmt))
    except OSError as exc:
        raise OutputFileError("export", str(output), exc.strerror or str(exc)) from None
    back = load_rules(output)
    if [r.identity for r in back] != [r.identity for r in rules]:
        raise VerificationError(f"{output}: re-reading the export does not give the card's rules back")
    return len(back)
