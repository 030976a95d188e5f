"""Does the whole card grant an app carrier privileges, decided the way Android decides?

Android's order (telephony ``UiccCarrierPrivilegeRules``, Android 7+):

1. ARA-D: a logical channel to ``A00000015144414300``; a complete, parseable ``FF40`` answer
   is kept; any failure here is only logged.
2. ARA-M: a logical channel to ``A00000015141434C00``. Absent: the ARA-D rules when there were
   any, else step 3. Present: ARA-D + ARA-M rules; an ARA-M answer Android cannot use (status
   word, parse error) puts the card in error: no app gets privileges, and the ARF is not read.
3. ARF (only when neither ARA answered): ``UiccPkcs15``'s hashes, rules with no package.

``read_card_rules`` reads every source (the ARF too when Android would not use it, to explain
why its rules do not count); ``decide`` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aram.android import check_answer
from ..aram.check import CertSet, check_grants
from ..aram.errors import AramNotFoundError, DamagedAnswerError
from ..aram.exactread import read_raw
from ..aram.rules import parse_all_ref_ar_do
from ..aram.session import AramSession, RuleList, get_data
from ..aram.tlv import TlvError
from ..card.errors import CardProtocolError
from ..card.protocol import Apdu, CardProtocol, Response, channel_cla
from ..card.statuswords import ApduError
from ..card.uicc import ARA_D_AID
from .reader import AndroidRead, read_android


@dataclass(frozen=True)
class Source:
    """One source as Android met it: ``state`` is ``used``, ``absent``, ``ignored`` (ARA-D
    failures), ``error`` (ARA-M: the whole card in error) or ``not read`` (ARF behind an ARA)."""

    name: str
    state: str
    detail: str
    rules: RuleList | None = None
    arf: AndroidRead | None = None


@dataclass(frozen=True)
class CardRules:
    """Every source in Android's order; ``error`` when Android's rule state is an error."""

    sources: tuple[Source, ...]
    error: str | None

    def source(self, name: str) -> Source:
        return next(s for s in self.sources if s.name == name)


@dataclass(frozen=True)
class CardGrant:
    """The answer for one SDK range: granted by ``source`` (``rule``), or ``reasons``."""

    certs: CertSet
    granted: bool
    source: str | None
    rule: str | None
    reasons: tuple[str, ...]


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


def read_card_rules(proto: CardProtocol) -> CardRules:
    """Read ARA-D, ARA-M and the ARF as Android does (on logical channels)."""
    ara_d = _read_ara_d(proto)
    ara_m = _read_ara_m(proto)
    error = f"ARA-M: {ara_m.detail}" if ara_m.state == "error" else None
    arf_read = read_android(proto)
    arf_used = ara_m.state == "absent" and ara_d.state != "used"
    if arf_read.error:
        arf = Source("ARF", "absent" if arf_used else "not read", arf_read.error, arf=arf_read)
    elif arf_used:
        arf = Source("ARF", "used", f"{len(arf_read.hashes)} hash(es) from ACCF "
                     f"{arf_read.accf_path.hex().upper() if arf_read.accf_path else '(none)'}", arf=arf_read)
    else:
        why = "the card has an ARA-M" if ara_m.state != "absent" else "ARA-D answered"
        arf = Source("ARF", "not read", f"Android reads the ARF only when no ARA answers ({why})", arf=arf_read)
    return CardRules((ara_d, ara_m, arf), error)


def decide(card: CardRules, cert_sets: tuple[CertSet, ...], package: str | None) -> tuple[CardGrant, ...]:
    """One CardGrant per SDK range: the first source and rule that grants, or every reason."""
    out = []
    for certs in cert_sets:
        if card.error:
            out.append(CardGrant(certs, False, None, None, (f"{card.error}: no app gets carrier privileges from this card",)))
            continue
        reasons: list[str] = []
        granted: tuple[str, str] | None = None
        for src in card.sources:
            if src.rules is not None and src.state == "used":
                grant = check_grants(src.rules, (certs,), package)[0]
                if grant.granted and grant.rule_index is not None:
                    granted = (src.name, f"rule {grant.rule_index + 1}: {grant.rule}")
                    break
                reasons += [f"{src.name}: {r}" for r in grant.reasons]
            elif src.arf is not None:
                hit = next((h for h in src.arf.hashes if h in certs.hashes), None)
                if src.state == "used":
                    if hit is not None and len(hit) in (20, 32):
                        accf = src.arf.accf_path.hex().upper() if src.arf.accf_path else "?"
                        granted = (src.name, f"ACCF {accf} hash {hit.hex().upper()}")
                        break
                    reasons.append(f"ARF: none of the {len(src.arf.hashes)} hash(es) Android reads is the app's")
                elif hit is not None:
                    reasons.append(f"ARF holds the app's hash {hit.hex().upper()} but {src.detail}")
                elif src.state == "absent":
                    reasons.append(f"ARF: {src.detail}")
            elif src.state == "absent" and src.name == "ARA-M" and card.source("ARA-D").state != "used":
                reasons.append(f"ARA-M: {src.detail}")
        if granted is not None:
            out.append(CardGrant(certs, True, granted[0], granted[1], ()))
        else:
            out.append(CardGrant(certs, False, None, None, tuple(reasons) or ("no source holds the app's hash",)))
    return tuple(out)

