"""``wifiq operators``: list and search the embedded MCC/MNC list; ``update`` rebuilds it.

``wifiq operators [TEXT] [--country AU] [--mcc 505] [--plmn 505-01] [--json]`` is short for
``wifiq operators list …``. Exit status: 0 with matches, 1 when nothing matches, 2 bad input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from carrierkit.cli import TextDefault

from ..operators import Operator, OperatorDb, load_operators
from ..operators.load import install_data_file
from ..operators.build import build_file
from ..plmn import Plmn
from .options import selection_options


class _DefaultListGroup(click.Group):
    """A group whose first argument, when not a subcommand name, goes to ``list``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@click.group("operators", cls=_DefaultListGroup)
def operators() -> None:
    """List and search operators (MCC/MNC data from Wikipedia, CC BY-SA 4.0).

    \b
    wifiq operators [TEXT] [--country AU] [--mcc 505] [--plmn 505-01] [--json]
    is short for `wifiq operators list ...` (see `wifiq operators list --help`).
    """


def operator_json(op: Operator, db: OperatorDb) -> dict[str, Any]:
    """One operator row as the JSON object ``--json`` prints (with its overrides)."""
    return {
        "plmn": str(op.plmn), "mcc": op.plmn.mcc, "mnc": op.plmn.mnc,
        "country_iso": op.country_iso, "country": op.country, "brand": op.brand,
        "operator": op.operator, "status": op.status,
        "overrides": [{"names": list(o.names), "ranges": list(o.ranges), "source": o.source}
                      for o in db.overrides_for(op.plmn)],
    }


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
        for row in rows)


def _hint(db: OperatorDb, plmns: Sequence[Plmn]) -> str:
    near = [str(p) for want in plmns for p in db.same_fqdn(want) if p != want]
    return f" (MNC length matters: the data has {', '.join(near)})" if near else ""


@operators.command("list")
@click.argument("text", required=False)
@selection_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_operators(text: str | None, countries: tuple[str, ...], mccs: tuple[str, ...],
                   plmns: tuple[Plmn, ...], overrides_files: tuple[Path, ...],
                   active_only: bool, as_json: bool) -> int | None:
    """List operators matching every filter given (TEXT: part of a name or country)."""
    db = load_operators(overrides_files=overrides_files)
    found = db.search(country=countries, mcc=mccs, plmn=plmns, text=text,
                      active_only=active_only)
    if as_json:
        click.echo(json.dumps({"source": db.info.metadata.get("source", {}),
                               "operators": [operator_json(op, db) for op in found]},
                              ensure_ascii=False, indent=1))
    elif found:
        rows = [[str(op.plmn), op.country_iso or "-", op.country, op.brand or "-",
                 op.status or "-", op.operator or "-"] for op in found]
        click.echo(_table([["PLMN", "ISO", "COUNTRY", "BRAND", "STATUS", "OPERATOR"], *rows]))
    if not found:
        click.echo(f"wifiq: no operator matches{_hint(db, plmns)}", err=True)
        return 1
    return None


@operators.command("info")
@click.option("--overrides", "overrides_files", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, path_type=Path), help="Extra overrides file.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def info(overrides_files: tuple[Path, ...], as_json: bool) -> None:
    """Where the operator data came from: file, source package, integrity, licence."""
    db = load_operators(overrides_files=overrides_files)
    meta = db.info.metadata
    summary = {"path": db.info.path, "rows": len(db), "plmns": len(db.plmns()),
               "source": meta.get("source", {}), "licence": meta.get("licence"),
               "attribution": meta.get("attribution"), "overrides": len(db.overrides())}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=1))
        return
    source = summary["source"]
    click.echo(f"data:        {summary['path']}\n"
               f"rows:        {summary['rows']} ({summary['plmns']} PLMNs)\n"
               f"source:      npm {source.get('package')} {source.get('version')} "
               f"(retrieved {source.get('retrieved')})\n"
               f"integrity:   {source.get('integrity')} ({source.get('integrity_of')})\n"
               f"licence:     {summary['licence']}\n"
               f"attribution: {summary['attribution']}\n"
               f"overrides:   {summary['overrides']} entries")


@operators.command("update")
@click.option("--from", "source", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="mcc-mnc-list tarball (npm pack) or its mcc-mnc-list.json.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              show_default="the user data file wifiq reads first", cls=TextDefault, help="Where to write.")
@click.option("--retrieved", metavar="YYYY-MM-DD",
              show_default="today, UTC", cls=TextDefault, help="Date the source was fetched.")
def update(source: Path, out: Path | None, retrieved: str | None) -> None:
    """Rebuild the operator list from a newer mcc-mnc-list release (atomic write)."""
    text, meta = build_file(source, retrieved=retrieved)
    target = install_data_file(text, out)
    click.echo(f"wifiq: wrote {target}: {meta['rows_out']} rows ({meta['plmns']} PLMNs) from "
               f"{meta['rows_in']} source rows; {len(meta['skipped'])} skipped, "
               f"{len(meta['merged_identical'])} merged", err=True)
