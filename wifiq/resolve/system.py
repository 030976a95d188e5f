"""The machine's own resolvers (``/etc/resolv.conf``), the default when none is named."""

from __future__ import annotations

import dns.resolver

from ..errors import UsageError, WifiqError
from .lookup import ResolverAddress, parse_resolver

RESOLV_CONF = "/etc/resolv.conf"


class NoResolverError(WifiqError):
    """No resolver was named and the system configuration names none (``reason``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"no DNS resolver: {reason}; name one with --resolver IP[:PORT]")
        self.reason = reason


def system_resolvers(filename: str = RESOLV_CONF) -> tuple[ResolverAddress, ...]:
    """The nameservers of ``filename`` (link-local ones keep their scope, ``fe80::1%eth0``);
    entries that are not IP addresses are skipped. Raises NoResolverError when none is left."""
    try:
        resolver = dns.resolver.Resolver(filename=filename, configure=True)
    except (dns.resolver.NoResolverConfiguration, OSError) as exc:
        raise NoResolverError(f"{filename}: {exc or 'no nameserver'}") from None
    found = []
    for nameserver in resolver.nameservers:
        try:
            found.append(parse_resolver(str(nameserver)))
        except UsageError:
            continue
    if not found:
        raise NoResolverError(f"{filename} names no usable nameserver")
    return tuple(found)
