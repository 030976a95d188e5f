"""Which addresses a probe is sent to (docs/wifiq-probe.md, "Which addresses are probed").

``--address`` is the user's own choice: any unicast address, loopback included (a lab's
responder), IPv6 link-local only with the zone of an interface of this host. Broadcast,
multicast and the unspecified address are refused as bad input (exit 2) before anything is
sent. An address from the state is a DNS answer: one that cannot be another host's (the
unspecified address, multicast, broadcast, loopback, link-local without a zone) is an ePDG name
pointing at a sinkhole or misconfigured, and is not probed — it ends as
``Outcome.NOT_PROBED`` with the reason, stored and shown like any outcome.
"""

from __future__ import annotations

import ipaddress

from ..errors import UsageError
from ..unicast import not_remote, unicast_problem
from .decision import Outcome, ProbeResult


def parse_address(text: str) -> str:
    """An ``--address`` value as the probe sends to it (canonical, with its ``%zone``); raise
    UsageError (one line naming the input) when it is no unicast IP address of a host."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        raise UsageError(f"--address {text!r} is not an IPv4 or IPv6 address") from None
    problem = unicast_problem(addr, "an ePDG's")
    if problem:
        raise UsageError(f"--address {text!r}: {problem}")
    if isinstance(addr, ipaddress.IPv6Address) and addr.is_link_local and addr.scope_id is None:
        raise UsageError(f"--address {text!r}: a link-local address without a zone (give the "
                         f"interface, as {addr}%eth0)")
    return str(addr)


def not_probed_reason(address: str) -> str:
    """'' when an address from the state (a DNS answer) is probed, else why it is not."""
    try:
        kind = not_remote(ipaddress.ip_address(address))
    except ValueError:
        return f"{address!r} is not an IP address"
    if not kind:
        return ""
    return f"{kind} address, not an ePDG's (a DNS sinkhole or misconfiguration)"


def not_probed(address: str, port: int, reason: str) -> ProbeResult:
    """The result of an (address, port) that was not probed: no request, no RTT."""
    return ProbeResult(address=address, port=port, outcome=Outcome.NOT_PROBED, rtt=None,
                       chosen=None, notifies=(), vendor_ids=(), group=0, requests=0,
                       detail=reason)
