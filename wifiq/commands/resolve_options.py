"""Options shared by ``wifiq resolve`` and ``wifiq refresh``: config file, name kinds,
resolvers and how hard to ask; merged with the config file (the command line wins)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from carrierkit.cli import TextDefault

from carrierkit.progress import progress

from ..config import Config, Selection, load_config
from ..names import DEFAULT_KINDS, KINDS, EpdgName, check_kinds
from ..operators import NothingSelectedError, OperatorDb, load_operators
from ..plmn import Plmn
from ..resolve import ResolveOptions, ResolverCheck, RetryPolicy, parse_resolver, system_resolvers
from ..selection import names_for_selection
from .options import Count, Seconds, location_options, selection_options

F = TypeVar("F", bound=Callable[..., Any])


#: The parameters :func:`resolve_options` adds and turns into ``config`` and ``options``.
_SETTINGS = ("config_path", "countries", "mccs", "plmns", "overrides_files", "active_only",
             "kinds", "tac",
             "lac", "resolvers", "samples", "timeout", "retries", "concurrency")


def resolve_options(func: F) -> F:
    """Selection (``--country``, ``--mcc``, ``--plmn``, ``--overrides``), ``--kind``,
    ``--tac``, ``--lac``, ``--config``, ``--resolver``, ``--samples``, ``--timeout``,
    ``--retries``, ``--concurrency`` and ``--json``.

    The command receives them merged with the config file (:func:`settings`) as
    ``config: Config`` and ``options: ResolveOptions``, plus ``as_json``.
    """

    @functools.wraps(func)
    def command(**kwargs: Any) -> Any:
        config, options = settings(**{key: kwargs.pop(key) for key in _SETTINGS})
        return func(config=config, options=options, **kwargs)

    what = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="TOML config file (selection, resolvers, hold-down, outputs)."),
        click.option("--kind", "kinds", multiple=True, metavar="KIND",
                     show_default=" and ".join(DEFAULT_KINDS), cls=TextDefault,
                     help=f"Name form (repeatable): {', '.join(KINDS)}."),
    ]
    how = [
        click.option("--resolver", "resolvers", multiple=True, metavar="IP[:PORT]",
                     show_default="the system's (/etc/resolv.conf)", cls=TextDefault,
                     help="DNS server to ask (repeatable; [IPv6]:PORT)."),
        click.option("--samples", type=Count(1, 100), show_default="1", cls=TextDefault,
                     help="Ask every question N times per resolver; the union is kept."),
        click.option("--timeout", type=Seconds(0.01, 60), show_default="2", cls=TextDefault,
                     help="Seconds to wait for each answer."),
        click.option("--retries", type=Count(0, 10), show_default="2", cls=TextDefault,
                     help="Retries after a timeout or SERVFAIL, with backoff."),
        click.option("--concurrency", type=Count(1, 4096), show_default="256", cls=TextDefault,
                     help="Lookups in flight at once."),
        click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts."),
    ]
    decorated: Any = command
    for option in reversed(how):
        decorated = option(decorated)
    decorated = location_options(decorated)
    for option in reversed(what):
        decorated = option(decorated)
    return selection_options(decorated)


def settings(
    *,
    config_path: Path | None,
    countries: tuple[str, ...],
    mccs: tuple[str, ...],
    plmns: tuple[Plmn, ...],
    overrides_files: tuple[Path, ...],
    active_only: bool,
    kinds: tuple[str, ...],
    tac: int | None,
    lac: int | None,
    resolvers: tuple[str, ...],
    samples: int | None,
    timeout: float | None,
    retries: int | None,
    concurrency: int | None,
) -> tuple[Config, ResolveOptions]:
    """The config file (if any) with the command line's values put over it, and the resolver
    options. Raises ConfigError, UsageError (bad resolver or kind), NoResolverError."""
    config = load_config(config_path) if config_path else Config()
    selection = config.selection
    if countries or mccs or plmns:
        selection = replace(selection, countries=tuple(c.upper() for c in countries),
                            mccs=mccs, plmns=plmns)
    selection = replace(
        selection,
        kinds=kinds or selection.kinds,
        overrides=selection.overrides + overrides_files,
        active_only=active_only or selection.active_only,
        tac=selection.tac if tac is None else tac,
        lac=selection.lac if lac is None else lac,
    )
    check_kinds(selection.kinds or DEFAULT_KINDS, tac=selection.tac, lac=selection.lac)
    config = replace(
        config,
        selection=selection,
        resolvers=tuple(parse_resolver(r) for r in resolvers) or config.resolvers,
        samples=samples or config.samples,
        timeout=timeout or config.timeout,
        retries=config.retries if retries is None else retries,
        concurrency=concurrency or config.concurrency,
    )
    options = ResolveOptions(
        resolvers=config.resolvers or system_resolvers(),
        samples=config.samples,
        concurrency=config.concurrency,
        retry=RetryPolicy(timeout=config.timeout, retries=config.retries),
    )
    return config, options


def report_check(check: ResolverCheck, into: list[ResolverCheck]) -> None:
    """Keep a resolver's start-up probe for ``--json`` and print its warning (one line on
    stderr) at once, before the lookups end."""
    into.append(check)
    if check.warning is not None:
        click.echo(f"wifiq: warning: {check.warning}", err=True)


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """Progress of the lookups on stderr (``resolving: 120/240 lookups (50%), 3 s``) when stderr
    is a terminal and the run has lasted a second — also while every lookup waits on a dead
    resolver; None otherwise (carrierkit.progress)."""
    with progress(label, total, unit="lookups") as update:
        yield update


def lookup_count(names: int, options: ResolveOptions) -> int:
    """How many lookups a run of ``names`` names makes (A and AAAA, resolvers, samples)."""
    return names * 2 * len(options.resolvers) * options.samples


def selected_plmns(selection: Selection) -> tuple[OperatorDb, tuple[Plmn, ...]]:
    """The operator data and the PLMNs ``selection`` names (``--plmn``/``--country``/``--mcc``/
    ``--active-only``, or the config's ``[selection]``). Raises NothingSelectedError,
    UnknownCountryError, OperatorDataError."""
    if selection.empty:
        raise NothingSelectedError("select operators with --plmn, --country or --mcc, or in the "
                                   "[selection] table of a --config file")
    db = load_operators(overrides_files=selection.overrides)
    return db, db.select(country=selection.countries, mcc=selection.mccs, plmn=selection.plmns,
                         active_only=selection.active_only)


def command_line_selection(
    config: Config,
    countries: tuple[str, ...],
    mccs: tuple[str, ...],
    plmns: tuple[Plmn, ...],
    overrides_files: tuple[Path, ...],
    active_only: bool,
) -> Selection:
    """The command line's selection (``--country``/``--mcc``/``--plmn``) or else the config's
    ``[selection]``, with ``--overrides`` and ``--active-only`` added (``history``, ``probe``)."""
    selection = config.selection
    if countries or mccs or plmns:
        selection = Selection(countries=tuple(c.upper() for c in countries), mccs=mccs,
                              plmns=plmns)
    return replace(selection, overrides=selection.overrides + overrides_files,
                   active_only=active_only or selection.active_only)


def selected_targets(selection: Selection) -> tuple[OperatorDb, list[EpdgName]]:
    """The operator data and every name to look up for ``selection`` (published names
    included; FQDNs in lower case without the final dot). Raises NothingSelectedError,
    UnknownCountryError, UnknownKindError, OperatorDataError."""
    db, plmns = selected_plmns(selection)
    names = names_for_selection(db, plmns, selection.kinds or DEFAULT_KINDS,
                                tac=selection.tac, lac=selection.lac)
    return db, [EpdgName(n.plmn, n.kind, n.fqdn.rstrip(".").lower()) for n in names]
