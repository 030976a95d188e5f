"""The asyncio driver: runs many :class:`~wifiq.probe.decision.Probe` s over UDP at once.

Each probe has its own *connected* UDP socket (an ephemeral source port), so the kernel hands
it only its destination's datagrams and reports an ICMP error for it as ``ECONNREFUSED`` /
``EHOSTUNREACH`` (asyncio's ``error_received``). A fixed pool of workers bounds the sockets
and probes in flight (``concurrency``); a per-destination rate spaces the requests sent to one
address (``rate`` per second, over both ports). ``phone_ports`` sends from the destination's
port instead, as a phone does. All decisions are the pure class's; this
module only sends and waits. Cancelling (Ctrl-C) closes every socket.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import WifiqError
from .decision import Probe, ProbePolicy, ProbeResult
from .ike import IKE_PORT, NATT_PORT

#: What each socket error of a connected UDP socket means for a probe.
_ICMP_REASONS = {
    errno.ECONNREFUSED: "ICMP port unreachable",
    errno.EHOSTUNREACH: "ICMP host unreachable or administratively prohibited",
    errno.ENETUNREACH: "network unreachable",
    errno.EACCES: "not sent: a broadcast address (EACCES), or a local security policy",
    errno.EPERM: "refused by a local firewall",
}


@dataclass(frozen=True)
class ProbeOptions:
    """Where and how hard: ``ports`` per address, ``concurrency`` probes in flight, ``rate``
    requests per second to one address, and the per-probe policy."""

    ports: tuple[int, ...] = (IKE_PORT, NATT_PORT)
    concurrency: int = 256
    rate: float = 10.0
    policy: ProbePolicy = field(default_factory=ProbePolicy)
    phone_ports: bool = False
    """Send from the destination's port (500→500, 4500→4500) as a phone does, instead of an
    ephemeral port (needs root; sockets share the port with SO_REUSEADDR, each connected to
    its destination so the kernel still hands each probe its own replies and ICMP errors)."""


class SourcePortError(WifiqError):
    """``--phone-ports``: the local UDP ``port`` cannot be bound (``reason``)."""

    def __init__(self, port: int, reason: str) -> None:
        super().__init__(f"cannot send from UDP port {port} (--phone-ports): {reason}")
        self.port = port
        self.reason = reason


class _Endpoint(asyncio.DatagramProtocol):
    """One connected socket's datagrams and errors, with their arrival time, in a queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes | None, OSError | None, float]] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.queue.put_nowait((data, None, asyncio.get_running_loop().time()))

    def error_received(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.queue.put_nowait((None, exc, asyncio.get_running_loop().time()))


class _Pacer:
    """Per-destination spacing: one request to an address every ``1 / rate`` seconds, counted
    from when the previous one was actually sent: the caller builds and sends the request right
    after :meth:`wait` returns and then calls :meth:`sent`, with no await in between (so no
    other probe of the address can slip in). Counting from the send, not from ``wait``, keeps
    the time spent building a first request (its KE) out of the spacing."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next: dict[str, float] = {}

    async def wait(self, address: str) -> None:
        loop = asyncio.get_running_loop()
        while (delay := self._next.get(address, 0.0) - loop.time()) > 0:
            await asyncio.sleep(delay)

    def sent(self, address: str) -> None:
        self._next[address] = asyncio.get_running_loop().time() + self.interval


def reason_of(exc: OSError) -> str:
    """A one-line reason for a socket error (ICMP-derived where the errno says so)."""
    return _ICMP_REASONS.get(exc.errno or 0, exc.strerror or str(exc))


def _phone_socket(address: str, port: int, family: int, wildcard: str) -> socket.socket:
    """A UDP socket bound to ``port`` (shared, SO_REUSEADDR) and connected to the destination.
    Raises SourcePortError when the port cannot be bound, OSError when connecting fails."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setblocking(False)
        try:
            sock.bind((wildcard, port))
        except OSError as exc:
            raise SourcePortError(port, exc.strerror or str(exc)) from None
        # the sockaddr of getaddrinfo keeps an IPv6 zone (fe80::1%eth0); a (host, port) tuple
        # would drop it and make connect fail with EINVAL
        sock.connect(socket.getaddrinfo(address, port, family, socket.SOCK_DGRAM, 0,
                                        socket.AI_NUMERICHOST)[0][4])
        return sock
    except BaseException:
        sock.close()
        raise


async def probe_one(address: str, port: int, policy: ProbePolicy, pacer: _Pacer,
                    phone_ports: bool = False) -> ProbeResult:
    """Drive one probe of ``address`` on ``port`` to its end."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    wildcard = "::" if family == socket.AF_INET6 else "0.0.0.0"
    try:
        if phone_ports:
            transport, endpoint = await loop.create_datagram_endpoint(
                _Endpoint, sock=_phone_socket(address, port, family, wildcard))
        else:
            transport, endpoint = await loop.create_datagram_endpoint(
                _Endpoint, remote_addr=(address, port), family=family)
    except OSError as exc:  # no route, address family disabled
        probe = Probe(address, port, source=(wildcard, 0), policy=policy)
        probe.on_unreachable(reason_of(exc), loop.time())
        return probe.result()
    try:
        source = transport.get_extra_info("sockname")
        probe = Probe(address, port, source=(str(source[0]), int(source[1])), policy=policy)
        while probe.wants_to_send:
            await pacer.wait(address)
            wire = probe.next_request(loop.time())
            if wire is None:
                break
            transport.sendto(wire)
            pacer.sent(address)
            deadline = loop.time() + policy.timeout
            while True:
                remaining = deadline - loop.time()
                try:
                    if remaining <= 0:
                        raise TimeoutError
                    data, error, at = await asyncio.wait_for(endpoint.queue.get(), remaining)
                except (TimeoutError, asyncio.TimeoutError):
                    probe.on_timeout()
                    break
                if error is not None:
                    probe.on_unreachable(reason_of(error), at)
                    break
                assert data is not None
                if probe.on_reply(data, at):
                    break
        probe.next_request(loop.time())  # ends a probe whose retries ran out
        return probe.result()
    finally:
        transport.close()


def plan(addresses: Iterable[str], ports: tuple[int, ...]) -> list[tuple[str, int]]:
    """Every (address, port) to probe, addresses de-duplicated, each address's ports
    together."""
    return [(a, p) for a in dict.fromkeys(addresses) for p in dict.fromkeys(ports)]


def schedule(jobs: list[tuple[str, int]]) -> list[int]:
    """The order to start the jobs of :func:`plan` in: every address's first port, then every
    address's second port, … — an address's ports far apart, so the per-destination rate
    seldom holds a worker back (in plan order each address's second port waited ``1 / rate``
    behind its first)."""
    rank: dict[str, int] = {}
    order = []
    for index, (address, _) in enumerate(jobs):
        position = rank.get(address, 0)
        rank[address] = position + 1
        order.append((position, index))
    return [index for _, index in sorted(order)]


async def probe_async(
    addresses: Iterable[str],
    options: ProbeOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[ProbeResult]:
    """Probe every (address, port) of :func:`plan` with at most ``options.concurrency`` in
    flight, started in the order of :func:`schedule`; results in plan order."""
    jobs = plan(addresses, options.ports)
    results: list[ProbeResult | None] = [None] * len(jobs)
    pending = iter(schedule(jobs))
    pacer = _Pacer(options.rate)

    async def worker() -> None:
        for index in pending:
            address, port = jobs[index]
            results[index] = await probe_one(address, port, options.policy, pacer,
                                             options.phone_ports)
            if progress is not None:
                progress(1)

    workers = max(1, min(options.concurrency, len(jobs)))
    await asyncio.gather(*(worker() for _ in range(workers)))
    return [r for r in results if r is not None]


def probe(
    addresses: Iterable[str],
    options: ProbeOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> list[ProbeResult]:
    """Synchronous wrapper of :func:`probe_async` (runs its own event loop)."""
    return asyncio.run(probe_async(addresses, options, progress=progress))
