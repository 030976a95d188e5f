"""``wifiq resolve``: look up the selected operators' ePDG names once (no state kept).

Output: per operator, each name and its addresses (``--list``: just the distinct addresses,
IPv4 first, one per line; ``--json``: the document described in :mod:`wifiq.report`, where
``active`` is every address found and ``added``/``removed`` are empty).
Exit status: 0 every lookup answered; 4 some lookups failed; 1 every lookup failed; 2 bad input.
"""

from __future__ import annotations

import json
import time

import click

from ..config import Config
from ..refresh import EXIT_FATAL, EXIT_PARTIAL
from ..report import document, format_resolved, lookup_status, operator_reports
from ..resolve import ResolveOptions, ResolverCheck
from ..resolve import resolve as resolve_names
from ..resolve import sort_addresses, summarize
from .resolve_options import (
    lookup_count,
    progress_bar,
    report_check,
    resolve_options,
    selected_targets,
)


@click.command("resolve")
@resolve_options
@click.option("--list", "as_list", is_flag=True,
              help="Print only the distinct addresses found, one per line.")
def resolve(config: Config, options: ResolveOptions, as_json: bool, as_list: bool) -> int:
    """Resolve the ePDG names (A and AAAA) of the selected operators, once.

    Exit status: 0 every lookup answered, 4 some failed, 1 all failed, 2 bad input.
    """
    db, targets = selected_targets(config.selection)
    fqdns = list(dict.fromkeys(t.fqdn for t in targets))
    started = time.time()
    checks: list[ResolverCheck] = []
    with progress_bar(lookup_count(len(fqdns), options), "resolving") as progress:
        lookups = resolve_names(fqdns, options, progress=progress,
                                on_check=lambda c: report_check(c, checks))
    summaries = summarize(lookups)
    found = {name: s.addresses for name, s in summaries.items()}
    reports = operator_reports(db, targets, summaries, found, found)
    status = lookup_status(lookups)
    if as_json:
        click.echo(json.dumps(document(status, started, reports, resolvers=checks)))
    elif as_list:
        for address in sort_addresses(a for r in reports for a in r.active):
            click.echo(address)
    else:
        for line in format_resolved(reports):
            click.echo(line)
    failures = [lk for lk in lookups if not lk.outcome.definitive]
    if failures:
        click.echo(f"wifiq: {len(failures)} of {len(lookups)} lookups failed", err=True)
    return {"failed": EXIT_FATAL, "partial": EXIT_PARTIAL}.get(status, 0)
