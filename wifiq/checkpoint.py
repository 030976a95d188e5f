"""Named points of a refresh where a test can stop the process, to kill it exactly there.

A crash test cannot rely on timing (a loaded machine finishes early or late), so the refresh
announces where it is: when ``WIFIQ_TEST_PAUSE_AT`` names the point being reached and
``WIFIQ_TEST_MARKER`` names a file, the process writes the point's name to that file and sleeps
(the test then sends SIGKILL). Without both variables, :func:`reached` is one dictionary lookup.

Points: ``lookups:<n>`` (n lookups have ended, nothing written yet), ``store:observations``
(inside the refresh's transaction, the run and its observations inserted),
``store:commit`` (every row written, just before COMMIT), ``stored`` (committed; reports,
outputs and the exit status still to come), ``store:migrated`` (opening a schema-1 or 2 state:
its observations and probe rows turned into spans, not committed yet), ``store:probes`` (a run
of probes: every row written, just before COMMIT).
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
    """At ``point``: when the environment asks to pause there, write the marker and wait."""
    if os.environ.get(PAUSE_AT) != point or MARKER not in os.environ:
        return
    atomic_write_text(os.environ[MARKER], point)  # whole or absent: the test reads it at once
    time.sleep(PAUSE_SECONDS)


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
