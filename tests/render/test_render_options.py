"""Render options: the owned-name prefix and per-target ``--option KEY=VALUE``, from the library,
the command line and a config file's ``[[outputs]]``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from wifiq.cli import main
from wifiq.config import ConfigError, load_config
from wifiq.outputs import check_outputs
from wifiq.render import RenderInput, RenderOptionError, registry, render, render_options, targets
from wifiq.render.base import Renderer, RendererInfo
from wifiq.render.dscp import Dscp
from wifiq.render.names import NameRules
from wifiq.render.options import OptionSpec

from .conftest import FIXTURES

CURRENT = str(FIXTURES / "current.json")


class OptionBox(Renderer):
    """A plug-in for this test only: names from the prefix, one option of each kind."""

    info = RendererInfo(
        name="option-box",
        title="Options",
        description="test plug-in",
        delta="full",
        prefix=True,
        options=(
            OptionSpec("policy", "WIFIQ-MARK", "the policy to mark in", pattern=r"[A-Za-z][A-Za-z0-9_-]{0,30}"),
            OptionSpec("placement", "top", "where the rule goes", kind="choice", choices=("top", "bottom")),
            OptionSpec("id", "4646", "policy id", kind="integer", minimum=1, maximum=9999),
        ),
    )
    names = NameRules(max_length=30, case="upper", prefix="WIFIQ")

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        opts = self.options
        lines = [f"{self.names.fixed('epdg')} {opts.get('policy')} {opts.get('placement')} {opts.integer('id')}"]
        lines += [self.names.operator(op) for op in doc.with_addresses]
        return "\n".join(lines) + "\n"


RENDERER = OptionBox()


@pytest.fixture
def box(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    found = [EntryPoint("option-box", "tests.render.test_render_options:RENDERER", registry.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep for ep in found if ep.group == group])
    registry._specs.cache_clear()
    registry._loaded.cache_clear()
    yield
    registry._specs.cache_clear()
    registry._loaded.cache_clear()


def test_defaults_then_prefix_and_options_reach_the_renderer(box: None, current: RenderInput) -> None:
    default = render("option-box", current).splitlines()
    assert default[0] == "WIFIQ-EPDG WIFIQ-MARK top 4646"
    assert default[1] == "WIFIQ-208-10-SFR-TELECOM-FILS"
    text = render("option-box", current, prefix="acme", options={"policy": "VOICE", "placement": "bottom", "id": 12})
    lines = text.splitlines()
    assert lines[0] == "ACME-EPDG VOICE bottom 12", "prefix in the target's case, every option used"
    assert all(line.startswith("ACME-") for line in lines[1:])
    assert render("option-box", current).splitlines() == default, "the shared renderer keeps its defaults"


@pytest.mark.parametrize(
    ("prefix", "options", "message"),
    [
        (None, {"nope": "x"}, "option-box: --option nope=x: unknown option (known: policy, placement, id)"),
        (None, {"policy": "two words"}, "option-box: --option policy=two words: expected a name matching"),
        (None, {"placement": "middle"}, "expected one of top, bottom"),
        (None, {"id": "0"}, "expected a number 1-9999"),
        (None, {"id": True}, "expected a string or a number"),
        ("1abc", None, "option-box: --prefix '1abc': expected a letter"),
        ("a" * 17, None, "at most 16 characters"),
        ("ac.me", None, "expected a letter then letters/digits"),
    ],
)
def test_bad_options_are_refused_naming_target_and_key(
    box: None, current: RenderInput, prefix: str | None, options: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(RenderOptionError) as err:
        render("option-box", current, prefix=prefix, options=options)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_prefix_checked_against_the_targets_character_set() -> None:
    # cisco-ios names allow [A-Za-z0-9_-]; a prefix with '_' fits, case follows the target.
    assert render_options("cisco-ios", "WIFIQ").prefix == "WIFIQ"
    assert render_options("junos", "WIFIQ").prefix == "wifiq", "junos names are lower case"


def test_options_of_one_target_are_refused_for_another(current: RenderInput) -> None:
    from wifiq.errors import UsageError

    with pytest.raises(UsageError, match="options checked for cisco-ios cannot render junos"):
        render("junos", current, options=render_options("cisco-ios"))


def test_target_without_prefix_support_refuses_another_prefix(current: RenderInput) -> None:
    unsupported = [name for name, info in targets().items() if not info.prefix]
    for name in unsupported:
        with pytest.raises(RenderOptionError, match=f"{name}: --prefix 'acme': .*names no object on a device"):
            render(name, current, prefix="acme")


def test_cli_prefix_and_option_and_one_line_errors(box: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "option-box", "--from", CURRENT, "--prefix", "acme", "--option", "policy=VOICE"]) == 0
    assert capsys.readouterr().out.startswith("ACME-EPDG VOICE top 4646\n")
    assert main(["render", "option-box", "--from", CURRENT, "--option", "colour=red"]) == 2
    err = capsys.readouterr().err
    assert err == "wifiq: error: option-box: --option colour=red: unknown option (known: policy, placement, id)\n"
    assert main(["render", "option-box", "--from", CURRENT, "--option", "policy"]) == 2
    assert "--option 'policy': expected KEY=VALUE" in capsys.readouterr().err
    assert main(["render", "option-box", "--from", CURRENT, "--option", "id=1", "--option", "id=2"]) == 2
    assert "--option id: given twice" in capsys.readouterr().err


def test_formats_shows_prefix_and_options(box: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    text = capsys.readouterr().out
    assert "--option policy=WIFIQ-MARK  the policy to mark in" in text
    assert "--option placement=top (top|bottom)  where the rule goes" in text
    assert "--prefix: object names start with WIFIQ (settable)" in text
    assert main(["formats", "--json"]) == 0
    sheet = next(s for s in json.loads(capsys.readouterr().out) if s["name"] == "option-box")
    assert sheet["prefix"] is True
    assert sheet["options"][1] == {"key": "placement", "default": "top", "help": "where the rule goes", "kind": "choice", "choices": ["top", "bottom"]}
    assert sheet["options"][2]["minimum"] == 1 and sheet["options"][2]["maximum"] == 9999


def _config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "wifiq.toml"
    path.write_text('[selection]\nplmns = ["505-01"]\n[[outputs]]\ntarget = "option-box"\npath = "out.txt"\n' + body)
    return path


def test_config_outputs_carry_prefix_and_options(box: None, tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, 'prefix = "acme"\noptions = { policy = "VOICE", id = 12 }\n'))
    output = config.outputs[0]
    assert output.prefix == "acme" and output.options == (("policy", "VOICE"), ("id", "12"))
    check_outputs(config.outputs, tmp_path / "wifiq.toml", tmp_path / "state.sqlite")
    bad = load_config(_config(tmp_path, "[outputs.options]\ncolour = 'red'\n"))
    with pytest.raises(ConfigError, match=r"outputs\[0\].options: .*unknown option \(known: policy, placement, id\)"):
        check_outputs(bad.outputs, tmp_path / "wifiq.toml", tmp_path / "state.sqlite")
    for body, key in (("prefix = 3\n", "outputs[0].prefix"), ("options = 'x'\n", "outputs[0].options"),
                      ("options = { id = [1] }\n", "outputs[0].options.id")):
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            load_config(_config(tmp_path, body))
