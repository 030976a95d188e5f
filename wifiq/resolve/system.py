"""The machine's own resolvers (``/etc/resolv.conf``), the default when none is named."""

from __future__ import annotations

import dns.resolver

from ..errors import WifiqError
from .lookup import ResolverAddress, parse_resolver


class NoResolverError(WifiqError):
    """No resolver was named and the system configuration names none."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no DNS resolver: {reason}; name one with --resolver IP[:PORT]")
        self.reason = reason


def system_resolvers() -> tuple[ResolverAddress, ...]:
    """The system's nameservers; raises NoResolverError when it has none."""
    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration as exc:
        raise NoResolverError(str(exc) or "resolv.conf names no nameserver") from None
    found = tuple(parse_resolver(ns) for ns in resolver.nameservers if isinstance(ns, str))
    if not found:
        raise NoResolverError("resolv.conf names no nameserver")
    return found
