"""A UDP service that is not IKE, for the probe's ``malformed`` outcome: "something else
answers on UDP 500/4500" (a middlebox, another service on the ePDG's address).

Run inside a test's server namespace::

    python -m tests.rig.udp_service --mode echo 192.0.2.30 500 4500

Binds each port on the address and answers every datagram: ``echo`` sends it back unchanged
(the RFC 862 echo service), ``text`` sends one line of text (a service with a banner). Prints
``ready`` once every socket is bound, then serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import selectors
import signal
import socket
import sys

BANNER = b"SSH-2.0-not-an-ike-responder\r\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("echo", "text"), required=True)
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
            sock.sendto(data if args.mode == "echo" else BANNER, peer)


if __name__ == "__main__":
    main()
