"""A resolver whose UDP answers are truncated and whose TCP side closes at once: every lookup
is a failure named in the report (one line of summary), never a traceback or an 'aborted' exit."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import pytest


class TruncateThenHangUp:
    """UDP: every answer has TC set; TCP on the same port: accept, then close without a byte."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", self.port))
        self.tcp.listen(64)
        self.udp.settimeout(0.1)
        self.tcp.settimeout(0.1)
        self.hangups = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=f, daemon=True) for f in (self._serve_udp, self._serve_tcp)]

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(4096)
            except (TimeoutError, socket.timeout):
                continue
            response = dns.message.make_response(dns.message.from_wire(data))
            response.flags |= dns.flags.TC | dns.flags.RA
            self.udp.sendto(response.to_wire(), peer)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (TimeoutError, socket.timeout):
                continue
            self.hangups += 1
            conn.close()

    def __enter__(self) -> TruncateThenHangUp:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def hangup() -> Iterator[TruncateThenHangUp]:
    with TruncateThenHangUp() as server:
        yield server


def test_a_tcp_fallback_closed_without_an_answer_is_a_failed_lookup(wifiq, hangup):
    run = wifiq("resolve", "--plmn", "505-01", "--resolver", f"127.0.0.1:{hangup.port}",
                "--timeout", "0.5", "--retries", "0")
    assert hangup.hangups > 0
    assert "Traceback" not in run.err and "aborted" not in run.err
    assert run.code == 1  # every lookup failed
    assert "4 of 4 lookups failed" in run.err
    assert run.out.count("[A:servfail AAAA:servfail]") == 2  # the outcome of an unusable answer
