"""``simtool card info``: ATR, ICCID and which access-control applications the card has."""

from __future__ import annotations

import click

from ..card.uicc import card_info
from .cardopts import apdu_listing, card_options, echo_apdus, emit, open_card


@click.group("card")
def card_group() -> None:
    """Facts about the card in the reader."""


@card_group.command("info")
@card_options
def info_cmd(reader: str | None, shared: bool, as_json: bool, trace: bool, dry_run: bool) -> None:
    """Show ATR, protocol, ICCID and whether ARA-D, ARA-M and ARF exist (read-only)."""
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        info = card_info(proto)
        payload = {
            "reader": proto.conn.reader,
            "atr": info.atr.hex().upper(),
            "protocol": info.protocol,
            "iccid": info.iccid,
            "ara_d": info.ara_d,
            "ara_m": info.ara_m,
            "arf": info.arf,
        }
        if dry_run:
            payload["apdus"] = apdu_listing(proto)

        def text() -> None:
            click.echo(f"reader    {payload['reader']}")
            click.echo(f"ATR       {payload['atr']} ({info.protocol})")
            click.echo(f"ICCID     {info.iccid or '(not readable)'}")
            for key, name in (("ara_d", "ARA-D"), ("ara_m", "ARA-M"), ("arf", "ARF (PKCS#15)")):
                click.echo(f"{name:<9} {'present' if payload[key] else 'absent'}")
            if dry_run:
                echo_apdus(proto)

        emit(as_json, payload, text)
