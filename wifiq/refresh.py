"""One refresh: resolve the selection, fold the answers into the state, report the diff.

Nothing is written until every lookup has ended; then the whole refresh is stored in one
transaction (:meth:`~wifiq.store.StateStore.record_refresh`), so a refresh killed at any point
leaves the previous state or the new one.

Exit statuses (the ``wifiq refresh`` contract, see docs/wifiq-cron.md):
0 nothing changed, every lookup answered; 3 changed, every lookup answered; 4 nothing changed,
some lookups failed or a mass removal was refused (their last good addresses kept); 5 changed
and some lookups failed (or a mass removal was refused); 1 fatal (every lookup failed, the state
is busy or unreadable, an output or the on-change command failed); 2 bad command line or config.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from . import __version__, checkpoint
from .holddown import (
    AddressState,
    HoldDown,
    MassRemoval,
    Observation,
    RemovalGuard,
    apply,
    mass_removal,
)
from .names import EpdgName
from .operators import OperatorDb
from .report import OperatorReport, failure_kind, lookup_status, operator_reports
from .resolve import Lookup, ResolveOptions, ResolverCheck, resolve, summarize
from .resolve.lookup import RECORD_TYPES, Outcome
from .resolve.summary import NameSummary
from .store import StateStore

EXIT_UNCHANGED = 0
EXIT_FATAL = 1
EXIT_CHANGED = 3
EXIT_PARTIAL = 4
EXIT_PARTIAL_CHANGED = 5


def exit_status(status: str, changed: bool) -> int:
    """The process exit status of a refresh ending in ``status`` (``unchanged``, ``changed``,
    ``partial``, ``failed``); ``changed``: a change is signalled (the active set changed, or an
    earlier change is delivered now)."""
    if status == "failed":
        return EXIT_FATAL
    if status == "partial":
        return EXIT_PARTIAL_CHANGED if changed else EXIT_PARTIAL
    return EXIT_CHANGED if changed else EXIT_UNCHANGED


@dataclass(frozen=True)
class RefreshResult:
    """A stored refresh: its status, time, run id and per-operator reports.

    ``active`` maps each looked-up name to its active addresses after the run; ``repeated``
    maps each name that failed in this run and in the run before to (since when, kind).
    """

    status: str
    refreshed_at: float
    run_id: int
    reports: tuple[OperatorReport, ...]
    lookups: tuple[Lookup, ...]
    previous_at: float | None = None
    changed: bool = False
    active: dict[str, frozenset[str]] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, tuple[float, str]] = field(default_factory=dict)
    refused: MassRemoval | None = None
    """A mass removal the guard refused (the addresses were kept; the status is partial)."""

    @property
    def exit_code(self) -> int:
        return exit_status(self.status, self.changed)


def observations(summaries: dict[str, NameSummary]) -> list[Observation]:
    """One :class:`Observation` per (name, family) from the lookups' summaries."""
    out = []
    for name, summary in summaries.items():
        for rdtype in RECORD_TYPES:
            of_type = [lk for lk in summary.lookups if lk.rdtype == rdtype]
            if not of_type:
                continue
            found = frozenset(summary.addresses_of(rdtype))
            if found:
                word = "addresses"
            elif any(lk.outcome is Outcome.NXDOMAIN for lk in of_type):
                word = "nxdomain"
            else:
                word = "nodata"
            family = 6 if rdtype == "AAAA" else 4
            out.append(Observation(name, family, summary.complete(rdtype), found, word))
    return out


def by_name(states: Sequence[AddressState]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for state in states:
        grouped.setdefault(state.name, []).append(state.address)
    return grouped


def run_refresh(
    db: OperatorDb,
    targets: Sequence[EpdgName],
    options: ResolveOptions,
    hold: HoldDown,
    store: StateStore,
    *,
    progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.time,
    retention: float | None = None,
    guard: RemovalGuard | None = None,
    on_check: Callable[[ResolverCheck], None] | None = None,
) -> RefreshResult:
    """Resolve ``targets``, apply the hold-down, store the run and return its diff.

    ``guard`` (default: :class:`RemovalGuard`'s 50 %) refuses a mass removal: the addresses
    stay active and the status is ``partial``. ``on_check`` receives each resolver's
    start-up probe. Raises ResolverSocketError when a resolver's socket cannot be opened and
    StateError when the state cannot be written (nothing is stored then).
    """
    refreshed_at = clock()
    fqdns = list(dict.fromkeys(t.fqdn for t in targets))
    if checkpoint.enabled():  # crash tests stop the process at exact points (checkpoint.py)
        progress = checkpoint.counting(progress)
    lookups = resolve(fqdns, options, progress=progress, on_check=on_check)
    summaries = summarize(lookups)
    previous = store.active(fqdns)
    last = store.last_run()
    failing_before = store.failing()
    seen = observations(summaries)
    active, changes = apply(previous, seen, hold, refreshed_at)
    refused = mass_removal(active, changes, guard or RemovalGuard())
    if refused is not None:  # keep every address; the hold-down counters still advance
        active, changes = apply(previous, seen, hold.never_expiring(), refreshed_at)
    status = lookup_status(lookups, changed=bool(changes))
    if refused is not None and status != "failed":
        status = "partial"  # a refused removal is a failure: exit 4 (5 if something changed)
    failing = {n: failure_kind(s) for n, s in summaries.items() if s.failures}
    run_id = store.record_refresh(
        refreshed_at=refreshed_at,
        finished_at=clock(),
        status=status,
        wifiq_version=__version__,
        lookups=lookups,
        active=active,
        replaced_names=fqdns,
        changes=changes,
        name_plmns=((t.fqdn, str(t.plmn), t.kind) for t in targets),
        failing=failing,
        retention=retention,
    )
    checkpoint.reached("stored")
    reports = operator_reports(
        db, targets, summaries, by_name(previous), by_name(active), changes
    )
    return RefreshResult(
        status,
        refreshed_at,
        run_id,
        tuple(reports),
        tuple(lookups),
        last.refreshed_at if last else None,
        changed=bool(changes),
        active={n: frozenset(a) for n, a in by_name(active).items()},
        failing=failing,
        repeated={n: (failing_before[n][0], kind) for n, kind in failing.items()
                  if n in failing_before},
        refused=refused,
    )
