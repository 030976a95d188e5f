"""``wifiq names``: the TS 23.003 ePDG/N3IWF FQDNs (and published names) for a selection.

Text output: one line per name, ``FQDN  KIND  PLMN[,PLMN…]``; PLMNs sharing the name are
listed together ("57"/"057" pairs; every PLMN of an MCC for visited-country names), the first
few in text, all of them with ``--json``. Kind ``published`` marks names from overrides files.
Exit status: 0, or 2 for bad input (unknown kind, TAC/LAC missing or out of range, bad PLMN).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from carrierkit.cli import TextDefault

from ..names import DEFAULT_KINDS, KINDS, check_kinds, group_by_fqdn
from ..operators import load_operators
from ..plmn import Plmn
from ..selection import PUBLISHED, names_for_selection, published_sources
from .options import location_options, selection_options

TEXT_PLMNS = 4  # PLMNs shown per line in text output; --json lists them all


@click.command("names")
@click.argument("text", required=False)
@selection_options
@click.option("--kind", "kinds", multiple=True, metavar="KIND",
              show_default=" and ".join(DEFAULT_KINDS), cls=TextDefault,
              help=f"Name form (repeatable): {', '.join(KINDS)}.")
@location_options
@click.option("--published/--no-published", default=True, show_default=True,
              help="Also list names operators publish (overrides files).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def names(text: str | None, countries: tuple[str, ...], mccs: tuple[str, ...],
          plmns: tuple[Plmn, ...], overrides_files: tuple[Path, ...], active_only: bool,
          kinds: tuple[str, ...], tac: int | None, lac: int | None, published: bool,
          as_json: bool) -> None:
    """Print the FQDNs a phone would look up for the selected operators (TEXT: name part)."""
    kinds = kinds or DEFAULT_KINDS
    check_kinds(kinds, tac=tac, lac=lac)
    db = load_operators(overrides_files=overrides_files)
    selected = db.select(country=countries, mcc=mccs, plmn=plmns, text=text,
                         active_only=active_only)
    found = names_for_selection(db, selected, kinds, tac=tac, lac=lac, published=published)
    sources = published_sources(db, selected)
    grouped = group_by_fqdn(found)
    if as_json:
        click.echo(json.dumps({"names": [
            {"fqdn": g.fqdn, "kind": g.kind, "plmns": [str(p) for p in g.plmns],
             **({"source": sources[g.fqdn]} if g.kind == PUBLISHED else {})}
            for g in grouped]}, indent=1))
        return
    width = max(len(g.fqdn) for g in grouped)
    kind_width = max(len(g.kind) for g in grouped)
    for g in grouped:
        shown = ",".join(str(p) for p in g.plmns[:TEXT_PLMNS])
        more = f" (+{len(g.plmns) - TEXT_PLMNS} more)" if len(g.plmns) > TEXT_PLMNS else ""
        click.echo(f"{g.fqdn.ljust(width)}  {g.kind.ljust(kind_width)}  {shown}{more}")
