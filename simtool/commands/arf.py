"""``simtool arf …``: Access Rule Files (PKCS#15), Android's fallback when a card has no ARA-M.

Thin commands: options are parsed here, the work is in ``simtool.arf`` (docs/simtool-arf.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import click

from ..apk import inspect_apk
from ..aram.apkcert import rule_certificate
from ..aram.rulefile import parse_hash
from ..arf.files import AccfCondition, Path as FilePath
from ..arf.listing import ArfListing
from ..arf.workflow import add_hashes, apply_hashes, bump_refresh_tag, delete_hashes, list_arf
from ..arf.writer import ArfChange
from ..card.protocol import CardProtocol
from ..errors import UsageError
from ..exitcodes import ExitCode
from .cardopts import adm_options, apdu_listing, card_options, echo_apdus, emit, open_card, read_adm_key, reader_options


@click.group("arf")
def arf_group() -> None:
    """Access Rule Files (PKCS#15 / GP SEAC): Android's fallback when the card has no ARA-M."""


def echo_listing(listing: ArfListing) -> None:
    """The human form of ``arf list``: where the files are, each rule, Android's verdict."""
    seac = listing.seac
    if seac is not None:
        where = [f"PKCS#15 {seac.aid.hex().upper()} ({seac.how_found})"]
        if seac.acmf_file and seac.acmf:
            where.append(f"ACMF {seac.acmf_file.path}, refresh tag {seac.acmf.refresh_tag.hex().upper()}")
        if seac.acrf_file:
            where.append(f"ACRF {seac.acrf_file.path}")
        click.echo("; ".join(where))
        for ef in listing.files:
            if ef.structured:
                click.echo(f"EF {ef.path}: {ef.structure}")
    android = listing.android
    blocked = listing.aras.arf_note
    if blocked:
        click.echo(f"Android: does not read the ARF: {blocked}")
    prefix = "Android's fixed path, were the ARF read" if blocked else "Android"
    if android.error:
        click.echo(f"{prefix}: {android.error}")
    else:
        accf = android.accf_path.hex().upper() if android.accf_path else "none"
        click.echo(f"{prefix}: ACRF 4300 → ACCF {accf}, {len(android.hashes)} hash(es) read")
    if not listing.rows:
        click.echo("no ARF rules")
    for i, row in enumerate(listing.rows, 1):
        shown = "(no hash: 30 00)" if row.hash is None else (row.hash.hex().upper() or "(empty hash)")
        source = "" if row.in_chain else "  [not in the SEAC chain]"
        click.echo(f"{i:>3}. target {row.target}  ACCF {row.accf}  hash {shown}{source}")
        click.echo(f"     {'android: yes' if row.honoured else 'android: NO'} — {row.verdict}")
    for warning in listing.warnings:
        click.echo(f"warning: {warning}", err=True)


@arf_group.command("list")
@reader_options
def list_cmd(reader: str | None, shared: bool, as_json: bool, trace: bool) -> int | None:
    """Every ARF rule, read both ways (the full SEAC chain and Android's fixed path 4300), with
    Android's verdict per rule and a warning when the two ways disagree. Exit 6 when the chain
    is damaged (what could be read is still shown)."""
    with open_card(reader, shared, trace=trace) as proto:
        listing = list_arf(proto)
        emit(as_json, listing.to_json(), lambda: echo_listing(listing))
    return ExitCode.DAMAGED_LIST if listing.seac_error else None


def _hashes(hash_: tuple[str, ...], apk: tuple[Path, ...]) -> tuple[bytes, ...]:
    """The hashes of --hash and of each --apk's signing certificate (SHA-1, as ``aram add``)."""
    out = [parse_hash(h) for h in hash_]
    for path in apk:
        cert = rule_certificate(inspect_apk(path))
        click.echo(f"{path}: {cert.words()}: SHA-1 {cert.sha1.upper()}", err=True)
        out.append(bytes.fromhex(cert.sha1))
    return tuple(out)


def _accf_option(value: str | None) -> FilePath | None:
    if value is None:
        return None
    try:
        fid = bytes.fromhex(value)
    except ValueError:
        raise UsageError(f"--accf {value!r} is not hex") from None
    if len(fid) != 2:
        raise UsageError(f"--accf {value!r}: give a 2-byte file id such as 4310")
    return FilePath(fid)


def change_json(change: ArfChange, proto: CardProtocol, dry_run: bool) -> dict[str, Any]:
    def shown(conds: tuple[AccfCondition, ...]) -> list[str | None]:
        return [None if c.hash is None else c.hash.hex().upper() for c in conds]

    doc: dict[str, Any] = {
        "accf": change.accf, "before": shown(change.before), "after": shown(change.after),
        "rule_added": change.rule_added, "updates": change.updates, "changed": not change.empty,
        "refresh_tag_before": change.refresh_tag_before.hex().upper() if change.refresh_tag_before else None,
        "refresh_tag_after": change.refresh_tag_after.hex().upper() if change.refresh_tag_after else None,
        "verified": change.verified, "dry_run": dry_run, "android_reads": change.android_reads,
        "android_hashes_after": [h.hex().upper() for h in change.android_hashes_after],
        "record_updates": change.record_updates, "android_note": change.android_note,
        "android_reads_arf": change.ara_note is None, "arf_blocked_by": change.arf_blocked_by,
        "ara_note": change.ara_note,
    }
    if dry_run:
        doc["apdus"] = apdu_listing(proto)
    return doc


def _show_change(change: ArfChange, proto: CardProtocol, *, as_json: bool, dry_run: bool) -> None:
    def text() -> None:
        before = {c.hash for c in change.before}
        after = {c.hash for c in change.after}
        for c in change.after:
            if c.hash not in before:
                click.echo(f"add     {_hash_words(c)}  (ACCF {change.accf})")
        for c in change.before:
            if c.hash not in after:
                click.echo(f"delete  {_hash_words(c)}  (ACCF {change.accf})")
        if change.rule_added:
            click.echo(f"add     ACRF rule FFFFFFFFFFFF → ACCF {change.accf}")
        if change.empty:
            click.echo(f"nothing to change in ACCF {change.accf}")
            return
        tags = f"{_tag(change.refresh_tag_before)} → {_tag(change.refresh_tag_after)}"
        if dry_run:
            click.echo(f"dry run: {_commands(change)} not sent; refresh tag would go {tags}")
            echo_apdus(proto)
        else:
            click.echo(f"written with {_commands(change)}, refresh tag {tags}, verified by reading back")

    emit(as_json, change_json(change, proto, dry_run), text)
    if change.ara_note and not change.empty:
        click.echo(f"warning: Android will not read this change: {change.ara_note}; readers following the "
                   "SEAC chain (OMAPI) see it", err=True)
    elif change.android_note and not change.empty:
        click.echo(f"warning: {change.android_note}", err=True)
    elif not change.android_reads and not change.empty:
        click.echo(f"note: Android's fixed path (ACRF 4300, last FFFFFFFFFFFF rule) does not reach ACCF {change.accf}: "
                   "readers following the SEAC chain (OMAPI) see the change, Android does not", err=True)


def _commands(change: ArfChange) -> str:
    """"3 UPDATE BINARY command(s)", or with record updates "1 UPDATE BINARY and 2 UPDATE RECORD command(s)"."""
    binary = change.updates - change.record_updates
    if not change.record_updates:
        return f"{binary} UPDATE BINARY command(s)"
    return f"{binary} UPDATE BINARY and {change.record_updates} UPDATE RECORD command(s)"


def _hash_words(c: AccfCondition) -> str:
    return "(no hash: 30 00)" if c.hash is None else c.hash.hex().upper()


def _tag(tag: bytes | None) -> str:
    return tag.hex().upper() if tag is not None else "?"


_HASH_OPTIONS = [
    click.option("--hash", "hash_", metavar="HEX", multiple=True,
                 help="Certificate hash: SHA-1 (40 hex) or SHA-256 (64 hex); repeatable."),
    click.option("--apk", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
                 help="Take the SHA-1 of this APK's signing certificate (as aram add); repeatable."),
]
_WRITE_OPTIONS = [
    click.option("--accf", metavar="FID", default=None,
                 help="When the ACRF has no FFFFFFFFFFFF rule: add one pointing at this existing ACCF."),
    click.option("--force", is_flag=True, help="Write even when Android would not read a hash."),
]


def _with(options: Sequence[Callable[[Callable[..., Any]], Callable[..., Any]]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return wrap


@arf_group.command("add")
@_with(_HASH_OPTIONS + _WRITE_OPTIONS)
@adm_options
@card_options
def add_cmd(hash_: tuple[str, ...], apk: tuple[Path, ...], accf: str | None, force: bool, adm: bool,
            adm_file: Path | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
            dry_run: bool) -> None:
    """Add certificate hashes to the ACCF of the FFFFFFFFFFFF rule (in place, within its size;
    refresh tag bumped; verified by reading back). A hash already there is not added twice."""
    if not hash_ and not apk:
        raise UsageError("give --hash HEX or --apk FILE")
    hashes = _hashes(hash_, apk)
    accf_path = _accf_option(accf)
    key = read_adm_key(adm, adm_file)
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        change = add_hashes(proto, hashes, adm_key=key, force=force, accf=accf_path)
        _show_change(change, proto, as_json=as_json, dry_run=dry_run)


@arf_group.command("delete")
@_with(_HASH_OPTIONS)
@click.option("--all", "all_", is_flag=True, help="Empty the carrier ACCF.")
@adm_options
@card_options
def delete_cmd(hash_: tuple[str, ...], apk: tuple[Path, ...], all_: bool, adm: bool, adm_file: Path | None,
               reader: str | None, shared: bool, as_json: bool, trace: bool, dry_run: bool) -> None:
    """Delete certificate hashes (or --all) from the ACCF of the FFFFFFFFFFFF rule."""
    if all_ == bool(hash_ or apk):
        raise UsageError("give --all, or --hash/--apk (not both)")
    hashes = None if all_ else _hashes(hash_, apk)
    key = read_adm_key(adm, adm_file)
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        change = delete_hashes(proto, hashes, adm_key=key)
        _show_change(change, proto, as_json=as_json, dry_run=dry_run)


@arf_group.command("apply")
@_with(_HASH_OPTIONS + _WRITE_OPTIONS)
@adm_options
@card_options
def apply_cmd(hash_: tuple[str, ...], apk: tuple[Path, ...], accf: str | None, force: bool, adm: bool,
              adm_file: Path | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
              dry_run: bool) -> None:
    """Make the ACCF of the FFFFFFFFFFFF rule hold exactly these hashes (others deleted)."""
    if not hash_ and not apk:
        raise UsageError("give --hash HEX or --apk FILE (use delete --all to empty the ACCF)")
    hashes = _hashes(hash_, apk)
    accf_path = _accf_option(accf)
    key = read_adm_key(adm, adm_file)
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        change = apply_hashes(proto, hashes, adm_key=key, force=force, accf=accf_path)
        _show_change(change, proto, as_json=as_json, dry_run=dry_run)


@arf_group.command("refresh")
@adm_options
@card_options
def refresh_cmd(adm: bool, adm_file: Path | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
                dry_run: bool) -> None:
    """Only bump the ACMF refresh tag (verified): after a write that was interrupted (card pulled)
    before its last step, so readers caching the rules read them again."""
    key = read_adm_key(adm, adm_file)
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        change = bump_refresh_tag(proto, adm_key=key)
        _show_change(change, proto, as_json=as_json, dry_run=dry_run)
