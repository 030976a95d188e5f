"""UDP and ESP probes that report the DSCP each datagram arrived with (run inside namespaces).

``serve ADDR…``: listen on UDP 4500 at each address and on raw ESP (IP proto 50); print one JSON
line per packet ``{"kind", "dst", "dscp"}``; echo UDP back (so the client sees the downstream
marking). ``send ADDR…``: send one UDP datagram to port 4500 and one ESP packet to each address,
print ``{"kind": "reply", "src", "dscp"}`` for each UDP echo. Prints ``READY`` when listening.
"""

from __future__ import annotations

import ipaddress
import json
import select
import socket
import struct
import sys
import time

IP_RECVTOS = getattr(socket, "IP_RECVTOS", 13)
IPV6_RECVTCLASS = getattr(socket, "IPV6_RECVTCLASS", 66)
IPV6_TCLASS = getattr(socket, "IPV6_TCLASS", 67)
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
PORT = 4500
ESP = 50


def _udp(address: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_IP, IP_RECVTOS, 1)
    else:
        sock.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
    return sock


def _dscp(ancillary: list[tuple[int, int, bytes]]) -> int | None:
    for level, kind, data in ancillary:
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
            return data[0] >> 2
        if level == socket.IPPROTO_IPV6 and kind == IPV6_TCLASS:
            return struct.unpack("i", data[:4])[0] >> 2
    return None


def _emit(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def serve(addresses: list[str]) -> None:
    socks = []
    for address in addresses:
        sock = _udp(address)
        sock.bind((address, PORT))
        socks.append(sock)
    esp4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, ESP)
    esp6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, ESP)
    esp6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVTCLASS, 1)
    esp6.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
    print("READY", flush=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready, _, _ = select.select([*socks, esp4, esp6], [], [], 0.5)
        for sock in ready:
            if sock is esp4:
                packet = sock.recv(2048)
                _emit({"kind": "esp", "dst": socket.inet_ntoa(packet[16:20]), "dscp": packet[1] >> 2})
            elif sock is esp6:
                _, anc, _, _ = sock.recvmsg(2048, 256)
                dst = next(str(ipaddress.IPv6Address(d[:16])) for lvl, k, d in anc if k == IPV6_PKTINFO)
                _emit({"kind": "esp", "dst": dst, "dscp": _dscp(anc)})
            else:
                data, anc, _, peer = sock.recvmsg(2048, 256)
                _emit({"kind": "udp", "dst": sock.getsockname()[0], "dscp": _dscp(anc)})
                sock.sendto(data, peer)


def send(addresses: list[str]) -> None:
    for address in addresses:
        six = ":" in address
        sock = _udp(address)
        sock.settimeout(3)
        sock.sendto(b"wifiq-probe", (address, PORT))
        data, anc, _, peer = sock.recvmsg(2048, 256)
        _emit({"kind": "reply", "src": peer[0], "dscp": _dscp(anc)})
        sock.close()
        raw = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_RAW, ESP)
        raw.sendto(struct.pack("!II", 0x1234, 1) + b"\0" * 16, (address, 0))
        raw.close()


if __name__ == "__main__":
    mode, targets = sys.argv[1], sys.argv[2:]
    serve(targets) if mode == "serve" else send(targets)
