"""What a run of probes amounts to: its status and exit status, text lines and the ``--json``
document of ``wifiq probe`` (``docs/wifiq-probe.md``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .. import __version__
from ..holddown import format_time
from .decision import ProbeResult

#: Exit statuses, in the style of ``wifiq refresh`` (docs/wifiq-cron.md).
EXIT_ALL_REACHABLE = 0
EXIT_NONE_REACHABLE = 1
EXIT_SOME_UNREACHABLE = 4


def probe_status(results: Sequence[ProbeResult]) -> str:
    """``ok`` every (address, port) reachable; ``partial`` some not; ``failed`` none (or
    nothing probed)."""
    reachable = sum(1 for r in results if r.outcome.reachable)
    if results and reachable == len(results):
        return "ok"
    return "partial" if reachable else "failed"


def exit_status(status: str) -> int:
    return {"ok": EXIT_ALL_REACHABLE, "partial": EXIT_SOME_UNREACHABLE}.get(
        status, EXIT_NONE_REACHABLE)


def format_result(result: ProbeResult, names: Sequence[str] = ()) -> str:
    """One text line: address, port, outcome, RTT, chosen proposal or detail, names."""
    rtt = "-" if result.rtt is None else f"{result.rtt * 1000:.1f} ms"
    what = result.chosen or result.detail
    suffix = f"  ({', '.join(names)})" if names else ""
    return (f"{result.address:<39} {result.port:>5}  {result.outcome.value:<18} {rtt:>10}  "
            f"{what}{suffix}")


def reachability_news(
    results: Sequence[ProbeResult], previous: Mapping[tuple[str, int], bool]
) -> list[str]:
    """Text lines for what is news since the previous stored probe: an (address, port) whose
    reachability changed, or probed for the first time and not reachable."""
    lines = []
    for r in results:
        before = previous.get((r.address, r.port))
        if before is None and r.outcome.reachable or before == r.outcome.reachable:
            continue
        was = "first probe" if before is None else ("was reachable" if before
                                                     else "was not reachable")
        lines.append(f"reachability: {r.address} port {r.port} {r.outcome.value} ({was}): "
                     f"{r.detail}")
    return lines


def document(
    status: str,
    started: float,
    results: Sequence[ProbeResult],
    names: Mapping[str, Sequence[str]],
) -> dict[str, object]:
    """The ``--json`` document: status, when, version and one entry per (address, port)."""
    return {
        "status": status,
        "probed_at": format_time(started),
        "wifiq_version": __version__,
        "results": [dict(r.to_json(), names=list(names.get(r.address, ())))
                    for r in results],
    }
