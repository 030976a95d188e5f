"""``wifiq refresh``: resolve the selection, record it in the state, print what changed.

Silent (text mode) when nothing changed and nothing failed, so cron mails only news.
``--json`` always prints the document of :mod:`wifiq.report` (for ``wifiq render``).
Then the config file's ``[[outputs]]`` are re-rendered (:mod:`wifiq.outputs`).
A resolver that neither recurses nor is authoritative for pub.3gppnetwork.org is reported in
one line when the refresh starts; a removal of more than ``holddown.max_removal_percent`` of
the active set is refused (one line) unless ``--allow-mass-removal``.
Exit status: 0 no change; 3 changed; 4 some lookups failed or a mass removal was refused,
last good addresses kept;
1 fatal (every lookup failed, state busy or unusable, an output failed); 2 bad command line
or config.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from ..outputs import OutputError, check_outputs, write_outputs
from ..config import Config
from ..refresh import run_refresh
from ..resolve import ResolveOptions, ResolverCheck
from ..report import document, format_news
from ..store import RefreshLock, StateStore, default_state_path
from .options import Seconds
from .resolve_options import (
    lookup_count,
    progress_bar,
    report_check,
    resolve_options,
    selected_targets,
)


@click.command("refresh")
@resolve_options
@click.option("--state", "state_path", type=click.Path(dir_okay=False, path_type=Path),
              help="State file (SQLite). [config 'state', else the user data dir]")
@click.option("--wait", type=Seconds(0, 86400), default=60.0, show_default=True,
              help="Seconds to wait for another refresh of the same state to finish.")
@click.option("--allow-mass-removal", is_flag=True,
              help="Remove addresses even when more than holddown.max_removal_percent (50) of "
                   "the active set would go in one refresh.")
def refresh(config: Config, options: ResolveOptions, as_json: bool, state_path: Path | None,
            wait: float, allow_mass_removal: bool) -> int:
    """Resolve the selection, keep the history, and report added/removed/failed addresses.

    Prints nothing when nothing changed and nothing failed (cron mails only news).
    Exit status: 0 unchanged, 3 changed, 4 some lookups failed or a mass removal was
    refused (last good kept),
    1 fatal (all lookups failed, state busy or unusable, output failed), 2 bad input.
    """
    if config.source is not None:  # outputs come only from a config file
        check_outputs(config.outputs, config.source)
    db, targets = selected_targets(config.selection)
    path = state_path or config.state or default_state_path()
    total = lookup_count(len({t.fqdn for t in targets}), options)
    guard = replace(config.guard, allow=config.guard.allow or allow_mass_removal)
    checks: list[ResolverCheck] = []
    with RefreshLock(path, wait), StateStore(path) as store:
        with progress_bar(total, "refreshing") as progress:
            result = run_refresh(db, targets, options, config.holddown, store, progress=progress,
                                 guard=guard, on_check=lambda c: report_check(c, checks))
        output_error: OutputError | None = None
        try:  # still under the lock: outputs are written in refresh order
            written = write_outputs(config.outputs, result.status, result.refreshed_at,
                                    result.reports, result.previous_at)
        except OutputError as exc:
            written, output_error = [], exc
    if as_json:
        click.echo(json.dumps(document(result.status, result.refreshed_at, result.reports,
                                       resolvers=checks, mass_removal=result.refused)))
    else:
        for line in format_news(result.reports):
            click.echo(line)
    for item in written:
        for out_path in item.paths:
            click.echo(f"wifiq: wrote {item.output.target} output {out_path}", err=True)
    if result.refused is not None:
        click.echo(f"wifiq: {result.refused.message}", err=True)
    if result.status == "failed":
        click.echo(f"wifiq: every lookup failed; the last good addresses in {path} are kept",
                   err=True)
    if output_error is not None:
        raise output_error
    return result.exit_code
