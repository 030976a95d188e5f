"""What Android meets before the ARF: the ARA-D and the ARA-M, read as Android reads them.

Android's ``UiccCarrierPrivilegeRules`` (telephony; read in an AOSP-derived tree,
TheParasiteProject/frameworks_opt_telephony ``src/java/com/android/internal/telephony/uicc/``):

- ARA-D first: ``iccOpenLogicalChannel("A00000015144414300", p2 00)`` (MANAGE CHANNEL and
  SELECT by the modem), then ``80 CA FF 40 00`` on that channel, ``80 CA FF 60 00`` while the
  ALL-REF-AR-DO is incomplete: the same commands as for the ARA-M. A complete, parseable
  answer sets ``mCheckedRules`` (its rules, possibly none, are kept); a status word other than
  9000, an empty or unparseable answer, or a failed open are only logged.
- ARA-M next, the same way. The open fails (SELECT refused: no ARA-M, after retries for
  MISSING_RESOURCE, 6985 and 6999): Android keeps the ARA-D's rules when ``mCheckedRules``,
  else reads the ARF (``UiccPkcs15``). The open succeeds: the ARF is never read; a 9000 answer
  that parses gives the rules (``FF40 00``: none), any other status word (6A88 included), an
  empty answer or a parse error puts the rule set in STATE_ERROR (no app gets privileges).

So Android reads the ARF only when the ARA-M cannot be selected and the ARA-D gave no complete
answer. ``AraAnswer.blocking`` is the source that stops it, and ``arf_note`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aram.android import check_answer
from ..aram.errors import AramNotFoundError, DamagedAnswerError
from ..aram.exactread import read_raw
from ..aram.rules import parse_all_ref_ar_do
from ..aram.session import AramSession, RuleList, get_data
from ..aram.tlv import TlvError
from ..card.errors import CardProtocolError
from ..card.protocol import Apdu, CardProtocol, Response, channel_cla
from ..card.statuswords import ApduError
from ..card.uicc import ARA_D_AID
from .reader import AndroidRead


@dataclass(frozen=True)
class Source:
    """One source as Android met it: ``state`` is ``used``, ``absent``, ``ignored`` (ARA-D
    failures), ``error`` (ARA-M: the whole card in error) or ``not read`` (ARF behind an ARA)."""

    name: str
    state: str
    detail: str
    rules: RuleList | None = None
    arf: AndroidRead | None = None


def _read_ara_d(proto: CardProtocol) -> Source:
    try:
        channel = proto.open_channel()
    except (ApduError, CardProtocolError) as exc:
        return Source("ARA-D", "absent", f"no logical channel ({exc})")
    try:
        resp = proto.send(Apdu(channel_cla(0x00, channel), 0xA4, 0x04, 0x00, ARA_D_AID, 0x00))
        if resp.sw != 0x9000:
            return Source("ARA-D", "absent", f"SELECT answers {resp.sw:04X}")
        cla = channel_cla(0x80, channel)

        def send(tag: int, data: bytes = b"") -> Response:
            return proto.send(get_data(cla, tag, data))

        try:
            raw = read_raw(send)
            if raw is None:
                return Source("ARA-D", "ignored", "GET DATA FF40 answers 6A88: Android ignores ARA-D")
            rules = parse_all_ref_ar_do(raw.data)
        except (ApduError, DamagedAnswerError, TlvError) as exc:
            return Source("ARA-D", "ignored", f"answer not usable ({exc}): Android ignores ARA-D")
        verdict = check_answer(raw.data)
        if verdict.error:
            return Source("ARA-D", "ignored", f"{verdict.error}: Android ignores ARA-D")
        return Source("ARA-D", "used", f"{len(rules)} rule(s)", RuleList(rules, raw.data, 0x9000, verdict))
    finally:
        proto.close_channel(channel)


def _read_ara_m(proto: CardProtocol) -> Source:
    """ARA-M as Android opens it: no channel or no SELECT = absent; a refused or unusable
    answer = error (the whole card's rules in error)."""
    try:
        channel = proto.open_channel()
    except (ApduError, CardProtocolError) as exc:
        return Source("ARA-M", "absent", f"no logical channel ({exc})")
    try:
        session = AramSession(proto, channel)
        try:
            session.select()
        except AramNotFoundError as exc:
            return Source("ARA-M", "absent", str(exc))
        try:
            rules = session.read_rules()
        except ApduError as exc:
            return Source("ARA-M", "error", f"GET DATA refused ({exc}): Android puts the rule set in error")
        if rules.android.error:
            return Source("ARA-M", "error", rules.android.error, rules)
        return Source("ARA-M", "used", f"{len(rules.rules)} rule(s)", rules)
    finally:
        proto.close_channel(channel)


@dataclass(frozen=True)
class AraAnswer:
    """The ARA-D and ARA-M as Android met them, and whether that keeps the ARF unread."""

    ara_d: Source
    ara_m: Source

    @property
    def blocking(self) -> Source | None:
        """The ARA that keeps Android from reading the ARF: an ARA-M it could select (used or
        in error), else an ARA-D whose answer was complete; None when Android reads the ARF."""
        if self.ara_m.state != "absent":
            return self.ara_m
        if self.ara_d.state == "used":
            return self.ara_d
        return None

    @property
    def arf_note(self) -> str | None:
        """Why Android does not read the ARF on this card (None: it does)."""
        src = self.blocking
        if src is None:
            return None
        what = "ARA-M answers" if src.name == "ARA-M" else "ARA-D answers (and there is no ARA-M)"
        return (f"the card's {what}: {src.name} {src.state}, {src.detail}; Android reads the ARF only when "
                "neither ARA-D nor ARA-M answers")

    def to_json(self) -> list[dict[str, Any]]:
        return [{"source": s.name, "state": s.state, "detail": s.detail} for s in (self.ara_d, self.ara_m)]


def read_aras(proto: CardProtocol) -> AraAnswer:
    """Read the ARA-D, then the ARA-M, on logical channels as Android does."""
    return AraAnswer(_read_ara_d(proto), _read_ara_m(proto))
