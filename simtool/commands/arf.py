"""``simtool arf …``: Access Rule Files (PKCS#15), Android's fallback when a card has no ARA-M.

Thin commands: options are parsed here, the work is in ``simtool.arf`` (docs/simtool-arf.md).
"""

from __future__ import annotations

import click

from ..arf.listing import ArfListing
from ..arf.workflow import list_arf
from ..exitcodes import ExitCode
from .cardopts import emit, open_card, reader_options


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
    android = listing.android
    if android.error:
        click.echo(f"Android: {android.error}")
    else:
        accf = android.accf_path.hex().upper() if android.accf_path else "none"
        click.echo(f"Android: ACRF 4300 → ACCF {accf}, {len(android.hashes)} hash(es) read")
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
