"""Writing the ARF in place: plan the carrier ACCF's new content, UPDATE BINARY only the bytes
that change (within the file as created: a full file is an error, never a resize), bump the
ACMF refresh tag so phones re-read, and verify by reading everything back.

The carrier ACCF is the one the last ``FFFFFFFFFFFF`` rule of the ACRF names (the one Android
follows). A card whose ACRF has no such rule gets one appended, pointing at an ACCF the user
names (``accf``): simtool creates no files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..aram.errors import AndroidRefusalError, VerificationError
from ..aram.tlv import TlvError, read_header
from ..card.protocol import Apdu, CardProtocol, channel_cla
from .android import android_accf, android_can_select
from .errors import ArfCardError, ArfFormatError
from .files import (
    CARRIER_AID, FID_ANDROID_ACRF, AccfCondition, AcrfRule, Path, encode_accf, encode_acrf, fill, next_refresh_tag,
    parse_accf,
)
from .reader import SeacRead, read_ef, select_ef

MAX_UPDATE = 255  # data bytes of one short UPDATE BINARY

Edit = Callable[[tuple[AccfCondition, ...]], tuple[AccfCondition, ...]]


@dataclass(frozen=True)
class ArfChange:
    """What a write did (or, in a dry run, would do)."""

    accf: str
    before: tuple[AccfCondition, ...]
    after: tuple[AccfCondition, ...]
    rule_added: bool
    updates: int  # UPDATE BINARY commands sent (or listed in a dry run)
    refresh_tag_before: bytes | None
    refresh_tag_after: bytes | None
    verified: bool
    android_reads: bool  # Android's fixed path (4300 → last FFFFFFFFFFFF rule) reaches this ACCF
    android_hashes_after: tuple[bytes, ...]

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


def _update(proto: CardProtocol, channel: int, path: Path, old: bytes, new: bytes) -> int:
    """UPDATE BINARY the differing bytes of the selected file; returns the commands sent."""
    pieces = changed_ranges(old, new)
    if pieces:
        select_ef(proto, channel, path)
    for offset, data in pieces:
        proto.check(Apdu(channel_cla(0x00, channel), 0xD6, offset >> 8, offset & 0xFF, data), write=True)
    return len(pieces)


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


def write_accf(proto: CardProtocol, channel: int, seac: SeacRead, edit: Edit, *,
               new_accf: Path | None = None, must_read: tuple[bytes, ...] = (), force: bool = False,
               bump: bool = False) -> ArfChange:
    """Apply ``edit`` to the carrier ACCF's conditions, write in place, bump the refresh tag,
    verify by reading back (not in a dry run). Before anything is written: ArfFileFullError
    when the new content does not fit, ArfCardError when there is no carrier rule to edit,
    AndroidRefusalError (unless ``force``) when Android reads this ACCF but would not keep a
    hash of ``must_read`` (after a ``30 00``, past 256 bytes). With ``bump`` the refresh tag
    changes even when the content does not (``arf refresh``, after an interrupted write)."""
    if (seac.error or seac.acmf is None or seac.acmf_file is None or seac.acrf_file is None
            or seac.acmf_path is None):
        raise ArfCardError("ARF", f"the chain must be readable before writing: {seac.error}")
    rule = carrier_rule(seac)
    acrf_new = None
    if rule is None:
        if new_accf is None:
            raise ArfCardError("EF.ACRF " + seac.acrf_file.path,
                               "no rule for the AID FFFFFFFFFFFF; name an existing ACCF with --accf FID "
                               "to add one (simtool creates no files)")
        rule = AcrfRule("aid", CARRIER_AID, new_accf)
        acrf_new = fill(encode_acrf((*seac.rules, rule)), seac.acrf_file.size, f"EF.ACRF {seac.acrf_file.path}")
    accf_read = seac.accf(rule.accf)
    if accf_read is not None and accf_read.error:
        raise ArfCardError(f"EF.ACCF {rule.accf.shown}", accf_read.error)
    accf_file = accf_read.file if accf_read is not None else read_ef(proto, channel, rule.accf)
    assert accf_file is not None
    before = accf_read.conditions if accf_read is not None else parse_accf(accf_file.data)
    after = edit(before)
    accf_new = fill(encode_accf(after), accf_file.size, f"EF.ACCF {rule.accf.shown}")
    reachable = android_reaches(seac, rule)
    kept = android_accf(accf_new).hashes
    lost = [h.hex().upper() for h in must_read if h not in kept]
    if reachable and lost and not force:
        raise AndroidRefusalError([f"Android would not read {h} from ACCF {rule.accf.shown} "
                                   "(it stops at a 30 00 entry, damage, or the first 256 bytes)" for h in lost])
    if after == before and acrf_new is None and not bump:
        return ArfChange(rule.accf.shown, before, after, False, 0, seac.acmf.refresh_tag, seac.acmf.refresh_tag,
                         True, reachable, kept if reachable else ())
    tag_at = refresh_tag_offset(seac.acmf_file.data)
    tag_new = next_refresh_tag(seac.acmf.refresh_tag)
    acmf_new = seac.acmf_file.data[:tag_at] + tag_new + seac.acmf_file.data[tag_at + 8 :]
    acmf_path = seac.acmf_path
    updates = 0
    if acrf_new is not None:  # the rule first, then the content it points at, the tag last
        updates += _update(proto, channel, seac.acmf.acrf, seac.acrf_file.data, acrf_new)
    updates += _update(proto, channel, rule.accf, accf_file.data, accf_new)
    updates += _update(proto, channel, acmf_path, seac.acmf_file.data, acmf_new)
    verified = False
    if not proto.dry_run:
        checks = [(acmf_path, acmf_new), (rule.accf, accf_new)]
        if acrf_new is not None:
            checks.append((seac.acmf.acrf, acrf_new))
        for path, expected in checks:
            back = read_ef(proto, channel, path).data
            if back != expected:
                raise VerificationError(f"EF {path.shown}: reading back does not give what was written "
                                        f"({sum(a != b for a, b in zip(back, expected))} bytes differ)")
        verified = True
    return ArfChange(rule.accf.shown, before, after, acrf_new is not None, updates, seac.acmf.refresh_tag,
                     tag_new, verified, reachable, kept if reachable else ())


def android_reaches(seac: SeacRead, rule: AcrfRule) -> bool:
    """Does Android's fixed path lead to ``rule``'s ACCF: the ACRF is file 4300 (where Android
    looks), ``rule`` is its last FFFFFFFFFFFF rule, and its ACCF is a bare 2-byte file id."""
    return (seac.acmf is not None and seac.acmf.acrf.fids == FID_ANDROID_ACRF
            and android_can_select(rule.accf.fids))
