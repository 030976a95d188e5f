"""Named points of a refresh where a test can stop the process, to kill it exactly there.

A crash test cannot rely on timing (a loaded machine finishes early or late), so the refresh
announces where it is: when ``WIFIQ_TEST_PAUSE_AT`` names the point being reached and
``WIFIQ_TEST_MARKER`` names a file, the process writes the point's name to that file and sleeps
(the test then sends SIGKILL, or deletes the marker file to let it go on). Without both
variables, :func:`reached` is one dictionary lookup.

Points: ``lookups:<n>`` (n lookups have ended, nothing written yet), ``store:observations``
(inside the refresh's transaction, the run and its observations inserted),
``store:commit`` (every row written, just before COMMIT), ``stored`` (committed; reports,
outputs and the exit status still to come), ``store:migrated`` (opening a schema-1 or 2 state:
its observations and probe rows turned into spans, not committed yet), ``store:set-up`` (any
writing open: schema and marks written, just before COMMIT), ``store:probes`` (a run of probes:
every row written, just before COMMIT). Creating a new state (:mod:`wifiq.store.create`):
``store:create:empty`` (the temporary file made and locked, 0 bytes), then ``store:set-up``
in it, ``store:create:committed`` (committed, the connection still open: its WAL beside it),
``store:create:built`` (closed and fsynced, not linked), ``store:create:linked`` (the state in
place, the temporary name not yet deleted).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from carrierkit.fileio import atomic_write_text

PAUSE_AT = "WIFIQ_TEST_PAUSE_AT"
MARKER = "WIFIQ_TEST_MARKER"
PAUSE_SECONDS = 300.0  # long enough for any test to see the marker and kill


def enabled() -> bool:
    return PAUSE_AT in os.environ and MARKER in os.environ


def reached(point: str) -> None:
    """At ``point``: when the environment asks to pause there, write the marker and wait
    until the marker is deleted (or :data:`PAUSE_SECONDS` have passed)."""
    if os.environ.get(PAUSE_AT) != point or MARKER not in os.environ:
        return
    marker = os.environ[MARKER]
    atomic_write_text(marker, point)  # whole or absent: the test reads it at once
    deadline = time.monotonic() + PAUSE_SECONDS
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.01)


def counting(progress: Callable[[int], None] | None) -> Callable[[int], None]:
    """``progress`` that also reaches ``lookups:<n>`` as lookups end."""
    done = 0

    def update(n: int) -> None:
        nonlocal done
        if progress is not None:
            progress(n)
        for _ in range(n):
            done += 1
            reached(f"lookups:{done}")

    return update
