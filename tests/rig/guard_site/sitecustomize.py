"""The test suite's guard against the outside world's DNS, loaded into every Python process the
tests start (``tests/conftest.py`` puts this folder first on ``PYTHONPATH``) and into pytest
itself.

Tests only ask DNS servers they started on loopback (knot, tests/rig/faultdns.py). This guard
makes any other use fail loudly: reading the system resolver configuration
(``/etc/resolv.conf``, what dnspython's ``Resolver()`` and wifiq's default resolvers do), or
sending to a DNS port (53, 853) anywhere but loopback, raises :class:`SystemResolverUsed` and
appends a line to the file named by ``CARRIERKIT_DNS_GUARD_LOG``, which the suite checks after
every test — so a subprocess that swallows the error still fails its test.

Self-contained (no import from the repository: it runs before ``sys.path`` holds the repo).
"""

from __future__ import annotations

import importlib.abc
import ipaddress
import os
import socket
import sys
from typing import Any

SYSTEM_RESOLV_CONF = "/etc/resolv.conf"
DNS_PORTS = (53, 853)
LOG_ENV = "CARRIERKIT_DNS_GUARD_LOG"


class SystemResolverUsed(RuntimeError):
    """A test reached for the machine's resolver configuration or a non-loopback DNS port."""


def _refuse(what: str) -> None:
    message = f"carrierkit test guard: {what} (tests may only ask DNS servers they started)"
    log = os.environ.get(LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"pid {os.getpid()}: {message}\n")
    raise SystemResolverUsed(message)


def _is_system_conf(f: Any) -> bool:
    if isinstance(f, (str, bytes, os.PathLike)):
        try:
            return os.path.realpath(os.fsdecode(f)) == os.path.realpath(SYSTEM_RESOLV_CONF)
        except (OSError, ValueError):
            return False
    return getattr(f, "name", None) == SYSTEM_RESOLV_CONF


def _check_destination(address: Any) -> None:
    if not isinstance(address, tuple) or len(address) < 2 or not isinstance(address[1], int):
        return  # AF_UNIX paths, netlink, ...
    host, port = address[0], address[1]
    if port not in DNS_PORTS:
        return
    try:
        loopback = ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        _refuse(f"a DNS query to {host} port {port}")


def install() -> None:
    """Patch dnspython's resolv.conf reader and the socket send/connect calls (idempotent)."""
    if getattr(socket.socket, "_carrierkit_guard", False):
        return
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self: socket.socket, address: Any) -> None:
        _check_destination(address)
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_destination(address)
        return original_connect_ex(self, address)

    def sendto(self: socket.socket, data: Any, *args: Any) -> int:
        _check_destination(args[-1] if args else None)
        return original_sendto(self, data, *args)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
    socket.socket._carrierkit_guard = True  # type: ignore[attr-defined]
    module = sys.modules.get("dns.resolver")
    if module is not None:
        _guard_resolver(module)
    else:  # patch dnspython when (if ever) it is imported: no import cost for other processes
        sys.meta_path.insert(0, _PatchOnImport())


def _guard_resolver(module: Any) -> None:
    original_read = module.Resolver.read_resolv_conf

    def read_resolv_conf(self: Any, f: Any) -> None:
        if _is_system_conf(f):
            _refuse(f"the system resolver configuration {SYSTEM_RESOLV_CONF} was read")
        return original_read(self, f)

    module.Resolver.read_resolv_conf = read_resolv_conf


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the loader of ``dns.resolver`` to guard it once loaded."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "dns.resolver":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                _wrap_loader(spec.loader)
                return spec
        return None


def _wrap_loader(loader: Any) -> None:
    original_exec = loader.exec_module

    def exec_module(module: Any) -> None:
        original_exec(module)
        _guard_resolver(module)

    loader.exec_module = exec_module


if os.environ.get(LOG_ENV):
    install()
