"""A UDP service that is not IKE, for the probe's ``malformed`` outcome: "something else
answers on UDP 500/4500" (a middlebox, another service on the ePDG's address).

Run inside a test's server namespace::

    python -m tests.rig.udp_service --mode echo 192.0.2.30 500 4500

Binds each port on the address and answers every datagram: ``echo`` sends it back unchanged
(the RFC 862 echo service), ``text`` sends one line of text (a service with a banner). Two modes
answer an IKE_SA_INIT with a REDIRECT (RFC 5685) to :data:`REDIRECT_TO` that a probe must not
take, as a spoofer or a broken responder would send: ``redirect-no-nonce`` without the Nonce
Data, ``redirect-other-nonce`` with a nonce that is not the request's Ni (its bits flipped).
Prints ``ready`` once every socket is bound, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import selectors
import signal
import socket
import sys

from wifiq.probe.ike import (
    NATT_PORT,
    NON_ESP_MARKER,
    REDIRECT,
    IkeError,
    Notify,
    encode_redirect,
    encode_response,
    parse_message,
)

BANNER = b"SSH-2.0-not-an-ike-responder\r\n"
REDIRECT_TO = "198.51.100.99"
MODES = ("echo", "text", "redirect-no-nonce", "redirect-other-nonce")


def answer(mode: str, data: bytes, port: int) -> bytes | None:
    """What the service sends back for ``data`` received on ``port`` (None: nothing)."""
    if mode == "echo":
        return data
    if mode == "text":
        return BANNER
    natt = port == NATT_PORT
    try:
        request = parse_message(data, natt=natt)
    except IkeError:
        return None
    nonce = b"" if mode == "redirect-no-nonce" else bytes(b ^ 0xFF for b in request.nonce or b"")
    reply = encode_response(spi_i=request.spi_i, spi_r=bytes(8), notifies=(
        Notify(REDIRECT, encode_redirect(REDIRECT_TO, nonce)),))
    return NON_ESP_MARKER + reply if natt else reply


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=MODES, required=True)
    parser.add_argument("address")
    parser.add_argument("ports", nargs="+", type=int)
    args = parser.parse_args(argv)
    family = socket.AF_INET6 if ":" in args.address else socket.AF_INET
    selector = selectors.DefaultSelector()
    for port in args.ports:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((args.address, port))
        selector.register(sock, selectors.EVENT_READ)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            data, peer = sock.recvfrom(65535)
            reply = answer(args.mode, data, sock.getsockname()[1])
            if reply is not None:
                sock.sendto(reply, peer)


if __name__ == "__main__":
    main()
