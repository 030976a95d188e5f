"""``wifiq refresh``: resolve the selection, record it in the state, print what changed.

Silent (text mode) when nothing changed and nothing new failed, so cron mails only news;
failures that repeat the previous run's are one line per kind (``--verbose``: every name).
``--json`` always prints the document of :mod:`wifiq.report` (for ``wifiq render``).
Then, still under the state's lock: the config file's ``[[outputs]]`` that are behind are
re-rendered (:mod:`wifiq.outputs`), the ``--on-change`` command runs (:mod:`wifiq.on_change`)
and the report is printed; each is recorded in the state when it succeeded, and redone by the
next refresh when it failed (:mod:`wifiq.delivery`).
A resolver that neither recurses nor is authoritative for pub.3gppnetwork.org is reported in
one line when the refresh starts; a removal of more than ``holddown.max_removal_percent`` of
the active set is refused (one line, counted as a failure) unless ``--allow-mass-removal``.
``--probe``: then every active address is probed (IKEv2, :mod:`wifiq.probe`) and the results
stored (``StateStore.record_probes``); reachability changes are printed, the exit status stays
the refresh's.
Exit status: 0 no change; 3 changed; 4 some lookups failed (or a mass removal was refused),
nothing changed; 5 changed and some lookups failed (or a mass removal was refused); 1 fatal (every lookup failed, state busy or unusable, an output, the report or
the on-change command failed); 2 bad command line or config.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from carrierkit.cli import TextDefault

from ..config import Config
from ..delivery import (ON_CHANGE, REPORT, ActiveHistory, load_backlog, output_key,
                        unreported)
from ..errors import WifiqError
from ..holddown import format_time
from ..on_change import OnChangeError, parse_command, run_on_change
from ..outputs import Written, check_outputs, write_outputs
from ..refresh import RefreshResult, exit_status, run_refresh
from ..report import document, format_news, format_unreported
from ..probe.report import document as probe_document
from ..probe.report import reachability_news
from ..resolve import ResolveOptions, ResolverCheck, sort_addresses
from ..store import HistoryEvent, RefreshLock, StateStore, default_state_path
from .options import Seconds
from .probe import probe_and_record
from .resolve_options import (
    lookup_count,
    progress_bar,
    report_check,
    resolve_options,
    selected_targets,
)


class ReportError(WifiqError):
    """The report could not be printed (``reason``); its changes are printed by the next run."""

    exit_code = 1

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot print the report ({reason}); its changes are reported by "
                         "the next refresh")
        self.reason = reason


@click.command("refresh")
@resolve_options
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              show_default="the config's 'state', else the user data dir", cls=TextDefault,
              help="State file (SQLite).")
@click.option("--wait", type=Seconds(0, 86400), default=60.0, show_default=True,
              help="Seconds to wait for another refresh of the same state to finish.")
@click.option("--on-change", "on_change", metavar="COMMAND",
              help="Run COMMAND (no shell; WIFIQ_* variables) after a change is committed; "
                   "retried by the next refresh if it fails.",
              show_default="the config's 'on_change'", cls=TextDefault)
@click.option("--verbose", "-v", is_flag=True,
              help="List every failing name, also those failing since an earlier refresh.")
@click.option("--allow-mass-removal", is_flag=True,
              help="Remove addresses even when more than holddown.max_removal_percent (50) of "
                   "the active set would go in one refresh.")
@click.option("--allow-empty-state", is_flag=True,
              help="Start a new state in a state file of 0 bytes (refused otherwise: whatever "
                   "it held is lost).")
@click.option("--probe", "with_probe", is_flag=True,
              help="Then send an IKEv2 IKE_SA_INIT to every active address (UDP 500 and 4500) "
                   "and store the results (docs/wifiq-probe.md).")
def refresh(config: Config, options: ResolveOptions, as_json: bool, state_path: Path | None,
            wait: float, on_change: str | None, verbose: bool, allow_mass_removal: bool,
            allow_empty_state: bool, with_probe: bool) -> int:
    """Resolve the selection, keep the history, and report added/removed/failed addresses.

    Prints nothing when nothing changed and nothing new failed (cron mails only news).
    Exit status: 0 unchanged, 3 changed, 4 some lookups failed, 5 changed and some lookups
    failed (4/5 also when a mass removal was refused: --allow-mass-removal), 1 fatal (all
    lookups failed, state busy or unusable, an output, the report or the on-change command
    failed), 2 bad input. A state file of 0 bytes is refused (exit 1) unless
    --allow-empty-state.
    """
    path = state_path or config.state or default_state_path()
    if config.source is not None:  # outputs come only from a config file
        check_outputs(config.outputs, config.source, path)
    # an empty --on-change is refused by parse_command, never replaced by the config's command
    command = on_change if on_change is not None else config.on_change
    if command is not None:
        parse_command(command, "--on-change" if on_change is not None else "on_change")
    db, targets = selected_targets(config.selection)
    total = lookup_count(len({t.fqdn for t in targets}), options)
    guard = replace(config.guard, allow=config.guard.allow or allow_mass_removal)
    checks: list[ResolverCheck] = []
    errors: list[WifiqError] = []
    with RefreshLock(path, wait), StateStore(path, allow_empty=allow_empty_state) as store:
        if store.started == "empty":
            click.echo(f"wifiq: warning: state file {path} was empty (0 bytes): a new state is "
                       "started in it (--allow-empty-state); its history before is lost",
                       err=True)
        with progress_bar(total, "refreshing") as progress:
            result = run_refresh(db, targets, options, config.holddown, store,
                                 progress=progress, retention=config.retention, guard=guard,
                                 on_check=lambda check: report_check(check, checks))
        probed: dict[str, object] | None = None
        probe_lines: list[str] = []
        if with_probe:
            probed, probe_lines = _probe_active(store, result, config)
        backlog = load_backlog(store, result.run_id)
        # Every selected name, with no address too: a name that lost its last address must be
        # worked back like the others, or the outputs would not see that change.
        history = ActiveHistory(store, {t.fqdn: result.active.get(t.fqdn, frozenset()) for t in targets})
        current_doc = document(result.status, result.refreshed_at, result.reports)
        handled, output_errors = write_outputs(
            config.outputs, current_doc, result.reports,
            lambda output: backlog.baseline(output_key(output)), history)
        errors.extend(output_errors)
        earlier = unreported(store, backlog)
        hook_due = command is not None and backlog.behind(ON_CHANGE)
        signal = (result.changed or bool(earlier) or hook_due
                  or any(item.behind for item in handled))
        status = "changed" if signal and result.status == "unchanged" else result.status
        code = exit_status(status, signal)
        delivered = [output_key(item.output) for item in handled if not item.output.delta]
        deltas = [output_key(item.output) for item in handled if item.output.delta]
        if command is None:
            delivered += deltas
        elif hook_due and not output_errors:
            try:
                run_on_change(command, _hook_env(result, status, code, path, config, handled))
                delivered += [ON_CHANGE, *deltas]
            except OnChangeError as exc:
                errors.append(exc)
        elif not hook_due:
            delivered += deltas
        store.record_deliveries(delivered, result.run_id, result.refreshed_at)
        for item in handled:
            for out_path in item.paths:
                click.echo(f"wifiq: wrote {item.output.target} output {out_path}", err=True)
        try:
            _print_report(result, status, earlier, as_json, verbose, checks, probed,
                          probe_lines, new_state=store.started)
            store.record_deliveries([REPORT], result.run_id, result.refreshed_at)
        except ReportError as exc:
            errors.append(exc)
    if result.refused is not None:
        click.echo(f"wifiq: {result.refused.message}", err=True)
    if result.status == "failed":
        click.echo(f"wifiq: every lookup failed; the last good addresses in {path} are kept",
                   err=True)
    for error in errors[:-1]:
        click.echo(f"wifiq: error: {error}", err=True)
    if errors:
        raise errors[-1]
    return code


def _probe_active(store: StateStore, result: RefreshResult,
                  config: Config) -> tuple[dict[str, object], list[str]]:
    """``--probe``: probe every active address of the names this refresh looked up, store the
    run (linked to the refresh) and return its JSON document and the news lines."""
    names: dict[str, list[str]] = {}
    for name in sorted(result.active):
        for address in sort_addresses(result.active[name]):
            names.setdefault(address, []).append(name)
    results, status, previous = probe_and_record(
        store, list(names), config.probe, retention=config.retention,
        refresh_run=result.run_id)
    return (probe_document(status, result.refreshed_at, results, names),
            reachability_news(results, previous))


def _print_report(result: RefreshResult, status: str, earlier: list[HistoryEvent],
                  as_json: bool, verbose: bool, checks: list[ResolverCheck],
                  probed: dict[str, object] | None = None,
                  probe_lines: list[str] | None = None, new_state: str | None = None) -> None:
    """Print the report and flush it; raises ReportError when stdout cannot take it (its
    pending bytes are then dropped, so that exiting cannot fail a second time)."""
    if as_json:
        doc = document(status, result.refreshed_at, result.reports, resolvers=checks,
                       mass_removal=result.refused)
        doc["unreported"] = [
            {"run": e.run_id, "at": format_time(e.refreshed_at), "name": e.name,
             "address": e.address, "change": e.change, "reason": e.reason} for e in earlier]
        doc["new_state"] = new_state  # "missing" (first refresh), "empty" (a 0-byte file), null
        if probed is not None:
            doc["probes"] = probed
        lines = [json.dumps(doc)]
    else:
        lines = format_unreported(earlier) + format_news(
            result.reports, repeated=result.repeated, kinds=result.failing, verbose=verbose,
            all_failed=result.status == "failed") + (probe_lines or [])
    if sys.stdout is None:  # started with standard output closed (>&-)
        raise ReportError("standard output is closed")
    try:
        for line in lines:
            click.echo(line)
        sys.stdout.flush()
    except (OSError, UnicodeError) as exc:
        _drop_stdout()
        raise ReportError(getattr(exc, "strerror", None) or str(exc)) from None


def _drop_stdout() -> None:
    """Point standard output at /dev/null so that the bytes still buffered go nowhere."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.stdout.flush()
    except (OSError, ValueError):
        pass


def _hook_env(result: RefreshResult, status: str, code: int, state: Path, config: Config,
              handled: list[Written]) -> dict[str, str]:
    """What the on-change command learns (documented in docs/wifiq-cron.md)."""
    added = sum(len(r.added) for r in result.reports)
    removed = sum(len(r.removed) for r in result.reports)
    outputs = [str(p) for item in handled for p in (item.paths or (item.output.path,))]
    return {
        "WIFIQ_STATUS": status,
        "WIFIQ_EXIT_STATUS": str(code),
        "WIFIQ_RUN": str(result.run_id),
        "WIFIQ_REFRESHED_AT": format_time(result.refreshed_at),
        "WIFIQ_ADDED": str(added),
        "WIFIQ_REMOVED": str(removed),
        "WIFIQ_STATE": str(state),
        "WIFIQ_CONFIG": str(config.source or ""),
        "WIFIQ_OUTPUTS": "\n".join(outputs),
    }
