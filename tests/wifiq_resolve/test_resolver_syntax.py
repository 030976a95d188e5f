"""Resolver addresses a socket cannot use are bad input (exit 2, one line), found before any
lookup: an IPv6 zone naming no interface, a colon with no port after it."""

from __future__ import annotations

import pytest

from wifiq.resolve.lookup import ResolverAddress, parse_resolver


@pytest.mark.parametrize("resolver, problem", [
    ("fe80::1%no-such-if0", "no network interface 'no-such-if0' on this host"),
    ("fe80::1%4294967295", "no network interface '4294967295' on this host"),
    ("127.0.0.1:", "port must be 1-65535"),
    ("[::1]:", "port must be 1-65535"),
])
def test_unusable_resolver_addresses_are_one_line_bad_input(wifiq, resolver, problem):
    run = wifiq("resolve", "--plmn", "505-01", "--resolver", resolver, "--timeout", "0.2")
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert run.code == 2, run.err
    assert lines == [f"wifiq: error: bad resolver {resolver!r}: {problem}"]
    assert run.out == ""


@pytest.mark.parametrize("text, parsed", [
    ("fe80::1%lo", ResolverAddress("fe80::1%lo", 53)),
    ("[fe80::1%lo]:5353", ResolverAddress("fe80::1%lo", 5353)),
    ("127.0.0.1:53", ResolverAddress("127.0.0.1", 53)),
    ("[::1]", ResolverAddress("::1", 53)),
])
def test_usable_resolver_addresses_still_parse(text, parsed):
    assert parse_resolver(text) == parsed
