"""``wifiq history``: an operator's addresses over time, from the refresh state.

The selection is the one ``resolve`` and ``refresh`` take (``--country``, ``--mcc``, ``--plmn``,
``--overrides``, ``--active-only``), else the ``[selection]`` of ``--config``.

Text: the addresses active now (first seen, last seen, hold-down count), then every change
(time, +/-, address, name, reason), then each active address's reachability (its latest IKEv2
probe and how many of its probes reached it, ``wifiq probe``/``refresh --probe``). ``--json``
adds the addresses seen at every refresh and every probe.
Exit status: 0; 1 when the state file is unusable; 2 for bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from carrierkit.cli import TextDefault

from ..config import Config, load_config
from ..errors import UsageError
from ..holddown import format_time
from ..plmn import Plmn
from ..store import StateStore, default_state_path
from ..store.probes import ProbeRecord, probe_history
from .options import selection_options
from .resolve_options import command_line_selection, selected_plmns


@click.command("history")
@selection_options
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              show_default="the config's 'state', else the user data dir", cls=TextDefault,
              help="State file (SQLite).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The refresh's TOML config file: its 'state' and, without a selection on "
                   "the command line, its [selection].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def history(countries: tuple[str, ...], mccs: tuple[str, ...], plmns: tuple[Plmn, ...],
            overrides_files: tuple[Path, ...], active_only: bool, state_path: Path | None,
            config_path: Path | None, as_json: bool) -> None:
    """Show the selected operators' ePDG addresses over time."""
    config = load_config(config_path) if config_path else Config()
    selection = command_line_selection(config, countries, mccs, plmns, overrides_files,
                                       active_only)
    _, plmns = selected_plmns(selection)
    path = state_path or config.state or default_state_path()
    if not path.exists():
        raise UsageError(f"no state file at {path}: run wifiq refresh first (or give --state)")
    out: list[dict[str, Any]] = []
    with StateStore(path, read_only=True) as store:
        for plmn in plmns:
            rows = store.names_of([str(plmn)])
            names = list(dict.fromkeys(name for name, _, _ in rows))
            active = store.active(names) if names else []
            events = store.history(names) if names else []
            sightings = store.sightings(names) if names else []
            out.append({
                "plmn": str(plmn),
                "names": [{"name": n, "kind": k} for n, _, k in rows],
                "active": [{"name": s.name, "address": s.address,
                            "first_seen": format_time(s.first_seen),
                            "last_seen": format_time(s.last_seen),
                            "missing_count": s.missing_count} for s in active],
                "changes": [{"at": format_time(e.refreshed_at), "run": e.run_id, "name": e.name,
                             "address": e.address, "change": e.change, "reason": e.reason}
                            for e in events],
                "seen": _seen_by_run(sightings),
                "reachability": _reachability(
                    probe_history(store, [a.address for a in active])),
            })
    if as_json:
        click.echo(json.dumps({"operators": out}, indent=1))
        return
    for entry in out:
        click.echo(f"{entry['plmn']}")
        if not entry["names"]:
            click.echo("  never refreshed")
            continue
        click.echo("  active now:")
        for a in entry["active"]:
            missing = f"  missing x{a['missing_count']}" if a["missing_count"] else ""
            click.echo(f"    {a['address']:<39} {a['first_seen']} .. {a['last_seen']}  "
                       f"{a['name']}{missing}")
        click.echo("  changes:")
        for c in entry["changes"]:
            sign = "+" if c["change"] == "added" else "-"
            click.echo(f"    {c['at']} {sign} {c['address']:<39} {c['name']}  ({c['reason']})")
        if entry["reachability"]:
            click.echo("  reachability (latest IKEv2 probe; reachable/probed):")
        for r in entry["reachability"]:
            latest = r["latest"]
            rtt = "" if latest["rtt_ms"] is None else f" {latest['rtt_ms']:.1f} ms"
            click.echo(f"    {r['address']:<39} {r['port']:>5}  {latest['outcome']}{rtt}  "
                       f"{latest['at']}  {r['reachable']}/{r['probed']}")


def _reachability(records: list[ProbeRecord]) -> list[dict[str, Any]]:
    """Per (address, port): the latest probe, how many probes reached it, and every probe."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for rec in records:
        entry = out.setdefault((rec.address, rec.port), {
            "address": rec.address, "port": rec.port, "probed": 0, "reachable": 0,
            "history": []})
        probe = {"at": format_time(rec.probed_at), "outcome": rec.outcome,
                 "rtt_ms": rec.rtt_ms, "detail": rec.detail, "refresh_run": rec.refresh_run}
        entry["probed"] += 1
        entry["reachable"] += int(rec.reachable)
        entry["history"].append(probe)
        entry["latest"] = probe
    return [out[key] for key in sorted(out, key=lambda k: (":" in k[0], k[0], k[1]))]


def _seen_by_run(sightings: list[tuple[int, float, str, str]]) -> list[dict[str, Any]]:
    """The distinct addresses seen at each refresh, oldest first."""
    times: dict[int, float] = {}
    seen: dict[int, list[str]] = {}
    for run_id, at, _name, address in sightings:
        times[run_id] = at
        addresses = seen.setdefault(run_id, [])
        if address not in addresses:
            addresses.append(address)
    return [{"run": r, "at": format_time(times[r]), "addresses": seen[r]} for r in seen]
