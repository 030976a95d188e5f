"""A UDP relay on loopback in front of a DNS server (knot) that holds every answer back for a
while: latency on demand, and a count of the queries in flight (what ``--concurrency`` bounds).

Used by the resolution tests and by ``benchmarks/resolve_bench.py``.
"""

from __future__ import annotations

import asyncio
import threading


def _key(message: bytes) -> bytes:
    """ID and question of a query or its answer (the question is never compressed)."""
    end = 12
    while end < len(message) and message[end]:
        end += message[end] + 1
    return message[:2] + message[12 : end + 5]


class DelayRelay:
    """Forwards queries to ``upstream`` and each answer back ``delay`` seconds after it arrives
    (its own event loop in a thread). ``max_in_flight``: the most queries received and not yet
    answered at one time."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.port = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "DelayRelay":
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("the delay relay did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        relay = self
        pending: dict[bytes, tuple[str, int]] = {}

        def answer(data: bytes, client: tuple[str, int]) -> None:
            relay.in_flight -= 1
            down.sendto(data, client)

        class Up(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: object) -> None:
                client = pending.pop(_key(data), None)
                if client is not None:
                    relay.loop.call_later(relay.delay, answer, data, client)

        class Down(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
                pending[_key(data)] = addr
                relay.in_flight += 1
                relay.max_in_flight = max(relay.max_in_flight, relay.in_flight)
                up.sendto(data)

        up, _ = self.loop.run_until_complete(
            self.loop.create_datagram_endpoint(Up, remote_addr=self.upstream))
        down, _ = self.loop.run_until_complete(
            self.loop.create_datagram_endpoint(Down, local_addr=("127.0.0.1", 0)))
        self.port = down.get_extra_info("sockname")[1]
        self.ready.set()
        self.loop.run_forever()
        up.close()
        down.close()
        self.loop.run_until_complete(asyncio.sleep(0))  # let the transports close
