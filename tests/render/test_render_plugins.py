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


FAKE_PLUGINS = {
    "fakeplug_good.py": (
        "from wifiq.render.base import Renderer, RendererInfo\n"
        "from wifiq.render.names import NameRules\n"
        "class Good(Renderer):\n"
        "    info = RendererInfo(name='good-box', title='Good', description='fake plug-in', delta='full')\n"
        "    names = NameRules(max_length=20)\n"
        "    def full(self, doc, dscp):\n"
        "        return ''.join(f'{a}\\n' for a in doc.addresses())\n"
        "RENDERER = Good()\n"),
    "fakeplug_raises.py": "raise RuntimeError('plug-in exploded\\nsecond line')\n",
    "fakeplug_wrong.py": "RENDERER = 42\n",
}
FAKE_ENTRY_POINTS = {
    "good-box": "fakeplug_good:RENDERER",
    "gone": "fakeplug_missing_module:RENDERER",
    "raises": "fakeplug_raises:RENDERER",
    "wrong": "fakeplug_wrong:RENDERER",
}


def test_broken_plugins_installed_beside_a_good_one_are_reported_and_skipped(tmp_path) -> None:
    """A real (fake) distribution on sys.path: its dist-info declares four wifiq.renderers
    entry points; the broken three are one line each on stderr, the good one is listed."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    site = tmp_path / "site"
    info = site / "fakeplug-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[wifiq.renderers]\n" + "".join(f"{k} = {v}\n" for k, v in FAKE_ENTRY_POINTS.items()))
    for name, text in FAKE_PLUGINS.items():
        (site / name).write_text(text)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    def wifiq(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "wifiq.cli", *args], capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=120)

    expected = [
        "wifiq: skipped: renderer gone (fakeplug_missing_module:RENDERER) failed to load: "
        "ModuleNotFoundError: No module named 'fakeplug_missing_module'",
        "wifiq: skipped: renderer raises (fakeplug_raises:RENDERER) failed to load: "
        "RuntimeError: plug-in exploded",
        "wifiq: skipped: renderer wrong (fakeplug_wrong:RENDERER) failed to load: "
        "not a wifiq.render.base.Renderer",
    ]
    text = wifiq("formats")
    assert text.returncode == 0 and text.stderr.splitlines() == expected
    listed = [line.split()[0] for line in text.stdout.splitlines() if not line.startswith(" ")]
    assert "good-box" in listed and "nftables" in listed and "raises" not in listed
    as_json = wifiq("formats", "--json")
    assert as_json.returncode == 0 and as_json.stderr.splitlines() == expected
    assert "good-box" in {sheet["name"] for sheet in json.loads(as_json.stdout)}

    source = str(Path(__file__).parent / "fixtures" / "current.json")
    good = wifiq("render", "good-box", "--from", source)
    assert good.returncode == 0 and "192.0.2.30" in good.stdout.splitlines() and good.stderr == ""
    broken = wifiq("render", "raises", "--from", source)
    assert broken.returncode == 1 and broken.stdout == ""
    assert broken.stderr == ("wifiq: error: " + expected[1].removeprefix("wifiq: skipped: ") + "\n")
