"""A small misbehaving DNS server on 127.0.0.1 (UDP, a random port), for the answers knot never
gives: what a mistyped or broken resolver sends back.

Modes (``FaultDns(mode)``; ``mode`` may be changed while it runs):

- ``referral``: NOERROR, no answer, ``. NS a.root-servers.net.`` in authority, neither AA nor
  RA — what an authoritative-only server (or a root server) says to a recursive question.
- ``empty``: NOERROR, no answer, nothing in authority, no AA, no RA.
- ``empty-ra``: the same with RA set (a recursive resolver that shows no SOA).
- ``nxdomain-bare``: NXDOMAIN, no SOA, no AA, no RA.
- ``nodata-noflags``: NOERROR, no answer, the zone's SOA in authority, but neither AA nor RA.
- ``lame-aa``: AA set, NOERROR, no answer, the SOA of an unrelated zone (example.org).
- ``recursive-nodata`` / ``recursive-nxdomain``: RA set with the zone's SOA — a recursive
  resolver's definitive answers (the control case).
- ``recursive``: RA set; answers A/AAAA from ``records`` (name -> addresses), NODATA with the
  zone's SOA for other types of a known name, NXDOMAIN with the SOA for unknown names.
- ``stale``: answers like ``recursive`` but with neither AA nor RA — a server that is not the
  zone's and does not recurse, handing out what its cache (or a stale copy) holds. knot sets
  AA on every answer from its zones, so it cannot give this one.

``queries`` counts the questions received. Started and stopped by the test (context manager).
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

ZONE = "pub.3gppnetwork.org."
_SOA = "ns.{z} hostmaster.{z} 1 3600 600 86400 60"


class FaultDns:
    """A UDP DNS server thread answering every question according to ``mode``."""

    def __init__(self, mode: str, records: dict[str, list[str]] | None = None) -> None:
        self.mode = mode
        self.records = {k.rstrip(".").lower(): v for k, v in (records or {}).items()}
        self.queries = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> "FaultDns":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self.sock.recvfrom(4096)
            except (socket.timeout, OSError):
                continue
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001 - a garbage query gets no answer, like a real server
                continue
            self.queries += 1
            self.sock.sendto(self.answer(query).to_wire(), client)

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        """The response of the current mode to ``query``."""
        msg = dns.message.make_response(query)
        msg.flags &= ~(dns.flags.AA | dns.flags.RA)
        qname = query.question[0].name
        soa = dns.rrset.from_text(ZONE, 60, "IN", "SOA", _SOA.format(z=ZONE))
        mode = self.mode
        if mode == "referral":
            msg.authority.append(dns.rrset.from_text(".", 518400, "IN", "NS",
                                                     "a.root-servers.net."))
        elif mode == "empty-ra":
            msg.flags |= dns.flags.RA
        elif mode == "nxdomain-bare":
            msg.set_rcode(dns.rcode.NXDOMAIN)
        elif mode == "nodata-noflags":
            msg.authority.append(soa)
        elif mode == "lame-aa":
            msg.flags |= dns.flags.AA
            msg.authority.append(dns.rrset.from_text(
                "example.org.", 60, "IN", "SOA", _SOA.format(z="example.org.")))
        elif mode in ("recursive-nodata", "recursive-nxdomain"):
            msg.flags |= dns.flags.RA
            msg.authority.append(soa)
            if mode == "recursive-nxdomain":
                msg.set_rcode(dns.rcode.NXDOMAIN)
        elif mode == "recursive":
            msg.flags |= dns.flags.RA
            self._recursive(msg, qname, query.question[0].rdtype, soa)
        elif mode == "stale":
            self._recursive(msg, qname, query.question[0].rdtype, soa)
        elif mode != "empty":
            raise ValueError(f"unknown fault mode {mode!r}")
        return msg

    def _recursive(self, msg: dns.message.Message, qname: dns.name.Name, rdtype: int,
                   soa: dns.rrset.RRset) -> None:
        key = qname.to_text(omit_final_dot=True).lower()
        if key not in self.records:
            msg.set_rcode(dns.rcode.NXDOMAIN)
            msg.authority.append(soa)
            return
        want = 4 if rdtype == dns.rdatatype.A else 6 if rdtype == dns.rdatatype.AAAA else 0
        found = [a for a in self.records[key] if ipaddress.ip_address(a).version == want]
        if not found:
            msg.authority.append(soa)
            return
        msg.answer.append(dns.rrset.from_text(qname, 300, "IN", dns.rdatatype.to_text(rdtype),
                                              *found))
