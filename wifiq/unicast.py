"""What kind of IP address a destination is: the checks ``--resolver`` (docs/wifiq-resolve.md)
and ``wifiq probe`` (docs/wifiq-probe.md, "Which addresses are probed") share."""

from __future__ import annotations

import ipaddress
import socket

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def not_unicast(addr: IPAddress) -> str:
    """'' for a unicast address (loopback and link-local included), else what it is, as
    "a multicast" (to go before " address")."""
    if addr.is_unspecified:
        return "an unspecified (any)"
    if addr.is_multicast:
        return "a multicast"
    if isinstance(addr, ipaddress.IPv4Address) and (
            addr == ipaddress.IPv4Address("255.255.255.255") or addr.packed[0] >= 240):
        return "a broadcast or reserved (240.0.0.0/4)"
    mapped = getattr(addr, "ipv4_mapped", None)
    if mapped is not None:
        return not_unicast(mapped)
    return ""


def not_remote(addr: IPAddress) -> str:
    """:func:`not_unicast`, and '' only for an address that can be another host's without a
    zone: loopback ("a loopback") and link-local ("a link-local") are refused too."""
    kind = not_unicast(addr)
    if kind:
        return kind
    mapped = getattr(addr, "ipv4_mapped", None)
    if isinstance(mapped, ipaddress.IPv4Address):
        return not_remote(mapped)
    if addr.is_loopback:
        return "a loopback"
    if addr.is_link_local:
        return "a link-local"
    return ""


def unicast_problem(addr: IPAddress, whose: str) -> str:
    """'' for a unicast address whose IPv6 zone (if any) names an interface of this host, else
    the problem, as "a multicast address, not {whose}" or "no network interface 'x' on this
    host"."""
    kind = not_unicast(addr)
    if kind:
        return f"{kind} address, not {whose}"
    scope = getattr(addr, "scope_id", None)
    if scope is not None and not interface_exists(scope):
        return f"no network interface {scope!r} on this host"
    return ""


def interface_exists(scope: str) -> bool:
    """True when ``scope`` (an IPv6 zone: interface name or index) names an interface here."""
    try:
        if scope.isascii() and scope.isdigit():
            socket.if_indextoname(int(scope))
        else:
            socket.if_nametoindex(scope)
    except (OSError, OverflowError, ValueError):
        return False
    return True
