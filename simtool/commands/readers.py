"""``simtool readers``: list the PC/SC readers with the index ``--reader`` accepts."""

from __future__ import annotations

import click

from ..card import transport
from .cardopts import emit


@click.command("readers")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout for scripts.")
@click.option("--reader", metavar="N|NAME", default=None,
              help="Only show the reader this selector picks (index or name substring).")
@click.option("--dry-run", is_flag=True, help="Accepted for symmetry; listing readers sends no APDU.")
def readers_cmd(as_json: bool, reader: str | None, dry_run: bool) -> int | None:
    """List smart card readers (index and name)."""
    names = transport.list_readers()
    rows = [{"index": i, "name": n} for i, n in enumerate(names)]
    if reader is not None:
        chosen = transport.pick_reader(names, reader)
        rows = [r for r in rows if r["name"] == chosen]

    def text() -> None:
        if not rows:
            click.echo("no readers", err=True)
        for r in rows:
            click.echo(f"{r['index']}: {r['name']}")

    emit(as_json, rows, text)
    return 0 if rows else 3
