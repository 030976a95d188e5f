"""The card side of vpcd's socket protocol (vsmartcard's virtual reader in server mode).

Every message is a 2-byte big-endian length and a payload. A 1-byte payload is a control code:
00 power off, 01 power on, 02 reset, 04 "send the ATR". Anything longer is a command APDU to
answer with a response APDU. TCP_NODELAY plus TCP_QUICKACK before every recv keep a round trip
at ~0.2 ms instead of ~40 ms (Nagle against delayed ACK).
"""

from __future__ import annotations

import socket
import time

CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_ATR = 0x04


class VpcdLink:
    """A TCP connection to vpcd's slot port (the card is the client)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    def connect(cls, host: str, port: int, timeout: float = 10.0) -> "VpcdLink":
        """Connect, retrying until vpcd listens; raises OSError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((host, port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock)

    def _recv_exact(self, n: int) -> bytes | None:
        buf = bytearray()
        while len(buf) < n:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return bytes(buf)

    def receive(self) -> bytes | None:
        """The next message's payload, or None when vpcd closed the connection."""
        head = self._recv_exact(2)
        if head is None:
            return None
        length = int.from_bytes(head, "big")
        return self._recv_exact(length) if length else b""

    def send(self, payload: bytes) -> None:
        self.sock.sendall(len(payload).to_bytes(2, "big") + payload)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
