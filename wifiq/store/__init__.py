"""wifiq's state: every observation, the active addresses and the probes' spans in SQLite
(:mod:`.db`, :mod:`.probes`), the atomic creation of a new state (:mod:`.create`), the refresh lock (:mod:`.lock`) and where the state lives by default (:mod:`.paths`)."""

from .db import EmptyStateError, HistoryEvent, LatestRefresh, RunRecord, StateError, StateStore
from .lock import RefreshLock, StateBusyError
from .probes import ProbeRun, ProbeSpan, StoredProbeRun
from .paths import default_state_path

__all__ = [
    "EmptyStateError",
    "HistoryEvent",
    "LatestRefresh",
    "ProbeRun",
    "ProbeSpan",
    "RefreshLock",
    "RunRecord",
    "StateBusyError",
    "StateError",
    "StateStore",
    "StoredProbeRun",
    "default_state_path",
]
