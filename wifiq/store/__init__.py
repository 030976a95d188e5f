"""wifiq's state: every observation and the active addresses in SQLite (:mod:`.db`), the
refresh lock (:mod:`.lock`) and where the state lives by default (:mod:`.paths`)."""

from .db import EmptyStateError, HistoryEvent, LatestRefresh, RunRecord, StateError, StateStore
from .lock import RefreshLock, StateBusyError
from .paths import default_state_path

__all__ = [
    "EmptyStateError",
    "HistoryEvent",
    "LatestRefresh",
    "RefreshLock",
    "RunRecord",
    "StateBusyError",
    "StateError",
    "StateStore",
    "default_state_path",
]
