"""``simtool card info``: ATR, ICCID and which access-control applications the card has."""

from __future__ import annotations

from typing import Any

import click

from ..aram.errors import AramNotFoundError
from ..aram.session import AramSession
from ..card.uicc import card_info
from .cardopts import apdu_listing, card_options, echo_apdus, emit, open_card


@click.group("card")
def card_group() -> None:
    """Facts about the card in the reader."""


@card_group.command("info")
@card_options
def info_cmd(reader: str | None, shared: bool, as_json: bool, trace: bool, dry_run: bool) -> None:
    """Show ATR, protocol, ICCID, whether ARA-D, ARA-M and ARF exist, and the ARA-M refresh tag
    (DF20) and configuration (DF21). Read-only."""
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        info = card_info(proto)
        tag = config = None
        if info.ara_m:
            session = AramSession(proto)
            try:
                session.select()
                tag, config = session.refresh_tag(), session.config()
            except AramNotFoundError:
                pass
        payload: dict[str, Any] = {
            "reader": proto.conn.reader,
            "atr": info.atr.hex().upper(),
            "protocol": info.protocol,
            "iccid": info.iccid,
            "ara_d": info.ara_d,
            "ara_m": info.ara_m,
            "arf": info.arf,
            "ara_m_refresh_tag": tag.hex().upper() if tag else None,
            "ara_m_config": config.hex().upper() if config else None,
        }
        if dry_run:
            payload["apdus"] = apdu_listing(proto)

        def text() -> None:
            click.echo(f"reader    {payload['reader']}")
            click.echo(f"ATR       {payload['atr']} ({info.protocol})")
            click.echo(f"ICCID     {info.iccid or '(not readable)'}")
            for key, name in (("ara_d", "ARA-D"), ("ara_m", "ARA-M"), ("arf", "ARF (PKCS#15)")):
                click.echo(f"{name:<9} {'present' if payload[key] else 'absent'}")
            if info.ara_m:
                click.echo(f"ARA-M refresh tag {payload['ara_m_refresh_tag'] or '(not offered)'}, "
                           f"config (DF21) {payload['ara_m_config'] or '(not offered)'}")
            if dry_run:
                echo_apdus(proto)

        emit(as_json, payload, text)
