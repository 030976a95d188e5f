"""``simtool lab start|env|status|insert|remove|stop``: a virtual reader with a simulated ARA-M
card, to try every ``simtool aram`` command without hardware (root: private namespaces).

Thin commands: the lab itself is ``simtool.lab`` (daemon, control, rig, vcard).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from carrierkit.cli import TextDefault

from ..aram.rulefile import load_rules
from ..lab import control
from ..lab.vcard.profiles import PROFILES
from .cardopts import emit

DEFAULT_ICCID = "89882110000000000019"

_DIR = click.option(
    "--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
    show_default=f"${control.LAB_DIR_ENV}, else {control.DEFAULT_LAB_DIR}", cls=TextDefault,
    help="The lab's folder.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout for scripts.")
_CARD = [
    click.option("--iccid", default=DEFAULT_ICCID, show_default=True,
                 help="The card's ICCID (18-20 digits). A card seen before comes back with its rules."),
    click.option("--profile", type=click.Choice(sorted(PROFILES)), default=None,
                 show_default="spec: GP SEAC ARA-M", cls=TextDefault,
                 help="Kind of card for a new ICCID (aram-applet and sysmo behave like the "
                      "open-source applet, quirks included)."),
    click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 default=None, help="Rules a new card holds at first (a rule file as `aram apply` reads)."),
    click.option("--slot", type=click.IntRange(0, 1), default=0, show_default=True,
                 help="Reader slot: 0 is 'Virtual PCD 00 00', 1 is 'Virtual PCD 00 01'."),
]


def _card_options(fn: Any) -> Any:
    for opt in reversed(_CARD):
        fn = opt(fn)
    return fn


def _insert_request(iccid: str, profile: str | None, rules_file: Path | None, slot: int) -> dict[str, Any]:
    rules = [r.encoded().hex() for r in load_rules(rules_file)] if rules_file else []
    return {"op": "insert", "iccid": iccid, "profile": profile, "rules": rules, "slot": slot}


@click.group("lab")
def lab_group() -> None:
    """A virtual card reader with a simulated ARA-M card (no hardware; needs root)."""


@lab_group.command("start")
@_card_options
@click.option("--no-card", is_flag=True, help="Start with both slots empty.")
@_DIR
def start_cmd(iccid: str, profile: str | None, rules_file: Path | None, slot: int, no_card: bool,
              folder: Path | None) -> None:
    """Start pcscd + vpcd in private namespaces with a simulated card inserted.

    Prints the line to run in your shell: eval "$(simtool lab start)".
    """
    where = control.lab_dir(folder)
    insert = None if no_card else _insert_request(iccid, profile, rules_file, slot)  # check the file first
    status = control.start(where)
    if insert is not None:
        try:
            card = control.request(where, insert)
        except control.LabError:
            control.stop(where)
            raise
        click.echo(f"lab: {card['reader']!r} holds a simulated {card['profile']} card, ICCID {card['iccid']}",
                   err=True)
    click.echo(f"lab: running (lab process pid {status['pid']}, pcscd and vpcd in private namespaces); "
               "stop with `simtool lab stop`", err=True)
    click.echo(control.export_line(where))


@lab_group.command("env")
@_DIR
def env_cmd(folder: Path | None) -> None:
    """Print the export line for a running lab: eval "$(simtool lab env)"."""
    where = control.lab_dir(folder)
    control.request(where, {"op": "status"})
    click.echo(control.export_line(where))


@lab_group.command("status")
@_DIR
@_JSON
def status_cmd(folder: Path | None, as_json: bool) -> None:
    """The lab's readers and which card each holds."""
    where = control.lab_dir(folder)
    status = control.request(where, {"op": "status"})
    status.pop("ok", None)

    def text() -> None:
        click.echo(f"lab {where} (pid {status['pid']}): {control.export_line(where)}")
        for s in status["slots"]:
            held = f"card {s['iccid']} ({s['profile']})" if s["iccid"] else "empty"
            click.echo(f"  slot {s['slot']} {s['reader']!r}: {held}")

    emit(as_json, status, text)


@lab_group.command("insert")
@_card_options
@_DIR
def insert_cmd(iccid: str, profile: str | None, rules_file: Path | None, slot: int, folder: Path | None) -> None:
    """Insert a card (a card seen before comes back with the rules it held)."""
    where = control.lab_dir(folder)
    card = control.request(where, _insert_request(iccid, profile, rules_file, slot))
    again = " again" if card["again"] else ""
    click.echo(f"lab: card {card['iccid']} ({card['profile']}) inserted{again} in {card['reader']!r}", err=True)


@lab_group.command("remove")
@click.option("--slot", type=click.IntRange(0, 1), default=0, show_default=True, help="Reader slot.")
@_DIR
def remove_cmd(slot: int, folder: Path | None) -> None:
    """Pull the card out of a slot (it keeps its memory for the next insert)."""
    where = control.lab_dir(folder)
    card = control.request(where, {"op": "remove", "slot": slot})
    click.echo(f"lab: card {card['iccid']} removed from slot {slot}", err=True)


@lab_group.command("stop")
@_DIR
def stop_cmd(folder: Path | None) -> None:
    """Stop the lab (cards, pcscd) and remove its folder."""
    where = control.lab_dir(folder)
    if control.stop(where):
        click.echo(f"lab {where} stopped", err=True)
    else:
        click.echo(f"no lab running in {where}", err=True)
