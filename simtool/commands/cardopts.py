"""Options shared by every card command (pip-tools style decorators) and the card session
they open: ``--reader``, ``--shared``, ``--json``, ``--dry-run``, ``--trace``, ``--adm``."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from carrierkit.cli import TextDefault

from ..card import transport
from ..card.adm import parse_adm_key
from ..card.protocol import CardProtocol
from carrierkit.secrets import SecretSource, read_secret

ADM_ENV = "SIMTOOL_ADM"


def reader_options(fn: Callable) -> Callable:
    """--reader, --shared, --json, --trace."""
    fn = click.option("--trace", is_flag=True, help="Log every APDU to stderr (secrets redacted).")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout for scripts.")(fn)
    fn = click.option("--shared", is_flag=True, show_default="exclusive", cls=TextDefault, help="Share the card with other programs.")(fn)
    fn = click.option(
        "--reader", "reader", metavar="N|NAME", default=None,
        show_default=f"${transport.READER_ENV}, else the first reader", cls=TextDefault,
        help="Reader index or name substring.",
    )(fn)
    return fn


def card_options(fn: Callable) -> Callable:
    """reader_options plus --dry-run."""
    fn = click.option(
        "--dry-run", is_flag=True,
        help="Send no command that changes the card; print every APDU (reads are sent, writes are not).",
    )(fn)
    return reader_options(fn)


def adm_options(fn: Callable) -> Callable:
    """--adm and --adm-file: verify ADM1 before writing (key from $SIMTOOL_ADM, file or prompt)."""
    fn = click.option("--adm-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="File whose first line is the ADM key (implies --adm).")(fn)
    fn = click.option("--adm", is_flag=True,
                      help=f"Verify the ADM key first (from ${ADM_ENV}, --adm-file or a prompt; "
                           "refused when fewer than 3 attempts remain).")(fn)
    return fn


def setup_trace(trace: bool) -> None:
    """Send the APDU log to stderr when --trace is given."""
    if not trace:
        return
    logger = logging.getLogger("simtool.card.apdu")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("apdu %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


@contextmanager
def open_card(reader: str | None, shared: bool, *, dry_run: bool = False, trace: bool = False) -> Iterator[CardProtocol]:
    """Connect and yield a CardProtocol that records APDUs (for --dry-run listings)."""
    setup_trace(trace)
    conn = transport.connect(reader, shared=shared)
    try:
        yield CardProtocol(conn, dry_run=dry_run, record=True)
    finally:
        conn.close()


def read_adm_key(adm: bool, adm_file: Path | None) -> bytes | None:
    """The ADM key when --adm/--adm-file asked for one (env, file or prompt; never argv)."""
    if not adm and adm_file is None:
        return None
    text = read_secret(SecretSource("ADM key", ADM_ENV, file=adm_file, prompt="ADM key"))
    return parse_adm_key(text or "")


def emit(as_json: bool, payload: Any, text: Callable[[], None]) -> None:
    """Print ``payload`` as JSON, or call ``text`` for the human form."""
    if as_json:
        click.echo(json.dumps(payload, indent=2))
    else:
        text()


def apdu_listing(proto: CardProtocol) -> list[dict[str, Any]]:
    """The recorded exchanges as JSON objects (``sent`` false for dry-run writes)."""
    return [
        {"command": s.command, "sent": s.response is not None,
         "sw": None if s.sw is None else f"{s.sw:04X}"}
        for s in proto.sent
    ]


def echo_apdus(proto: CardProtocol) -> None:
    """Human listing of the APDUs of a dry run."""
    click.echo("APDUs (dry run):")
    for s in proto.sent:
        if s.response is None:
            click.echo(f"  would send  {s.command}")
        else:
            click.echo(f"  sent        {s.command}  -> {s.sw:04X}")
