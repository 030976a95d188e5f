"""Writing the ARF in place: plan the carrier ACCF's new content, update only what changes
(UPDATE BINARY of the bytes that differ in a transparent EF, UPDATE RECORD of the records
that differ in a linear fixed one; within the file as created: a full file is an error, never a
resize), bump the ACMF refresh tag so phones re-read, and verify by reading everything back.

The carrier ACCF is the one the last ``FFFFFFFFFFFF`` rule of the ACRF names (the one Android
follows). A card whose ACRF has no such rule gets one appended, pointing at an ACCF the user
names (``accf``): simtool creates no files; ``accf`` naming another file than an existing carrier
rule's ACCF is refused (nothing is written). Record-structured files are written (readers that
follow the chain with READ RECORD see them) with ``android_note`` saying Android cannot read them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from ..aram.errors import AndroidRefusalError, VerificationError
from ..aram.tlv import TlvError, read_header
from ..card.protocol import Apdu, CardProtocol, channel_cla
from .android import android_accf, android_can_select
from .aras import AraAnswer
from .errors import ArfAccfMismatchError, ArfCardError, ArfFormatError
from .files import (
    CARRIER_AID, FID_ANDROID_ACRF, AccfCondition, AcrfRule, Path, encode_accf_condition, encode_acrf_rule,
    next_refresh_tag, parse_accf,
)
from .layout import changed_records, new_content
from .reader import EfData, SeacRead, read_ef, select_ef

MAX_UPDATE = 255  # data bytes of one short UPDATE BINARY

Edit = Callable[[tuple[AccfCondition, ...]], tuple[AccfCondition, ...]]


@dataclass(frozen=True)
class ArfChange:
    """What a write did (or, in a dry run, would do)."""

    accf: str
    before: tuple[AccfCondition, ...]
    after: tuple[AccfCondition, ...]
    rule_added: bool
    updates: int  # UPDATE BINARY / UPDATE RECORD commands sent (or listed in a dry run)
    refresh_tag_before: bytes | None
    refresh_tag_after: bytes | None
    verified: bool
    android_reads: bool  # Android's fixed path (4300 → last FFFFFFFFFFFF rule) reaches this ACCF
    android_hashes_after: tuple[bytes, ...]
    record_updates: int = 0  # of ``updates``, the UPDATE RECORD commands
    android_note: str | None = None  # why Android does not read the written files (record-structured)
    ara_note: str | None = None  # why Android does not read the ARF at all (the card's ARA-M/ARA-D answers)
    arf_blocked_by: str | None = None  # "ARA-M" / "ARA-D" when ``ara_note`` is set

    @property
    def empty(self) -> bool:
        return self.before == self.after and not self.rule_added and self.refresh_tag_before == self.refresh_tag_after


def carrier_rule(seac: SeacRead) -> AcrfRule | None:
    """The ACRF's last rule for the AID FFFFFFFFFFFF (Android's choice), or None."""
    found = None
    for rule in seac.rules:
        if rule.target == "aid" and rule.aid == CARRIER_AID:
            found = rule
    return found


def changed_ranges(old: bytes, new: bytes) -> list[tuple[int, bytes]]:
    """(offset, bytes) pieces of at most MAX_UPDATE bytes covering every byte that differs."""
    if len(old) != len(new):
        raise ValueError("a file's new content must keep its size")
    diff = [i for i in range(len(old)) if old[i] != new[i]]
    if not diff:
        return []
    first, last = diff[0], diff[-1]
    return [(o, new[o : min(o + MAX_UPDATE, last + 1)]) for o in range(first, last + 1, MAX_UPDATE)]


def update_apdus(channel: int, old: EfData, new: bytes) -> list[Apdu]:
    """The commands that turn the selected file's ``old`` content into ``new``: UPDATE BINARY
    pieces for a transparent EF, one UPDATE RECORD (absolute, P2 04) per changed record."""
    cla = channel_cla(0x00, channel)
    if old.structured:
        return [Apdu(cla, 0xDC, number, 0x04, record) for number, record in changed_records(old.data, new, old.record_size)]
    return [Apdu(cla, 0xD6, offset >> 8, offset & 0xFF, data) for offset, data in changed_ranges(old.data, new)]


def _update(proto: CardProtocol, channel: int, path: Path, old: EfData, new: bytes) -> int:
    """Select the file and send the commands of ``update_apdus``; returns how many were sent."""
    apdus = update_apdus(channel, old, new)
    if apdus:
        select_ef(proto, channel, path)
    for apdu in apdus:
        proto.check(apdu, write=True)
    return len(apdus)


def refresh_tag_offset(acmf: bytes) -> int:
    """Where the 8 refresh-tag bytes sit in the ACMF: inside ``30 { 04 08 <tag> … }``."""
    try:
        _, _, inner = read_header(acmf, 0, what="EF.ACMF")
        tag, length, value = read_header(acmf, inner, what="EF.ACMF")
    except TlvError as exc:
        raise ArfFormatError("EF.ACMF", exc.problem) from None
    if tag != 0x04 or length != 8:
        raise ArfFormatError("EF.ACMF", "the refresh tag is not the first object")
    return value


def bumped_acmf(acmf: EfData, tag_new: bytes) -> bytes:
    """The ACMF's bytes with the refresh tag replaced, in place (in the first non-empty
    record of a linear fixed ACMF)."""
    base = 0
    if acmf.structured:
        base = next((i * acmf.record_size for i, r in enumerate(acmf.records) if r[:1] not in (b"\xff", b"\x00")), 0)
    at = base + refresh_tag_offset(acmf.data[base:])
    return acmf.data[:at] + tag_new + acmf.data[at + 8 :]


def record_note(acrf: EfData, accf: EfData) -> str | None:
    """Why Android reads nothing from these files, when one is record-structured."""
    kinds = [f"{name} {ef.path}" for name, ef in (("ACRF", acrf), ("ACCF", accf)) if ef.structured]
    if not kinds:
        return None
    return (f"{' and '.join(kinds)} {'is' if len(kinds) == 1 else 'are'} record-structured: Android reads the ARF "
            "with READ BINARY only and gets no rule from such files; readers following the SEAC chain with "
            "READ RECORD see the change")


def write_accf(proto: CardProtocol, channel: int, seac: SeacRead, edit: Edit, *,
               new_accf: Path | None = None, must_read: tuple[bytes, ...] = (), force: bool = False,
               bump: bool = False, aras: AraAnswer | None = None) -> ArfChange:
    """Apply ``edit`` to the carrier ACCF's conditions, write in place, bump the refresh tag,
    verify by reading back (not in a dry run). Before anything is written: ArfFileFullError /
    ArfNoFreeRecordError / ArfRecordTooSmallError when the new content does not fit,
    ArfCardError when there is no carrier rule to edit, ArfAccfMismatchError when ``new_accf``
    names another file than the carrier rule's ACCF, AndroidRefusalError (unless ``force``)
    when Android reads this ACCF but would not keep a hash of ``must_read`` (after a ``30 00``,
    past 256 bytes). With ``bump`` the refresh tag changes even when the content does not
    (``arf refresh``, after an interrupted write). VerificationError when reading back differs.
    ``aras`` (what ``aras.read_aras`` found): when an ARA answers, Android reads nothing of the
    ARF, so nothing is refused for Android's sake and ``ara_note`` says why."""
    if (seac.error or seac.acmf is None or seac.acmf_file is None or seac.acrf_file is None
            or seac.acmf_path is None):
        raise ArfCardError("ARF", f"the chain must be readable before writing: {seac.error}")
    acrf_file = seac.acrf_file
    rule = carrier_rule(seac)
    acrf_new = None
    if rule is None:
        if new_accf is None:
            raise ArfCardError("EF.ACRF " + acrf_file.path,
                               "no rule for the AID FFFFFFFFFFFF; name an existing ACCF with --accf FID "
                               "to add one (simtool creates no files)")
        rule = AcrfRule("aid", CARRIER_AID, new_accf)
        acrf_new = new_content(acrf_file, [encode_acrf_rule(r) for r in (*seac.rules, rule)], f"EF.ACRF {acrf_file.path}")
    elif new_accf is not None and rule.accf.last != new_accf.last:
        raise ArfAccfMismatchError(new_accf.shown, rule.accf.shown)
    accf_read = seac.accf(rule.accf)
    if accf_read is not None and accf_read.error:
        raise ArfCardError(f"EF.ACCF {rule.accf.shown}", accf_read.error)
    accf_file = accf_read.file if accf_read is not None else read_ef(proto, channel, rule.accf)
    assert accf_file is not None
    before = accf_read.conditions if accf_read is not None else parse_accf(accf_file.content)
    accf_new = new_content(accf_file, [encode_accf_condition(c) for c in edit(before)], f"EF.ACCF {rule.accf.shown}")
    after = parse_accf(replace(accf_file, data=accf_new).content)  # record order, for a linear fixed ACCF
    note = record_note(acrf_file, accf_file)
    ara_note = aras.arf_note if aras is not None else None
    blocked_by = aras.blocking.name if aras is not None and aras.blocking is not None else None
    reachable = android_reaches(seac, rule) and note is None and ara_note is None
    kept = android_accf(accf_new).hashes if reachable else ()
    lost = [h.hex().upper() for h in must_read if h not in kept]
    if reachable and lost and not force:
        raise AndroidRefusalError([f"Android would not read {h} from ACCF {rule.accf.shown} "
                                   "(it stops at a 30 00 entry, damage, or the first 256 bytes)" for h in lost])
    if after == before and acrf_new is None and not bump:
        return ArfChange(rule.accf.shown, before, after, False, 0, seac.acmf.refresh_tag, seac.acmf.refresh_tag,
                         True, reachable, kept, android_note=note, ara_note=ara_note, arf_blocked_by=blocked_by)
    tag_new = next_refresh_tag(seac.acmf.refresh_tag)
    acmf_new = bumped_acmf(seac.acmf_file, tag_new)
    acmf_path = seac.acmf_path
    writes = [(seac.acmf.acrf, acrf_file, acrf_new)] if acrf_new is not None else []
    writes += [(rule.accf, accf_file, accf_new), (acmf_path, seac.acmf_file, acmf_new)]  # the tag last
    updates = records = 0
    for path, old, new in writes:
        sent = _update(proto, channel, path, old, new)
        updates += sent
        records += sent if old.structured else 0
    verified = False
    if not proto.dry_run:
        for path, _, expected in writes:
            back = read_ef(proto, channel, path).data
            if back != expected:
                raise VerificationError(f"EF {path.shown}: reading back does not give what was written "
                                        f"({sum(a != b for a, b in zip(back, expected))} bytes differ)")
        verified = True
    return ArfChange(rule.accf.shown, before, after, acrf_new is not None, updates, seac.acmf.refresh_tag,
                     tag_new, verified, reachable, kept, records, note, ara_note, blocked_by)


def android_reaches(seac: SeacRead, rule: AcrfRule) -> bool:
    """Does Android's fixed path lead to ``rule``'s ACCF: the ACRF is file 4300 (where Android
    looks), ``rule`` is its last FFFFFFFFFFFF rule, and its ACCF is a bare 2-byte file id."""
    return (seac.acmf is not None and seac.acmf.acrf.fids == FID_ANDROID_ACRF
            and android_can_select(rule.accf.fids))
