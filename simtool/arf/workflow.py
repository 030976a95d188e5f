"""The ARF workflows behind ``simtool arf …`` on an open CardProtocol: list (both ways); add,
delete and apply certificate hashes in the carrier ACCF (written in place, verified). Each
also reads the ARA-D and ARA-M first: when one answers, Android never reads the ARF."""

from __future__ import annotations

from ..card.adm import verify_adm
from ..card.protocol import CardProtocol
from .errors import ArfCardError
from .files import AccfCondition, Path
from .aras import AraAnswer, read_aras
from .listing import ArfListing, build_listing
from .reader import SeacRead, find_pkcs15_aid, open_pkcs15, read_android, read_chain, read_seac
from .writer import ArfChange, write_accf


def list_arf(proto: CardProtocol) -> ArfListing:
    """Read the ARF the full SEAC way and Android's way; raises ArfCardError when neither finds
    a PKCS#15 application (the card has no ARF)."""
    seac: SeacRead | None
    try:
        seac = read_seac(proto)
        seac_error = seac.error
    except ArfCardError as exc:
        seac, seac_error = None, str(exc)
    android = read_android(proto)
    if seac is None and android.error:
        raise ArfCardError("ARF", f"{seac_error}")
    return build_listing(seac, seac_error, android, read_aras(proto))


def open_for_write(proto: CardProtocol, adm_key: bytes | None) -> tuple[int, SeacRead, AraAnswer]:
    """Read the ARA-D and ARA-M as Android does (does Android read the ARF at all?), verify ADM
    when a key is given, select the PKCS#15 application on the basic channel and read the whole
    chain (what the writes start from)."""
    aras = read_aras(proto)
    if adm_key is not None:
        verify_adm(proto, adm_key)
    aid, how = find_pkcs15_aid(proto)
    channel = open_pkcs15(proto, aid, logical=False)
    return channel, read_chain(proto, channel, aid, how), aras


def _unique(hashes: tuple[bytes, ...]) -> tuple[bytes, ...]:
    return tuple(dict.fromkeys(hashes))


def add_hashes(proto: CardProtocol, hashes: tuple[bytes, ...], *, adm_key: bytes | None = None,
               force: bool = False, accf: Path | None = None) -> ArfChange:
    """Append each hash the carrier ACCF does not hold yet (none present: nothing is written)."""
    wanted = _unique(hashes)

    def edit(conds: tuple[AccfCondition, ...]) -> tuple[AccfCondition, ...]:
        have = {c.hash for c in conds}
        return conds + tuple(AccfCondition(h) for h in wanted if h not in have)

    channel, seac, aras = open_for_write(proto, adm_key)
    return write_accf(proto, channel, seac, edit, new_accf=accf, must_read=wanted, force=force, aras=aras)


def delete_hashes(proto: CardProtocol, hashes: tuple[bytes, ...] | None, *,
                  adm_key: bytes | None = None) -> ArfChange:
    """Remove the conditions holding these hashes (None: every condition) from the carrier ACCF."""
    gone = set(hashes) if hashes is not None else None

    def edit(conds: tuple[AccfCondition, ...]) -> tuple[AccfCondition, ...]:
        if gone is None:
            return ()
        return tuple(c for c in conds if c.hash not in gone)

    channel, seac, aras = open_for_write(proto, adm_key)
    return write_accf(proto, channel, seac, edit, aras=aras)


def apply_hashes(proto: CardProtocol, hashes: tuple[bytes, ...], *, adm_key: bytes | None = None,
                 force: bool = False, accf: Path | None = None) -> ArfChange:
    """Make the carrier ACCF hold exactly these hashes (kept ones stay in place, in order)."""
    wanted = _unique(hashes)

    def edit(conds: tuple[AccfCondition, ...]) -> tuple[AccfCondition, ...]:
        kept = tuple(c for c in conds if c.hash in wanted)
        have = {c.hash for c in kept}
        return kept + tuple(AccfCondition(h) for h in wanted if h not in have)

    channel, seac, aras = open_for_write(proto, adm_key)
    return write_accf(proto, channel, seac, edit, new_accf=accf, must_read=wanted, force=force, aras=aras)


def bump_refresh_tag(proto: CardProtocol, *, adm_key: bytes | None = None) -> ArfChange:
    """Only change the ACMF refresh tag (verified): after a write that was cut off before its
    last step, so readers that cache the rules (OMAPI) read them again."""
    channel, seac, aras = open_for_write(proto, adm_key)
    return write_accf(proto, channel, seac, lambda conds: conds, bump=True, aras=aras)
