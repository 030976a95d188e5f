"""``wifiq history``: an operator's addresses over time, from the refresh state.

The selection is the one ``resolve`` and ``refresh`` take (``--country``, ``--mcc``, ``--plmn``,
``--overrides``, ``--active-only``), else the ``[selection]`` of ``--config``.

Text: the addresses active now (first seen, last seen, hold-down count), then every change
(time, +/-, address, name, reason), then each active address's reachability (its latest IKEv2
probe and how many of its probes reached it, ``wifiq probe``/``refresh --probe``), each port
with its spans: from when to when it gave one answer, in how many probes, with which RTT.
``--json`` adds the addresses seen at every refresh, each span in full and every probe.
Exit status: 0; 1 when the state file is unusable; 2 for bad input.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from pathlib import Path
from typing import Any

import click

from carrierkit.cli import TextDefault

from ..config import Config, load_config
from ..errors import UsageError
from ..holddown import format_time
from ..plmn import Plmn
from ..store import ProbeSpan, StateStore, default_state_path
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
                "reachability": _reachability(store, [a.address for a in active]),
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
            for span in r["spans"]:
                click.echo(f"      {_span_line(span)}")


def _reachability(store: StateStore, addresses: list[str]) -> list[dict[str, Any]]:
    """Per (address, port): the latest probe, how many probes reached it, its spans (each a
    change of answer, or probes again after a gap) and every probe (without RTT: per span)."""
    spans = store.probe_spans(addresses)
    if not spans:
        return []
    runs = store.probe_runs(min(s.first.id for s in spans), max(s.last.id for s in spans))
    ids = [run.id for run in runs]
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for span in spans:
        entry = out.setdefault((span.address, span.port), {
            "address": span.address, "port": span.port, "probed": 0, "reachable": 0,
            "spans": [], "history": []})
        entry["probed"] += span.probes
        entry["reachable"] += span.probes if span.reachable else 0
        entry["spans"].append(_span_json(span))
        entry["history"] += [
            {"at": format_time(run.probed_at), "outcome": span.outcome.value,
             "detail": span.detail, "refresh_run": run.refresh_run}
            for run in runs[bisect_left(ids, span.first.id):bisect_right(ids, span.last.id)]]
        entry["latest"] = {"at": format_time(span.last.probed_at), "outcome": span.outcome.value,
                           "rtt_ms": span.rtt_last_ms, "detail": span.detail,
                           "refresh_run": span.last.refresh_run}
    return list(out.values())


def _span_json(span: ProbeSpan) -> dict[str, Any]:
    rtt = None if span.rtt_avg_ms is None else {
        "min": span.rtt_min_ms, "avg": span.rtt_avg_ms, "max": span.rtt_max_ms}
    return {"from": format_time(span.first.probed_at), "to": format_time(span.last.probed_at),
            "refresh_run": span.first.refresh_run, "last_refresh_run": span.last.refresh_run,
            "probes": span.probes, "outcome": span.outcome.value, "reachable": span.reachable,
            "rtt_ms": rtt, "chosen": span.chosen, "detail": span.detail,
            "notifies": list(span.notifies), "vendor_ids": list(span.vendor_ids),
            "group": span.group, "requests": span.requests, "steps": list(span.steps)}


def _span_line(span: dict[str, Any]) -> str:
    """``from .. to  outcome xN  RTT min/avg/max ms  detail  (refresh N)``."""
    rtt = span["rtt_ms"]
    rtt_text = "" if rtt is None else (
        f"  RTT {rtt['min']:.1f}/{rtt['avg']:.1f}/{rtt['max']:.1f} ms")
    run = span["refresh_run"]
    started = "wifiq probe" if run is None else f"refresh {run}"
    return (f"{span['from']} .. {span['to']}  {span['outcome']} x{span['probes']}{rtt_text}  "
            f"{span['chosen'] or span['detail']}  ({started})")


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
