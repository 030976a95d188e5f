"""The refresh configuration file (TOML): selection, resolvers, hold-down, state and outputs.

Example (every key optional; command-line options win over the file)::

    state = "/var/lib/wifiq/state.sqlite"   # top-level keys come before the first [table]
    retention = "90d"             # keep each lookup's observations this long ("forever": all)
    on_change = "/usr/sbin/nft -f /etc/wifiq/wifiq.nft"   # run after a change (no shell)

    [selection]
    countries = ["AU"]            # ISO codes
    mccs = []                     # e.g. ["505"]
    plmns = ["530-01"]            # MCC-MNC
    kinds = ["epdg", "sos"]       # name forms (wifiq names --help)
    tac = 0x1b1a                  # for the tac* kinds (and lac = … for lac*)
    overrides = []                # extra overrides files
    active_only = false           # true: only PLMNs the data lists as operational

    [resolve]
    resolvers = ["192.0.2.53", "[2001:db8::53]:53"]   # default: the system's; [] is an error
    samples = 3                   # ask each question N times per resolver (union)
    timeout = 2.0                 # seconds per attempt
    retries = 2                   # after a timeout or SERVFAIL
    concurrency = 256             # lookups in flight

    [holddown]
    refreshes = 3                 # complete answers without the address before removal
    age = "1d"                    # and at least this long (s, m, h, d, w)
    max_removal_percent = 50      # refuse to remove more of the active set in one refresh
    allow_mass_removal = false    # ... unless true (or --allow-mass-removal)

    [probe]                       # wifiq probe and refresh --probe (docs/wifiq-probe.md)
    ports = [500, 4500]           # UDP ports probed on every address
    timeout = 2.0                 # seconds to wait for each reply
    retries = 2                   # resends after a timeout
    concurrency = 256             # probes in flight
    rate = 10.0                   # requests per second to one address (both ports together)
    phone_ports = false           # true: send from the destination's port (500->500; root)

    [[outputs]]
    target = "nftables"
    path = "/etc/wifiq/wifiq.nft"
    delta = false
    dscp = 46                     # or a name: "ef", "af41", "cs5"...
    # prefix = "acme"             # owned-name prefix, as `wifiq render --prefix`
    # options = { policy-map = "VOICE" }   # as `--option KEY=VALUE` (`wifiq formats` lists keys)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import WifiqError
from .holddown import HoldDown, RemovalGuard, parse_duration
from .names import LAC_MAX, TAC_5GS_MAX, check_kind_names
from .plmn import Plmn, parse_plmn
from .probe.decision import ProbePolicy
from .probe.driver import ProbeOptions
from .render.dscp import parse_dscp
from .render.errors import DscpError
from .resolve.lookup import ResolverAddress, parse_resolver


class ConfigError(WifiqError):
    """The config file is unreadable or wrong: ``path``, the ``key`` at fault and the problem."""

    exit_code = 2

    def __init__(self, path: Path, key: str, problem: str) -> None:
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(f"config {where}{problem}")
        self.path = path
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Selection:
    """Which operators and which name forms to resolve."""

    countries: tuple[str, ...] = ()
    mccs: tuple[str, ...] = ()
    plmns: tuple[Plmn, ...] = ()
    kinds: tuple[str, ...] = ()
    overrides: tuple[Path, ...] = ()
    tac: int | None = None
    lac: int | None = None
    active_only: bool = False
    """Only PLMNs the data lists as operational (``--active-only``); explicit plmns stay."""

    @property
    def empty(self) -> bool:
        return not (self.countries or self.mccs or self.plmns)


@dataclass(frozen=True)
class Output:
    """One rendered file to keep up to date after a refresh (see ``wifiq render``)."""

    target: str
    path: Path
    delta: bool = False
    dscp: int = 46
    prefix: str | None = None
    """Owned-name prefix (``wifiq render --prefix``); None: the target's default."""
    options: tuple[tuple[str, str], ...] = ()
    """Target options (``wifiq render --option KEY=VALUE``), checked against the target by
    :func:`wifiq.outputs.check_outputs`."""


DEFAULT_RETENTION = 90 * 86400.0
"""Observations older than this (90 days) are deleted from the state by a refresh."""


@dataclass(frozen=True)
class Config:
    """Everything a refresh needs besides the command line."""

    selection: Selection = field(default_factory=Selection)
    resolvers: tuple[ResolverAddress, ...] = ()
    samples: int = 1
    timeout: float = 2.0
    retries: int = 2
    concurrency: int = 256
    holddown: HoldDown = field(default_factory=HoldDown)
    guard: RemovalGuard = field(default_factory=RemovalGuard)
    state: Path | None = None
    outputs: tuple[Output, ...] = ()
    retention: float | None = DEFAULT_RETENTION
    """Seconds of observations kept in the state (None: forever)."""
    on_change: str | None = None
    """Command run after a refresh whose change was committed (split like a shell, no shell)."""
    source: Path | None = None
    """The config file this came from (None: defaults and the command line only)."""
    probe: ProbeOptions = field(default_factory=ProbeOptions)
    """The ``[probe]`` table: how ``wifiq probe`` and ``refresh --probe`` probe."""


_KNOWN = {
    "": {"selection", "resolve", "holddown", "probe", "state", "outputs", "retention",
         "on_change"},
    "selection": {"countries", "mccs", "plmns", "kinds", "overrides", "tac", "lac",
                  "active_only"},
    "resolve": {"resolvers", "samples", "timeout", "retries", "concurrency"},
    "holddown": {"refreshes", "age", "max_removal_percent", "allow_mass_removal"},
    "outputs": {"target", "path", "delta", "dscp", "prefix", "options"},
    "probe": {"ports", "timeout", "retries", "concurrency", "rate", "phone_ports"},
}


def load_config(path: Path) -> Config:
    """Read and check a config file; raises ConfigError naming the key and the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(path, "", exc.strerror or str(exc)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "", f"not valid TOML: {exc}") from None
    _check_number_literals(text, path)
    return parse_config(data, path)


#: TOML strings and comments, removed before looking for number literals.
_NOT_CODE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|'
                       r"'[^'\n]*'|#[^\n]*")
_NUMBER_VALUE = re.compile(r"([A-Za-z0-9_.-]+)\s*=\s*([+-]?[0-9][0-9A-Za-z_.+:-]*)")
#: Keys whose value may be hexadecimal (0x...), as on the command line.
_HEX_KEYS = {"tac", "lac"}


def _check_number_literals(text: str, path: Path) -> None:
    """Numbers in plain ASCII digits only: TOML also reads ``1_000``, ``0b101`` and ``0o17``
    as integers, which wifiq refuses (as on the command line); ``0x`` only for tac and lac."""
    code = _NOT_CODE.sub(" ", text)
    for match in _NUMBER_VALUE.finditer(code):
        key, value = match.group(1).split(".")[-1], match.group(2)
        digits = value.lstrip("+-")
        hex_ok = key in _HEX_KEYS and re.fullmatch(r"0x[0-9A-Fa-f]+", digits) is not None
        if "_" in digits or (digits[:2].lower() in ("0b", "0o", "0x") and not hex_ok):
            raise ConfigError(path, key, f"{value!r}: write numbers in plain decimal digits "
                              "(no '_' separators, no 0b/0o/0x prefixes; 0x only for tac and lac)")


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """The checked :class:`Config` of already-parsed TOML ``data`` read from ``path``."""
    _check_keys(data, "", path)
    _check_no_nul(data, path, "")
    sel = _table(data, "selection", path)
    res = _table(data, "resolve", path)
    hold = _table(data, "holddown", path)
    base = path.parent
    try:
        selection = Selection(
            countries=tuple(c.upper() for c in _strings(sel, "countries", path, "selection")),
            mccs=_strings(sel, "mccs", path, "selection"),
            plmns=tuple(parse_plmn(p) for p in _strings(sel, "plmns", path, "selection")),
            kinds=_strings(sel, "kinds", path, "selection"),
            overrides=tuple(base / p for p in _strings(sel, "overrides", path, "selection")),
            tac=_code(sel, "tac", TAC_5GS_MAX, path),
            lac=_code(sel, "lac", LAC_MAX, path),
            active_only=sel.get("active_only", False),
        )
        if not isinstance(selection.active_only, bool):
            raise ConfigError(path, "selection.active_only", "must be true or false")
        check_kind_names(selection.kinds)  # TAC/LAC may still come from the command line
        if "resolvers" in res and not res["resolvers"]:
            raise ConfigError(path, "resolve.resolvers", "is empty: name at least one resolver, "
                              "or leave the key out to use the system's (/etc/resolv.conf)")
        resolvers = tuple(parse_resolver(r) for r in _strings(res, "resolvers", path, "resolve"))
        holddown = HoldDown(
            refreshes=_int(hold, "refreshes", 3, path, "holddown", minimum=1),
            age=parse_duration(hold.get("age", 0)),
        )
        allow = hold.get("allow_mass_removal", False)
        if not isinstance(allow, bool):
            raise ConfigError(path, "holddown.allow_mass_removal", "must be true or false")
        guard = RemovalGuard(
            max_percent=_int(hold, "max_removal_percent", 50, path, "holddown", minimum=0,
                             maximum=100),
            allow=allow,
        )
    except ConfigError:
        raise
    except WifiqError as exc:
        raise ConfigError(path, "", str(exc)) from None
    outputs = []
    raw_outputs = data.get("outputs", [])
    if not isinstance(raw_outputs, list):
        raise ConfigError(path, "outputs", "must be an array of tables ([[outputs]])")
    for index, item in enumerate(raw_outputs):
        key = f"outputs[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(path, key, "must be a table")
        _check_keys(item, "outputs", path, key)
        if not isinstance(item.get("target"), str) or not isinstance(item.get("path"), str):
            raise ConfigError(path, key, "needs target and path (strings)")
        delta = item.get("delta", False)
        if not isinstance(delta, bool):
            raise ConfigError(path, f"{key}.delta", "must be true or false")
        outputs.append(
            Output(
                target=item["target"],
                path=base / item["path"],
                delta=delta,
                dscp=_dscp(item.get("dscp", 46), path, f"{key}.dscp"),
                prefix=_output_prefix(item.get("prefix"), path, f"{key}.prefix"),
                options=_output_options(item.get("options", {}), path, f"{key}.options"),
            )
        )
    state = data.get("state")
    if state is not None and (not isinstance(state, str) or not state):
        raise ConfigError(path, "state", "must be a path (a non-empty string); leave the key "
                          "out for the default (the user's data directory)")
    on_change = data.get("on_change")
    if on_change is not None and (not isinstance(on_change, str) or not on_change.strip()):
        raise ConfigError(path, "on_change", "must be a command line (a non-empty string)")
    return Config(
        selection=selection,
        resolvers=resolvers,
        samples=_int(res, "samples", 1, path, "resolve", minimum=1, maximum=100),
        timeout=_number(res, "timeout", 2.0, path, "resolve", above=0, maximum=60,
                        unit="seconds"),
        retries=_int(res, "retries", 2, path, "resolve", minimum=0, maximum=10),
        concurrency=_int(res, "concurrency", 256, path, "resolve", minimum=1, maximum=4096),
        holddown=holddown,
        guard=guard,
        state=base / state if state else None,
        outputs=tuple(outputs),
        retention=_retention(data.get("retention", "90d"), path),
        on_change=on_change,
        source=path,
        probe=_probe(_table(data, "probe", path), path),
    )


def _probe(table: dict[str, Any], path: Path) -> ProbeOptions:
    """The ``[probe]`` table, with the ranges of ``wifiq probe``'s options."""
    ports = table.get("ports", [500, 4500])
    if (not isinstance(ports, list) or not ports
            or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 65535
                       for p in ports)):
        raise ConfigError(path, "probe.ports", "must be a non-empty list of UDP ports 1-65535")
    phone_ports = table.get("phone_ports", False)
    if not isinstance(phone_ports, bool):
        raise ConfigError(path, "probe.phone_ports", "must be true or false")
    return ProbeOptions(
        ports=tuple(dict.fromkeys(ports)),
        concurrency=_int(table, "concurrency", 256, path, "probe", minimum=1, maximum=4096),
        rate=_number(table, "rate", 10.0, path, "probe", above=0.1, maximum=1000,
                     unit="requests per second", closed=True),
        policy=ProbePolicy(
            timeout=_number(table, "timeout", 2.0, path, "probe", above=0.01, maximum=60,
                            unit="seconds", closed=True),
            retries=_int(table, "retries", 2, path, "probe", minimum=0, maximum=10)),
        phone_ports=phone_ports,
    )


def _number(table: dict[str, Any], key: str, default: float, path: Path, section: str, *,
            above: float, maximum: float, unit: str, closed: bool = False) -> float:
    """``table[key]`` checked to be a number (integer or float) in ``(above, maximum]``
    (``[above, maximum]`` when ``closed``); ``default`` when absent."""
    value = table.get(key, default)
    low = "[" if closed else "("
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not (above <= value if closed else above < value) or not value <= maximum):
        raise ConfigError(path, f"{section}.{key}",
                          f"must be a number of {unit} in {low}{above:g}, {maximum:g}]")
    return float(value)


def _check_no_nul(value: Any, path: Path, key: str) -> None:
    """No string anywhere may hold a NUL character (no path or name can)."""
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(path, key or "top level", f"{value!r} contains a NUL character")
    if isinstance(value, dict):
        for name, item in value.items():
            _check_no_nul(item, path, f"{key}.{name}" if key else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_no_nul(item, path, f"{key}[{index}]")


def _output_prefix(value: Any, path: Path, key: str) -> str | None:
    """An output's owned-name prefix: a string (the target's rules are checked later)."""
    if value is not None and not isinstance(value, str):
        raise ConfigError(path, key, "must be a string")
    return value


def _output_options(value: Any, path: Path, key: str) -> tuple[tuple[str, str], ...]:
    """An output's target options: a table of strings or integers (``[outputs.options]``)."""
    if not isinstance(value, dict):
        raise ConfigError(path, key, "must be a table of KEY = value")
    out = []
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise ConfigError(path, f"{key}.{name}", "must be a string or an integer")
        out.append((name, str(item)))
    return tuple(out)


def _retention(value: Any, path: Path) -> float | None:
    """``retention``: a duration of at least one hour (``"90d"``), or ``"forever"``."""
    if value == "forever":
        return None
    try:
        seconds = parse_duration(value) if not isinstance(value, bool) else -1.0
    except WifiqError:
        seconds = -1.0
    if seconds < 3600:
        raise ConfigError(path, "retention", 'must be a duration of at least 1h (e.g. "90d") '
                          'or "forever"')
    return seconds


def _dscp(value: Any, path: Path, key: str) -> int:
    """An output's DSCP: a number 0-63 or a name (``ef``, ``af41``, ``cs5``…), as ``--dscp``."""
    if not isinstance(value, (int, str)):
        raise ConfigError(path, key, "must be a DSCP name (ef, af41, cs5...) or a number 0-63")
    try:
        return parse_dscp(value).value
    except DscpError as exc:
        raise ConfigError(path, key, exc.args[0].removeprefix("--dscp ")) from None


def _check_keys(table: dict[str, Any], section: str, path: Path, where: str = "") -> None:
    unknown = sorted(set(table) - _KNOWN[section])
    if unknown:
        raise ConfigError(path, where or section or "top level", f"unknown key {unknown[0]!r}")


def _table(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(path, name, "must be a table")
    _check_keys(value, name, path)
    return value


def _strings(table: dict[str, Any], key: str, path: Path, section: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, f"{section}.{key}", "must be a list of strings")
    return tuple(value)


def _code(table: dict[str, Any], key: str, maximum: int, path: Path) -> int | None:
    """An optional TAC/LAC (the name kinds check it again against their own range)."""
    if key not in table:
        return None
    return _int(table, key, 0, path, "selection", minimum=0, maximum=maximum)


def _int(
    table: dict[str, Any],
    key: str,
    default: int,
    path: Path,
    section: str,
    *,
    minimum: int,
    maximum: int = 1_000_000,
) -> int:
    """``table[key]`` checked to be an integer in range (``default`` when absent)."""
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise ConfigError(path, f"{section}.{key}", f"must be an integer {minimum}-{maximum}")
    return value
