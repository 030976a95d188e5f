"""Every ARF rule read both ways, with Android's verdict per rule and where the two ways disagree.

Pure: takes what ``reader.read_seac``, ``reader.read_android`` and ``aras.read_aras`` returned.
One row per (rule, condition) of the full chain, plus a row for each hash Android reads that the
chain does not list (its 4300 is not the ACRF the ACMF names, say). On a card whose ARA-M (or
ARA-D) answers, Android never reads the ARF: every row is then not honoured, with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .android import ANDROID_READ_SIZE
from .aras import AraAnswer
from .files import CARRIER_AID, FID_ANDROID_ACRF, AccfCondition, AcrfRule, encode_accf_condition
from .reader import AndroidRead, EfData, SeacRead


@dataclass(frozen=True)
class ArfRow:
    """One condition of one rule: its target, ACCF, hash (None: ``30 00``), who reads it
    (``read_by_android``: Android reads the ARF on this card and its fixed path keeps the hash),
    and Android's ``verdict`` (``honoured``: Android keeps the hash and it can match a certificate)."""

    target: str
    accf: str
    hash: bytes | None
    in_chain: bool
    read_by_android: bool
    honoured: bool
    verdict: str

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target, "accf": self.accf,
            "hash": None if self.hash is None else self.hash.hex().upper(),
            "in_chain": self.in_chain, "read_by_android": self.read_by_android,
            "android": self.honoured, "android_reason": self.verdict,
        }


@dataclass(frozen=True)
class ArfListing:
    """The rows, the chain's failure (None when the whole chain was read), the warnings, and
    the ARAs Android reads first (``aras.arf_note``: why Android does not read the ARF at all)."""

    seac: SeacRead | None
    seac_error: str | None
    android: AndroidRead
    rows: tuple[ArfRow, ...]
    warnings: tuple[str, ...]
    aras: AraAnswer

    @property
    def files(self) -> tuple[EfData, ...]:
        """The chain's files that were read, ACMF, ACRF then each ACCF (for their structure)."""
        seac = self.seac
        if seac is None:
            return ()
        found = [seac.acmf_file, seac.acrf_file, *(a.file for a in seac.accfs)]
        return tuple(ef for ef in found if ef is not None)

    def to_json(self) -> dict[str, Any]:
        seac = self.seac
        return {
            "pkcs15_aid": seac.aid.hex().upper() if seac else None,
            "found_by": seac.how_found if seac else None,
            "refresh_tag": seac.acmf.refresh_tag.hex().upper() if seac and seac.acmf else None,
            "acmf": seac.acmf_file.path if seac and seac.acmf_file else None,
            "acrf": seac.acrf_file.path if seac and seac.acrf_file else None,
            "files": {ef.path: ef.structure for ef in self.files},
            "chain_error": self.seac_error,
            "android_error": self.android.error,
            "android_accf": self.android.accf_path.hex().upper() if self.android.accf_path else None,
            "android_hashes": [h.hex().upper() for h in self.android.hashes],
            "android_reads_arf": self.aras.blocking is None,
            "arf_blocked_by": self.aras.blocking.name if self.aras.blocking else None,
            "aras": self.aras.to_json(),
            "rules": [r.to_json() for r in self.rows],
            "warnings": list(self.warnings),
        }


def _honoured_words(h: bytes) -> tuple[bool, str]:
    if len(h) in (20, 32):
        algo = "SHA-1" if len(h) == 20 else "SHA-256"
        return True, f"honoured: {algo} certificate hash, any package (ARF rules name no package)"
    return False, f"read by Android, but a {len(h)}-byte hash matches no certificate (SHA-1 is 20, SHA-256 32)"


def _verdict(rule: AcrfRule, cond: AccfCondition, end: int, android: AndroidRead,
             records: str | None = None) -> tuple[bool, bool, str]:
    """(read by Android, honoured, reason) for one condition of the full chain, which ends at
    byte ``end`` of its ACCF; ``records`` names the record-structured file Android would need
    (its ACRF, or this rule's ACCF when Android follows this rule)."""
    if records:
        return False, False, (f"not read by Android: Android does not read record-structured {records} "
                              "(one READ BINARY per file; a linear fixed EF answers it with 6981)")
    if android.error:
        return False, False, f"not read by Android: {android.error}"
    if rule.target != "aid" or rule.aid != CARRIER_AID:
        return False, False, f"skipped by Android: the rule's target {rule.target_shown} is not the AID FFFFFFFFFFFF"
    if android.accf_path is None:
        why = android.acrf.stopped if android.acrf and android.acrf.stopped else "no FFFFFFFFFFFF rule in it"
        return False, False, f"not read by Android: ACRF 4300 gives no ACCF ({why})"
    if len(android.accf_path) != 2:
        return False, False, (f"not read by Android: it selects {android.accf_path.hex().upper()} with length 2, "
                              "only a bare 2-byte file id works")
    if rule.accf.fids != android.accf_path:
        return False, False, ("skipped by Android: it follows only the last FFFFFFFFFFFF rule of 4300, "
                              f"ACCF {android.accf_path.hex().upper()}")
    if cond.hash is None:
        return False, False, "no hash (30 00, 'any application' in SEAC): Android stops reading the ACCF here"
    if not cond.hash:
        return False, False, "empty hash: skipped by Android"
    if cond.hash not in android.hashes:
        stopped = android.accf.stopped if android.accf else None
        if end > ANDROID_READ_SIZE:
            stopped = f"it ends at byte {end}, beyond the first {ANDROID_READ_SIZE} bytes Android reads"
        return False, False, f"not read by Android: {stopped or 'an earlier object ended its walk'}"
    return (True, *_honoured_words(cond.hash))


def _record_structured(seac: SeacRead, rule: AcrfRule, accf: EfData | None, android: AndroidRead) -> str | None:
    """"ACRF 4300" / "ACCF 4310" when the file Android would read for this rule is record-structured."""
    acrf = seac.acrf_file
    if acrf is not None and acrf.structured and seac.acmf is not None and seac.acmf.acrf.fids == FID_ANDROID_ACRF:
        return f"ACRF {acrf.path}"
    if (accf is not None and accf.structured and rule.target == "aid" and rule.aid == CARRIER_AID
            and android.accf_path == rule.accf.fids):
        return f"ACCF {accf.path}"
    return None


def build_listing(seac: SeacRead | None, seac_error: str | None, android: AndroidRead,
                  aras: AraAnswer) -> ArfListing:
    rows: list[ArfRow] = []
    chain_carrier: set[bytes] = set()
    if seac is not None:
        for rule in seac.rules:
            accf = seac.accf(rule.accf)
            if accf is None or accf.error:
                rows.append(ArfRow(rule.target_shown, rule.accf.shown, None, True, False, False,
                                   f"ACCF unreadable: {accf.error if accf else 'not read'}"))
                continue
            end = 0
            records = _record_structured(seac, rule, accf.file, android)
            for cond in accf.conditions:
                end += len(encode_accf_condition(cond))
                read, honoured, why = _verdict(rule, cond, end, android, records)
                rows.append(ArfRow(rule.target_shown, rule.accf.shown, cond.hash, True, read, honoured, why))
                if rule.aid == CARRIER_AID and cond.hash:
                    chain_carrier.add(cond.hash)
    listed = {r.hash for r in rows if r.read_by_android}
    accf_shown = android.accf_path.hex().upper() if android.accf_path else "?"
    for h in android.hashes:
        if h not in listed:
            honoured, why = _honoured_words(h)
            rows.append(ArfRow(CARRIER_AID.hex().upper(), accf_shown, h, False, True, honoured,
                               why + "; the full SEAC chain does not list it"))
            listed.add(h)
    warnings: list[str] = []
    note = aras.arf_note
    if note is not None:
        warnings.append(f"Android does not read the ARF on this card: {note}")
        rows = [replace(r, read_by_android=False, honoured=False,
                        verdict=f"not honoured: {note}; were the ARF read: {r.verdict}") for r in rows]
    android_set = set(android.hashes)
    if seac_error:
        warnings.append(f"the full SEAC chain could not be read: {seac_error}")
    if seac is not None and not seac_error and android_set != chain_carrier:
        only_chain = sorted(h.hex().upper() for h in chain_carrier - android_set)
        only_android = sorted(h.hex().upper() for h in android_set - chain_carrier)
        parts = []
        if only_chain:
            parts.append(f"Android does not read {', '.join(only_chain)}")
        if only_android:
            parts.append(f"Android reads {', '.join(only_android)}, which the chain does not list")
        warnings.append("the two reads disagree: " + "; ".join(parts))
    return ArfListing(seac, seac_error, android, tuple(rows), tuple(warnings), aras)
