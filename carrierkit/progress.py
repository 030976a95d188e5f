"""Progress on stderr for long work, only when stderr is a terminal.

Nothing is drawn for the first second (short runs stay quiet), then one line is redrawn in place
a few times a second — also while no unit of work finishes (a dead resolver still shows the
clock running) — and erased at the end, so the output that follows starts on a clean line.
Scripts, cron and pipes (stderr not a terminal) never see it.

    with progress("resolving", total=240, unit="lookups") as update:
        do_work(progress=update)          # update is None when nothing is drawn

Thread-safe enough for its use: ``update`` only adds to a counter; one daemon thread draws.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import TextIO

DELAY = 1.0  # seconds of work before anything is drawn
INTERVAL = 0.2  # seconds between redraws


class _Line:
    """The counter and the drawing thread of one progress line."""

    def __init__(self, label: str, total: int | None, unit: str, stream: TextIO,
                 delay: float, clock: Callable[[], float]) -> None:
        self.label, self.total, self.unit, self.stream = label, total, unit, stream
        self.delay, self.clock = delay, clock
        self.done = 0
        self.started = clock()
        self.drawn = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="carrierkit-progress", daemon=True)

    def update(self, n: int = 1) -> None:
        self.done += n

    def text(self) -> str:
        """The line as drawn now, e.g. ``resolving: 120/240 lookups (50%), 3 s``."""
        elapsed = int(self.clock() - self.started)
        if self.unit == "bytes":
            mib = 1024 * 1024
            count = f"{self.done / mib:.0f}" + (f"/{self.total / mib:.0f}" if self.total else "")
            count += " MiB"
        else:
            count = f"{self.done}" + (f"/{self.total}" if self.total else "")
            count += f" {self.unit}" if self.unit else ""
        if self.total:
            count += f" ({min(100, 100 * self.done // self.total)}%)"
        return f"{self.label}: {count}, {elapsed} s"

    def _draw(self) -> None:
        try:
            self.stream.write("\r\x1b[K" + self.text())
            self.stream.flush()
            self.drawn = True
        except (OSError, ValueError):  # terminal gone or stream closed: stop drawing
            self._stop.set()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self._draw()
            self._stop.wait(INTERVAL)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.drawn:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\r\x1b[K")
                self.stream.flush()


@contextlib.contextmanager
def progress(label: str, total: int | None = None, *, unit: str = "",
             stream: TextIO | None = None, delay: float = DELAY,
             clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[int], None] | None]:
    """Yield ``update(n)`` drawing progress on ``stream`` (stderr) when it is a terminal, else None.

    ``total`` may be None (count only). ``unit`` names what is counted; ``"bytes"`` shows MiB.
    """
    out = sys.stderr if stream is None else stream
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        yield None
        return
    line = _Line(label, total, unit, out, delay, clock)
    line.start()
    try:
        yield line.update
    finally:
        line.finish()
