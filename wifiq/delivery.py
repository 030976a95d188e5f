"""What each consumer of a refresh's changes has not received yet.

A *consumer* is an ``[[outputs]]`` file, the printed report or the ``--on-change`` command. The
state records the run each one reflects (:meth:`~wifiq.store.StateStore.deliveries`); a
refresh redoes whatever is behind, so an output that failed (disk full), a report that could
not be printed or an on-change command that failed is done again by the next refresh, with the
change accumulated since the run it reflects. Pure given a store: no file or process I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .config import Output
from .store import HistoryEvent, StateStore

REPORT = "report"
"""The consumer key of the printed report (text or ``--json``)."""
ON_CHANGE = "on-change"
"""The consumer key of the ``--on-change`` command."""


def output_key(output: Output) -> str:
    """An output's consumer key: target, mode, DSCP, prefix, options and absolute path (a
    change to any of them makes a new consumer, written in full)."""
    mode = "delta" if output.delta else "full"
    extra = "".join(f" {k}={v}" for k, v in sorted(output.options))
    if output.prefix is not None:
        extra = f" prefix={output.prefix}{extra}"
    return f"output {output.target} {mode} dscp={output.dscp}{extra} {output.path.absolute()}"


@dataclass(frozen=True)
class Backlog:
    """The deliveries recorded in the state, read after run ``run_id`` was stored."""

    run_id: int
    delivered: Mapping[str, int]
    last_change: int
    """The newest run that changed an active set (0: none)."""

    def baseline(self, consumer: str) -> int:
        """The run ``consumer`` reflects (0: none, it has seen no address yet)."""
        return self.delivered.get(consumer, 0)

    def behind(self, consumer: str) -> bool:
        """True when a change happened after the run ``consumer`` reflects."""
        return self.baseline(consumer) < self.last_change


class ActiveHistory:
    """The active addresses of the selected names as they were after an earlier run, worked
    back from the active set now and the changes since (cached per run)."""

    def __init__(self, store: StateStore, now: Mapping[str, frozenset[str]]) -> None:
        self._store = store
        self._now = now
        self._cache: dict[int, tuple[dict[str, frozenset[str]], float | None]] = {}

    def at(self, run_id: int) -> tuple[dict[str, frozenset[str]], float | None]:
        """(name → addresses, time of that run) after run ``run_id`` (0: before the first)."""
        if run_id not in self._cache:
            self._cache[run_id] = _undo(self._now, self._store.changes_after(run_id)), (
                self._store.run_time(run_id)
            )
        return self._cache[run_id]


def _undo(
    now: Mapping[str, frozenset[str]], events: Sequence[HistoryEvent]
) -> dict[str, frozenset[str]]:
    """``now`` with ``events`` (oldest first) undone, newest first."""
    then = {name: set(addresses) for name, addresses in now.items()}
    for event in reversed(events):
        if event.name not in now:
            continue  # a name not selected now: not in any output
        if event.change == "added":
            then[event.name].discard(event.address)
        else:
            then[event.name].add(event.address)
    return {name: frozenset(addresses) for name, addresses in then.items()}


def load_backlog(store: StateStore, run_id: int) -> Backlog:
    """The recorded deliveries and the newest change, read after run ``run_id``."""
    return Backlog(run_id, store.deliveries(), store.last_change_run())


def unreported(store: StateStore, backlog: Backlog) -> list[HistoryEvent]:
    """Changes of runs before ``backlog.run_id`` that no printed report has shown."""
    return [e for e in store.changes_after(backlog.baseline(REPORT)) if e.run_id < backlog.run_id]
