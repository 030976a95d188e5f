"""Third-party renderers arrive through the ``wifiq.renderers`` entry-point group."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from wifiq.errors import WifiqError
from wifiq.render import RenderInput, registry, render, targets
from wifiq.render.base import Renderer, RendererInfo
from wifiq.render.dscp import Dscp
from wifiq.render.names import NameRules


class EchoRenderer(Renderer):
    """A plug-in used by this test only: one ``address dscp`` line per address."""

    info = RendererInfo(name="echo-box", title="Echo", description="test plug-in", delta="full")
    names = NameRules(max_length=20)

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        return "".join(f"{a} {dscp.value}\n" for a in doc.addresses())


RENDERER = EchoRenderer()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[EntryPoint]]:
    found: list[EntryPoint] = []
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep for ep in found if ep.group == group])
    registry._specs.cache_clear()
    registry._loaded.cache_clear()
    yield found
    registry._specs.cache_clear()
    registry._loaded.cache_clear()


def test_plugin_is_listed_and_renders(plugins: list[EntryPoint], current: RenderInput) -> None:
    plugins.append(EntryPoint("echo-box", "tests.render.test_render_plugins:RENDERER", registry.ENTRY_POINT_GROUP))
    plugins.append(EntryPoint("nftables", "tests.render.test_render_plugins:RENDERER", registry.ENTRY_POINT_GROUP))
    assert "echo-box" in targets()
    assert render("echo-box", current, dscp="cs5").splitlines()[0] == "192.0.2.30 40"
    assert render("nftables", current).startswith("#!/usr/sbin/nft -f"), "a plug-in must not shadow a built-in"


def test_broken_plugin_is_a_clear_error(plugins: list[EntryPoint]) -> None:
    plugins.append(EntryPoint("broken", "tests.render.no_such_module:RENDERER", registry.ENTRY_POINT_GROUP))
    with pytest.raises(WifiqError, match="renderer broken .* failed to load"):
        render("broken", None)  # type: ignore[arg-type]
