"""Which renderers exist: a table of the built-in ones plus the ``wifiq.renderers`` entry points.

A third-party package adds a target by declaring, in its pyproject.toml,
``[project.entry-points."wifiq.renderers"] my-box = "my_pkg.my_box:RENDERER"`` where
``RENDERER`` is a :class:`~wifiq.render.base.Renderer` instance (or class). Built-in names win.
A plug-in that fails to load (any exception on import, or not a Renderer) is left out of
:func:`registry` and reported by :func:`broken_plugins`; rendering that target is its one-line
:class:`RendererLoadError`.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from .base import Renderer
from .errors import RendererLoadError, UnknownTargetError

ENTRY_POINT_GROUP = "wifiq.renderers"

#: Built-in targets: name → "module:attribute" (imported on first use).
BUILTIN: dict[str, str] = {
    "cisco-ios": "wifiq.render.cisco_ios:RENDERER",
    "cisco-9800": "wifiq.render.cisco_9800:RENDERER",
    "aruba-os": "wifiq.render.aruba_os:RENDERER",
    "aruba-cx": "wifiq.render.aruba_cx:RENDERER",
    "junos": "wifiq.render.junos:RENDERER",
    "fortios": "wifiq.render.fortios:RENDERER",
    "panos": "wifiq.render.panos:RENDERER",
    "mikrotik": "wifiq.render.mikrotik:RENDERER",
    "edgeos": "wifiq.render.edgeos:RENDERER",
    "vyos": "wifiq.render.vyos:RENDERER",
    "meraki": "wifiq.render.meraki:RENDERER",
    "openwrt-qosify": "wifiq.render.openwrt_qosify:RENDERER",
    "openwrt-fw4": "wifiq.render.openwrt_fw4:RENDERER",
    "nftables": "wifiq.render.nftables:RENDERER",
    "iptables": "wifiq.render.iptables:RENDERER",
    "plain": "wifiq.render.plain:RENDERER",
    "csv": "wifiq.render.csv_list:RENDERER",
    "json": "wifiq.render.json_doc:RENDERER",
}


def _load(name: str, spec: str) -> Renderer:
    module, _, attribute = spec.partition(":")
    obj = getattr(import_module(module), attribute)
    renderer = obj() if isinstance(obj, type) else obj
    if not isinstance(renderer, Renderer):
        raise RendererLoadError(name, spec, "not a wifiq.render.base.Renderer")
    return renderer


@cache
def _specs() -> dict[str, str]:
    """Name → "module:attribute" for built-ins, then plug-ins not shadowing a built-in."""
    specs = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        specs.setdefault(ep.name, ep.value)
    return specs


def _reason(err: BaseException) -> str:
    """One line for any exception a plug-in's import may raise."""
    lines = str(err).splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


@cache
def _loaded(name: str) -> Renderer:
    spec = _specs()[name]
    try:
        return _load(name, spec)
    except RendererLoadError:
        raise
    except (ImportError, AttributeError) as err:
        raise RendererLoadError(name, spec, _reason(err)) from None
    except Exception as err:  # a plug-in's module may raise anything while it loads
        if name in BUILTIN:
            raise
        raise RendererLoadError(name, spec, _reason(err)) from None


def registry() -> dict[str, Renderer]:
    """Every renderer that loads, by name: the built-in table, then plug-ins (entry points).

    A plug-in that fails to load is left out (:func:`broken_plugins` says why); a built-in that
    fails raises :class:`RendererLoadError`.
    """
    loaded: dict[str, Renderer] = {}
    for name in _specs():
        try:
            loaded[name] = _loaded(name)
        except RendererLoadError:
            if name in BUILTIN:
                raise
    return loaded


def broken_plugins() -> list[RendererLoadError]:
    """The plug-ins that fail to load, each with its one-line reason (sorted by name)."""
    problems = []
    for name in sorted(_specs()):
        if name in BUILTIN:
            continue
        try:
            _loaded(name)
        except RendererLoadError as err:
            problems.append(err)
    return problems


def normalise_target(name: str) -> str:
    """Accept ``cisco_ios`` and ``Cisco-IOS`` for ``cisco-ios``."""
    return name.strip().lower().replace("_", "-")


def get_renderer(target: str) -> Renderer:
    """The renderer registered as ``target``; raises :class:`UnknownTargetError` otherwise."""
    name = normalise_target(target)
    if name not in _specs():
        raise UnknownTargetError(target, sorted(_specs()))
    return _loaded(name)
