"""Does the whole card grant an app carrier privileges, decided the way Android decides?

Android's order (telephony ``UiccCarrierPrivilegeRules``, Android 7+; ``aras`` has the source):

1. ARA-D: a logical channel to ``A00000015144414300``; a complete, parseable ``FF40`` answer
   is kept (its rules come first in Android's list, so a hash both hold is granted by ARA-D);
   any failure here is only logged.
2. ARA-M: a logical channel to ``A00000015141434C00``. Absent: the ARA-D rules when there were
   any, else step 3. Present: ARA-D + ARA-M rules; an ARA-M answer Android cannot use (status
   word, parse error) puts the card in error: no app gets privileges, and the ARF is not read.
3. ARF (only when neither ARA answered): ``UiccPkcs15``'s hashes, rules with no package.

``read_card_rules`` reads every source (the ARF too when Android would not use it, to explain
why its rules do not count); ``decide`` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..aram.check import CertSet, check_grants
from ..card.protocol import CardProtocol
from .aras import Source, read_aras
from .reader import read_android


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


def read_card_rules(proto: CardProtocol) -> CardRules:
    """Read ARA-D, ARA-M and the ARF as Android does (on logical channels)."""
    aras = read_aras(proto)
    ara_d, ara_m = aras.ara_d, aras.ara_m
    error = f"ARA-M: {ara_m.detail}" if ara_m.state == "error" else None
    arf_read = read_android(proto)
    note = aras.arf_note
    if note is not None:
        arf = Source("ARF", "not read", note if not arf_read.error else f"{note}; {arf_read.error}", arf=arf_read)
    elif arf_read.error:
        arf = Source("ARF", "absent", arf_read.error, arf=arf_read)
    else:
        arf = Source("ARF", "used", f"{len(arf_read.hashes)} hash(es) from ACCF "
                     f"{arf_read.accf_path.hex().upper() if arf_read.accf_path else '(none)'}", arf=arf_read)
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

