"""What one DNS lookup ended as: the frozen result types shared by the resolver, store and diff.

Every lookup ends as exactly one :class:`Outcome`; a failure (timeout, SERVFAIL/REFUSED, an
answer the server does not stand by) is never confused with an answer that says "no such name"
or "no such record".
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError
from ..unicast import unicast_problem

#: The record types wifiq asks for, each on its own (never ANY): address family by type.
RECORD_TYPES: tuple[str, ...] = ("A", "AAAA")


class Outcome(enum.Enum):
    """How a lookup ended. ``definitive`` outcomes are answers; the others are failures."""

    ADDRESSES = "addresses"  # NOERROR with records of the asked type (after any CNAMEs)
    NODATA = "nodata"  # NOERROR, the name exists, no record of this type
    NXDOMAIN = "nxdomain"  # the name (or a CNAME target) does not exist
    SERVFAIL = "servfail"  # SERVFAIL, REFUSED or another error rcode (``Lookup.detail`` says which)
    TIMEOUT = "timeout"  # no answer from the resolver within the time allowed, after retries
    LAME = "lame"  # an answer nobody stands by: a referral, an empty or NXDOMAIN answer
    #                neither AA nor RA with the zone's SOA, an SOA of another zone, or
    #                addresses with neither AA nor RA (``detail`` says which)

    @property
    def definitive(self) -> bool:
        """True for an answer the server stands by (addresses, NODATA, NXDOMAIN)."""
        return self in (Outcome.ADDRESSES, Outcome.NODATA, Outcome.NXDOMAIN)


@functools.lru_cache(maxsize=1 << 16)
def _address_key(address: str) -> tuple[int, int]:
    parsed = ipaddress.ip_address(address)
    return parsed.version, int(parsed)


def sort_addresses(addresses: Iterable[str]) -> tuple[str, ...]:
    """Addresses (in canonical text form) without duplicates, IPv4 first, each family in
    numeric order. Raises ValueError for a string that is not an IP address."""
    unique = set(addresses)
    if len(unique) < 2:
        return tuple(unique)
    return tuple(sorted(unique, key=_address_key))


@dataclass(frozen=True, order=True)
class ResolverAddress:
    """A DNS server to ask: an IPv4 or IPv6 address and a UDP/TCP port."""

    host: str
    port: int = 53

    def __str__(self) -> str:
        if ":" in self.host:
            return self.host if self.port == 53 else f"[{self.host}]:{self.port}"
        return self.host if self.port == 53 else f"{self.host}:{self.port}"


def parse_resolver(text: str) -> ResolverAddress:
    """Parse ``IP``, ``IPv4:PORT``, ``IPv6`` or ``[IPv6]:PORT``; raise UsageError if malformed
    or not a unicast address (0.0.0.0, ::, multicast, broadcast; loopback is fine)."""
    raw = text.strip()
    host, port_text = raw, ""
    if raw.startswith("["):
        close = raw.find("]")
        if close < 0 or (raw[close + 1 :] and not raw[close + 1 :].startswith(":")):
            raise UsageError(f"bad resolver {text!r}: expected [IPv6]:PORT")
        host, port_text = raw[1:close], raw[close + 2 :]
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise UsageError(f"bad resolver {text!r}: {host!r} is not an IP address") from None
    problem = unicast_problem(addr, "a DNS server's")
    if problem:
        raise UsageError(f"bad resolver {text!r}: {problem}")
    port = 53
    if port_text or raw.endswith(":"):
        if not (port_text.isascii() and port_text.isdigit()) or not 0 < int(port_text) < 65536:
            raise UsageError(f"bad resolver {text!r}: port must be 1-65535")
        port = int(port_text)
    return ResolverAddress(addr.compressed, port)


@dataclass(frozen=True)
class Lookup:
    """One question (name, type) put to one resolver once, and how it ended.

    ``cnames`` is the chain followed from ``name`` (targets in order); ``ttl`` is the smallest
    TTL along the chain (for NODATA/NXDOMAIN the negative-caching TTL, when the server gave one);
    ``detail`` names the rcode or the reason of a failure; ``attempts`` counts the queries sent
    for the last name of the chain (retries included).
    """

    name: str
    rdtype: str
    resolver: str
    sample: int
    outcome: Outcome
    addresses: tuple[str, ...] = ()
    ttl: int | None = None
    cnames: tuple[str, ...] = ()
    detail: str = ""
    attempts: int = 1

    @property
    def family(self) -> int:
        """4 for A, 6 for AAAA."""
        return 6 if self.rdtype == "AAAA" else 4

    def to_json(self) -> dict[str, object]:
        """The lookup as plain JSON types (for ``--json`` output)."""
        return {
            "name": self.name,
            "type": self.rdtype,
            "resolver": self.resolver,
            "sample": self.sample,
            "outcome": self.outcome.value,
            "addresses": list(self.addresses),
            "ttl": self.ttl,
            "cnames": list(self.cnames),
            "detail": self.detail,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class ResolverCheck:
    """What the start-up probe learnt about one resolver: whether it ``recurses`` (RA) and is
    ``authoritative`` for the probed zone (None: no usable answer), and the ``warning`` to
    print when it does neither (None when all is well)."""

    resolver: str
    recurses: bool | None
    authoritative: bool | None
    warning: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "resolver": self.resolver,
            "recursion": self.recurses,
            "authoritative": self.authoritative,
            "warning": self.warning,
        }
