"""``wifiq probe``: is IKEv2 (Wi-Fi calling) reachable from here? One IKE_SA_INIT per ePDG
address and port, never going further (``docs/wifiq-probe.md``).

Addresses: ``--address`` (repeatable), else the active addresses the state holds for the
selected operators (``--country``, ``--mcc``, ``--plmn``, or the ``[selection]`` of
``--config``); those results are stored in the state (``StateStore.record_probes``) unless
``--no-record``. Output: one line per address and port (``--json``: the document of
:mod:`wifiq.probe.report`).
Exit status: 0 every address and port reachable; 4 some not; 1 none (or nothing to probe, or
the state unusable); 2 bad input.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import click

from carrierkit.cli import TextDefault
from carrierkit.progress import progress

from ..config import Config, Selection, load_config
from ..errors import UsageError, WifiqError
from ..plmn import Plmn
from ..probe import Outcome, ProbeOptions, ProbeResult
from ..probe import probe as run_probes
from ..probe.driver import plan
from ..probe.report import document, exit_status, format_result, probe_status
from ..probe.targets import not_probed, not_probed_reason, parse_address
from ..store import StateStore, default_state_path
from .options import Count, Seconds, selection_options
from .resolve_options import command_line_selection, selected_plmns


class NothingToProbeError(WifiqError):
    """The state holds no active address for the selection."""

    exit_code = 1


class Rate(click.FloatRange):
    name = "PER_SECOND"


@click.command("probe")
@selection_options
@click.option("--address", "addresses", multiple=True, metavar="IP",
              help="Probe this address (repeatable) instead of the state's.")
@click.option("--port", "ports", multiple=True, type=click.IntRange(1, 65535),
              show_default="500 and 4500", cls=TextDefault,
              help="UDP port (repeatable); 4500 is sent in the NAT-T form.")
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              show_default="the config's 'state', else the user data dir", cls=TextDefault,
              help="State file (SQLite) holding the addresses.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The refresh's TOML config file: its 'state', [selection] and [probe].")
@click.option("--timeout", type=Seconds(0.01, 60), show_default="2", cls=TextDefault,
              help="Seconds to wait for each reply.")
@click.option("--retries", type=Count(0, 10), show_default="2", cls=TextDefault,
              help="Resends after a timeout.")
@click.option("--concurrency", type=Count(1, 4096), show_default="256", cls=TextDefault,
              help="Probes in flight at once.")
@click.option("--rate", type=Rate(0.1, 1000), show_default="10", cls=TextDefault,
              help="Requests per second to one address (both ports together).")
@click.option("--phone-ports/--no-phone-ports", default=None,
              help="Send from the destination's port (500->500, 4500->4500) as a phone does, "
                   "not from an ephemeral port (needs root; docs/wifiq-probe.md); "
                   "--no-phone-ports overrides the config's phone_ports = true.")
@click.option("--no-record", is_flag=True,
              help="Do not store the results in the state (they are stored when the addresses "
                   "came from it).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def probe(countries: tuple[str, ...], mccs: tuple[str, ...], plmns: tuple[Plmn, ...],
          overrides_files: tuple[Path, ...], active_only: bool, addresses: tuple[str, ...],
          ports: tuple[int, ...], state_path: Path | None, config_path: Path | None,
          timeout: float | None, retries: int | None, concurrency: int | None,
          rate: float | None, phone_ports: bool | None, no_record: bool,
          as_json: bool) -> int:
    """Send an IKEv2 IKE_SA_INIT to each ePDG address and report who answers.

    Exit status: 0 all reachable, 4 some not, 1 none, 2 bad input.
    """
    checked = tuple(parse_address(a) for a in addresses)
    config = load_config(config_path) if config_path else Config()
    names: dict[str, list[str]] = {}
    path: Path | None = None
    if not checked:
        selection = command_line_selection(config, countries, mccs, plmns, overrides_files,
                                           active_only)
        path = state_path or config.state or default_state_path()
        names = state_addresses(path, selection)
        checked = tuple(names)
        if not checked:
            raise NothingToProbeError(f"the state {path} holds no active address for the "
                                      "selection: run wifiq refresh first, or give --address")
    options = probe_options(config.probe, ports=ports, timeout=timeout, retries=retries,
                            concurrency=concurrency, rate=rate, phone_ports=phone_ports)
    started = time.time()
    if path is not None and not no_record:
        with StateStore(path) as store:
            results, status, _ = probe_and_record(store, checked, options,
                                                  retention=config.retention)
    else:
        results = probe_with_progress(checked, options, from_state=path is not None)
        status = probe_status(results)
    if as_json:
        click.echo(json.dumps(document(status, started, results, names)))
    else:
        for result in results:
            click.echo(format_result(result, names.get(result.address, ())))
    skipped = sum(1 for r in results if r.outcome is Outcome.NOT_PROBED)
    unreachable = sum(1 for r in results if not r.outcome.reachable) - skipped
    if unreachable:
        click.echo(f"wifiq: {unreachable} of {len(results)} probes got no IKEv2 reply",
                   err=True)
    if skipped:
        click.echo(f"wifiq: {skipped} of {len(results)} not probed: the state's address is "
                   "no ePDG's (a DNS sinkhole or misconfiguration)", err=True)
    return exit_status(status)


def probe_options(base: ProbeOptions, *, ports: tuple[int, ...] = (),
                  timeout: float | None = None, retries: int | None = None,
                  concurrency: int | None = None, rate: float | None = None,
                  phone_ports: bool | None = None) -> ProbeOptions:
    """The config's ``[probe]`` (``base``) with what the command line gave instead."""
    policy = base.policy
    return replace(
        base, ports=tuple(dict.fromkeys(ports)) or base.ports,
        concurrency=base.concurrency if concurrency is None else concurrency,
        rate=base.rate if rate is None else rate,
        policy=replace(policy, timeout=policy.timeout if timeout is None else timeout,
                       retries=policy.retries if retries is None else retries),
        phone_ports=base.phone_ports if phone_ports is None else phone_ports)


def probe_with_progress(addresses: Sequence[str], options: ProbeOptions, *,
                        from_state: bool) -> list[ProbeResult]:
    """Probe with a progress line on stderr (when it is a terminal and the run is long).
    ``from_state``: the addresses are DNS answers; one that is no ePDG's (loopback, multicast,
    …: :func:`~wifiq.probe.targets.not_probed_reason`) gets no request and ends as
    ``not_probed``. Results in :func:`~wifiq.probe.driver.plan` order."""
    skipped = {a: why for a in addresses if from_state and (why := not_probed_reason(a))}
    wanted = [a for a in addresses if a not in skipped]
    total = len(wanted) * len(set(options.ports))
    with progress("probing", total, unit="probes") as update:
        probed = run_probes(wanted, options, progress=update) if wanted else []
    got = {(r.address, r.port): r for r in probed}
    return [got.get((a, p)) or not_probed(a, p, skipped[a])
            for a, p in plan(addresses, options.ports)]


def probe_and_record(
    store: StateStore,
    addresses: Sequence[str],
    options: ProbeOptions,
    *,
    retention: float | None,
    refresh_run: int | None = None,
) -> tuple[list[ProbeResult], str, dict[tuple[str, int], bool]]:
    """Probe ``addresses`` and store the run in ``store`` (one transaction, after the last
    probe ended: an interrupted run stores nothing): the results, their status, and each
    (address, port)'s reachability at its previous stored probe."""
    started = time.time()
    results = probe_with_progress(addresses, options, from_state=True)
    status = probe_status(results)
    stored = store.record_probes(probed_at=started, finished_at=time.time(), status=status,
                                 results=results, refresh_run=refresh_run, retention=retention)
    return results, status, stored.previous


def state_addresses(path: Path, selection: Selection) -> dict[str, list[str]]:
    """The active addresses the state at ``path`` holds for the selection's names, each with
    its names (ordered by name, family, address). Raises UsageError when there is no state."""
    _, plmns = selected_plmns(selection)
    if not path.exists():
        raise UsageError(f"no state file at {path}: run wifiq refresh first (or give --state "
                         "or --address)")
    out: dict[str, list[str]] = {}
    with StateStore(path, read_only=True) as store:
        rows = store.names_of([str(p) for p in plmns])
        wanted = list(dict.fromkeys(name for name, _, _ in rows))
        for state in store.active(wanted) if wanted else []:
            out.setdefault(state.address, [])
            if state.name not in out[state.address]:
                out[state.address].append(state.name)
    return out
