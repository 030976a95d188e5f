"""Lock sysmocom's ARA-M applet: STORE DATA ``A1`` (``80 E2 90 00 01 A1``), then check that a
direct STORE DATA is refused.

The lock is a proprietary command of sysmocom's fork of Bertrand Martel's ARA-M applet, as
pySim-shell's ``aram_lock`` sends it (osmocom/pysim, pySim/ara_m.py). After it the applet takes
STORE DATA only through the security domain (INSTALL [for personalization], SCP02 at KVN 0x70);
no unlock command is known, so writing afterwards means ``--scp02`` (docs/simtool-scp.md).

The check after the lock is a direct STORE DATA [Command-Delete] of an AID that the rule list
just read does not hold: an unlocked applet takes it and changes nothing (6A88 or 9000), a
locked one answers 6982. Neither answer changes a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..card.gpsd import SdAccess
from ..card.protocol import CardProtocol
from ..errors import SimtoolError
from ..exitcodes import ExitCode
from .errors import VerificationError
from .session import AramSession, store_data
from .tlv import encode_tlv
from .workflow import open_aram

LOCK_DATA = b"\xA1"
PROBE_AID = bytes.fromhex("F0636B6C6F636B70726F6265")  # "ck lock probe" under a proprietary RID
SW_LOCKED = 0x6982


class LockRefusedError(SimtoolError):
    """The card answered the lock with ``sw`` (not 9000)."""

    exit_code = ExitCode.CARD_REFUSED

    def __init__(self, sw: int) -> None:
        hint = (" — already locked, or the card wants ADM (--adm) or the security domain (--scp02)"
                if sw == SW_LOCKED else " — is this sysmocom's ARA-M applet? (only its fork knows the lock)")
        super().__init__(f"card refused the ARA-M lock (STORE DATA A1): status word {sw:04X}{hint}")
        self.sw = sw


@dataclass(frozen=True)
class LockResult:
    """``sw``: the lock's answer (None in a dry run); ``probe_sw``: the direct STORE DATA
    check's answer (6982 once locked; None when not sent)."""

    sw: int | None
    probe_sw: int | None
    through_sd: bool

    @property
    def verified(self) -> bool:
        return self.probe_sw == SW_LOCKED


def probe_aid(held: set[bytes | None]) -> bytes:
    """An AID the card's rule list does not hold (the delete of it changes nothing)."""
    for n in range(256):
        aid = PROBE_AID + bytes([n])
        if aid not in held:
            return aid
    raise SimtoolError("no AID free for the lock check (the card holds rules for 256 probe AIDs)")


def lock_aram(proto: CardProtocol, *, adm_key: bytes | None = None, sd: SdAccess | None = None) -> LockResult:
    """ADM when given, read the rules, send the lock (through ``sd`` when given), then check
    with a direct no-op delete that STORE DATA is refused. Raises LockRefusedError (exit 5)
    when the lock is not answered 9000, VerificationError (exit 7) when the check is taken."""
    session, rules = open_aram(proto, adm_key, sd)
    session.authenticate()
    resp = proto.send(store_data(session.cla, LOCK_DATA), write=True)
    if proto.dry_run:
        return LockResult(None, None, sd is not None)
    if resp.sw != 0x9000:
        raise LockRefusedError(resp.sw)
    if session.route is not None:
        proto.close_secure_channel()
    direct = AramSession(proto, session.channel)
    direct.select()
    aid = probe_aid({r.aid for r in rules.rules})
    probe = proto.send(store_data(direct.cla, encode_tlv(0xF1, encode_tlv(0x4F, aid))), write=True)
    if probe.sw != SW_LOCKED:
        raise VerificationError(
            f"the card answered the lock with 9000 but still takes a direct STORE DATA (a delete of an absent "
            f"AID answered {probe.sw:04X}, not 6982): not locked")
    return LockResult(resp.sw, probe.sw, sd is not None)
