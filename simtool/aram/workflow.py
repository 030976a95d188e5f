"""The ARA-M workflows behind ``simtool aram …``, on an open CardProtocol.

Read the rules (on a logical channel too, as Android does), add, delete and apply once (plan,
write, verify by reading back), export and verify the file. The commands only parse options
and print what these return (``jsonforms`` has the JSON forms); everything here is testable
with a scripted connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..card.adm import verify_adm
from ..card.gpsd import SdAccess
from ..card.protocol import CardProtocol
from carrierkit.fileio import atomic_write_text
from .errors import OutputFileError, VerificationError
from .plan import ApplyResult, Plan, apply_plan, delete_plan, make_plan
from .rulefile import dump_rules, load_rules
from .rules import AccessRule
from .session import AramSession, RuleList

Progress = Callable[[int, int], None]
"""Called after each change the card confirmed, with (changes done, changes in the plan)."""


def read_rules(proto: CardProtocol, *, logical: bool = False, sd: SdAccess | None = None) -> RuleList:
    """Select the ARA-M and read every rule; with ``logical`` on a fresh logical channel, as
    Android does (the channel is closed again afterwards). With ``sd`` the security-domain
    route is opened first (a key check: nothing is written)."""
    channel = proto.open_channel() if logical else 0
    try:
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
    if adm_key is not None:
        verify_adm(proto, adm_key)
    session = AramSession(proto, via=sd)
    session.select()
    return session, session.read_rules()


def execute(session: AramSession, plan: Plan, *, force: bool, progress: Progress | None = None) -> ApplyResult:
    """Send ``plan`` (nothing when it is empty), refresh the tag and verify by reading back."""
    step = None
    if progress is not None:
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            progress(done[0], plan.changes)

    return apply_plan(session, plan, force=force, progress=step)


def add_rule(proto: CardProtocol, rule: AccessRule, *, force: bool, adm_key: bytes | None = None,
             progress: Progress | None = None, sd: SdAccess | None = None) -> ApplyResult:
    """Store ``rule`` unless the identical rule is there already (then nothing is sent:
    the result's plan is empty)."""
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
                 progress: Progress | None = None, sd: SdAccess | None = None) -> ApplyResult:
    """Delete the rules ``match`` selects; an empty plan sends nothing."""
    session, current = open_aram(proto, adm_key, sd)
    plan = delete_plan(current.rules, match, everything=match.everything)
    if plan.empty:
        return ApplyResult(plan, verified=True)
    return execute(session, plan, force=True, progress=progress)


def apply_rules(proto: CardProtocol, desired: Iterable[AccessRule], *, prune: bool, force: bool,
                adm_key: bytes | None = None, progress: Progress | None = None,
                sd: SdAccess | None = None) -> ApplyResult:
    """Make the card hold ``desired`` (and with ``prune`` nothing else), verified."""
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
