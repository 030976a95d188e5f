"""The asyncio driver: runs many :class:`~wifiq.resolve.decision.Resolution` s over UDP at once.

One UDP socket per resolver carries every query to it (matched back by message ID and
question), so thousands of lookups cost no socket set-up each; truncated answers are asked
again over TCP. Concurrency is a fixed pool of workers, so memory stays bounded whatever the
selection's size. All decisions are the pure class's; this module only sends and waits.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import dns.asyncquery
import dns.exception
import dns.message
import dns.rdatatype

from ..errors import WifiqError
from .decision import PROBE_ZONE, Query, Resolution, RetryPolicy, recursion_problem
from .lookup import RECORD_TYPES, Lookup, ResolverAddress, ResolverCheck
from .wire import (
    OPT_RECORD_SIZE,
    TYPE_SOA,
    Response,
    WireError,
    encode_query,
    parse_response,
    response_from_message,
)

#: EDNS payload size advertised (the DNS flag day 2020 value: no fragmentation).
EDNS_PAYLOAD = 1232
#: Receive buffer asked for each resolver's socket, so a burst of answers is not dropped.
RECEIVE_BUFFER = 4 * 1024 * 1024


class ResolverSocketError(WifiqError):
    """A socket to ``resolver`` cannot be opened (e.g. IPv6 disabled): ``reason`` says why."""

    def __init__(self, resolver: ResolverAddress, reason: str) -> None:
        super().__init__(f"cannot open a socket to resolver {resolver}: {reason}")
        self.resolver = resolver
        self.reason = reason


@dataclass(frozen=True)
class ResolveOptions:
    """Who to ask and how hard: resolvers, samples per question, workers, retry policy."""

    resolvers: tuple[ResolverAddress, ...]
    samples: int = 1
    concurrency: int = 256
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_cnames: int = 8


class _Channel(asyncio.DatagramProtocol):
    """One connected UDP socket to one resolver, with the queries awaiting an answer."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, tuple[asyncio.Future[bytes | None], bytes]] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(data) < 12 or not data[2] & 0x80:  # too short, or not a response
            return
        entry = self.pending.get(int.from_bytes(data[:2], "big"))
        if entry is None:
            return
        future, question = entry
        if data[12 : 12 + len(question)].lower() != question or future.done():
            return  # an answer to some other question with the same ID: not ours
        future.set_result(data)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (port unreachable) name no query: the waiting lookups time out."""

    def new_id(self) -> int:
        while True:
            qid = secrets.randbelow(65536)
            if qid not in self.pending:
                return qid


class _Wires:
    """Query messages in wire form, built once per question; only the ID changes per send."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], tuple[bytes, bytes]] = {}

    def get(self, qname: str, qtype: int) -> tuple[bytes, bytes]:
        """(wire without the 2-byte ID, question section in lower case) for this question."""
        key = (qname, qtype)
        hit = self._cache.get(key)
        if hit is None:
            wire = encode_query(0, qname, qtype, payload=EDNS_PAYLOAD)
            question = wire[12:-OPT_RECORD_SIZE].lower()
            hit = self._cache[key] = (wire[2:], question)
        return hit


class Driver:
    """Runs lookups against open channels; one instance per event loop run."""

    def __init__(self, options: ResolveOptions) -> None:
        self.options = options
        self._channels: dict[ResolverAddress, _Channel] = {}
        self._wires = _Wires()

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        for resolver in self.options.resolvers:
            try:
                transport, channel = await loop.create_datagram_endpoint(
                    _Channel, remote_addr=(resolver.host, resolver.port)
                )
            except OSError as exc:
                self.close()
                raise ResolverSocketError(resolver, exc.strerror or str(exc)) from None
            sock = transport.get_extra_info("socket")
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            except OSError:
                pass  # the kernel's default buffer still works, with more drops under load
            self._channels[resolver] = channel

    def close(self) -> None:
        for channel in self._channels.values():
            if channel.transport is not None:
                channel.transport.close()

    async def lookup(
        self, name: str, rdtype: str, resolver: ResolverAddress, sample: int
    ) -> Lookup:
        """Drive one Resolution to its end against ``resolver``."""
        resolution = Resolution(
            name, rdtype, retry=self.options.retry, max_cnames=self.options.max_cnames
        )
        while (query := resolution.next_query()) is not None:
            if query.delay:
                await asyncio.sleep(query.delay)
            data = await self._ask_udp(query, resolver)
            if data is None:
                resolution.on_timeout()
                continue
            try:
                response = parse_response(data)
                if response.truncated:
                    response = await self._ask_tcp(query, resolver)
            except (WireError, dns.exception.DNSException, OSError, EOFError) as exc:
                # EOFError: dnspython's TCP read when the server closes before a whole answer
                resolution.on_bad_response(f"unusable answer: {type(exc).__name__}")
                continue
            resolution.on_response(response)
        return resolution.result(resolver=str(resolver), sample=sample)

    async def check(self, resolver: ResolverAddress) -> ResolverCheck:
        """Ask ``resolver`` once for the SOA of :data:`PROBE_ZONE` (recursion desired) and read
        whether it recurses; no retry (a resolver that does not answer fails its lookups)."""
        data = await self._ask_udp(Query(PROBE_ZONE, TYPE_SOA), resolver)
        try:
            response = parse_response(data) if data is not None else None
        except WireError:
            response = None
        problem = recursion_problem(response)
        return ResolverCheck(
            resolver=str(resolver),
            recurses=None if response is None else response.recursion_available,
            authoritative=None if response is None else response.authoritative,
            warning=None if problem is None else f"resolver {resolver} {problem}",
        )

    async def _ask_udp(self, query: Query, resolver: ResolverAddress) -> bytes | None:
        channel = self._channels[resolver]
        tail, question = self._wires.get(query.qname, query.qtype)
        loop = asyncio.get_running_loop()
        qid = channel.new_id()
        future: asyncio.Future[bytes | None] = loop.create_future()
        channel.pending[qid] = (future, question)
        timer = loop.call_later(self.options.retry.timeout, _expire, future)
        try:
            assert channel.transport is not None
            channel.transport.sendto(qid.to_bytes(2, "big") + tail)
            return await future
        finally:
            timer.cancel()
            del channel.pending[qid]

    async def _ask_tcp(self, query: Query, resolver: ResolverAddress) -> Response:
        """Ask again over TCP (after a truncated UDP answer), with dnspython's async client."""
        rdtype = dns.rdatatype.RdataType.make(query.qtype)
        msg = dns.message.make_query(query.qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        answer = await dns.asyncquery.tcp(
            msg, resolver.host, timeout=self.options.retry.timeout, port=resolver.port
        )
        return response_from_message(answer)


def _expire(future: asyncio.Future[bytes | None]) -> None:
    if not future.done():
        future.set_result(None)


def plan(
    names: Iterable[str], options: ResolveOptions, rdtypes: tuple[str, ...] = RECORD_TYPES
) -> list[tuple[str, str, ResolverAddress, int]]:
    """Every (name, type, resolver, sample) to ask, names de-duplicated case-insensitively."""
    unique = list(dict.fromkeys(n.rstrip(".").lower() for n in names))
    return [
        (name, rdtype, resolver, sample)
        for sample in range(options.samples)
        for resolver in options.resolvers
        for name in unique
        for rdtype in rdtypes
    ]


async def resolve_async(
    names: Iterable[str],
    options: ResolveOptions,
    *,
    rdtypes: tuple[str, ...] = RECORD_TYPES,
    progress: Callable[[int], None] | None = None,
    on_check: Callable[[ResolverCheck], None] | None = None,
) -> list[Lookup]:
    """Ask every question of :func:`plan` with at most ``options.concurrency`` in flight.

    ``progress(n)`` is called as lookups finish. With ``on_check``, each resolver is first
    probed (:meth:`Driver.check`, in the same pool of workers, so before its lookups and within
    the concurrency) and ``on_check`` gets the result as soon as it is known. Returns lookups
    in plan order. Raises ResolverSocketError if a resolver's socket cannot be opened (e.g.
    IPv6 unavailable).
    """
    jobs = plan(names, options, rdtypes)
    results: list[Lookup | None] = [None] * len(jobs)
    probes = list(options.resolvers) if on_check is not None else []
    pending: Iterator[int] = iter(range(-len(probes), len(jobs)))
    driver = Driver(options)
    await driver.open()

    async def worker() -> None:
        for index in pending:
            if index < 0:
                assert on_check is not None
                on_check(await driver.check(probes[index]))
                continue
            results[index] = await driver.lookup(*jobs[index])
            if progress is not None:
                progress(1)

    try:
        workers = max(1, min(options.concurrency, len(jobs) + len(probes)))
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        driver.close()
    return [r for r in results if r is not None]


def resolve(
    names: Iterable[str],
    options: ResolveOptions,
    *,
    rdtypes: tuple[str, ...] = RECORD_TYPES,
    progress: Callable[[int], None] | None = None,
    on_check: Callable[[ResolverCheck], None] | None = None,
) -> list[Lookup]:
    """Synchronous wrapper of :func:`resolve_async` (runs its own event loop)."""
    return asyncio.run(
        resolve_async(names, options, rdtypes=rdtypes, progress=progress, on_check=on_check)
    )
