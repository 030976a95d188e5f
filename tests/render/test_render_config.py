"""``wifiq render TARGET --config FILE``: the refresh's config gives the state and, from its one
``[[outputs]]`` entry for TARGET, the DSCP, prefix and options; the command line wins."""

from __future__ import annotations

from pathlib import Path

from tests.wifiq_resolve.conftest import knot, wifiq  # noqa: F401 (fixtures)


def _config(wifiq, knot, outputs: Path) -> str:  # noqa: F811
    path = wifiq.home / "wifiq.toml"
    path.write_text(
        f'state = "{wifiq.state}"\n[selection]\nplmns = ["505-01", "505-02"]\n'
        f'[resolve]\nresolvers = ["{knot.address}"]\ntimeout = 0.3\nretries = 0\n'
        f'[[outputs]]\ntarget = "mikrotik"\npath = "{outputs / "wifiq.rsc"}"\ndscp = 34\n'
        'prefix = "acme"\n'
        f'[[outputs]]\ntarget = "nftables"\npath = "{outputs / "a.nft"}"\n'
        f'[[outputs]]\ntarget = "nftables"\npath = "{outputs / "b.nft"}"\ndelta = true\n'
    )
    return str(path)


def test_render_with_the_refresh_config(wifiq, knot, tmp_path: Path) -> None:  # noqa: F811
    outputs = tmp_path / "out"
    outputs.mkdir()
    config = _config(wifiq, knot, outputs)
    assert wifiq("refresh", "--config", config).code == 3

    same = wifiq("render", "mikrotik", "--config", config)
    assert same.code == 0, same.err
    assert same.out == (outputs / "wifiq.rsc").read_text()  # the refresh's output, exactly
    explicit = wifiq("render", "mikrotik", "--state", str(wifiq.state), "--dscp", "34",
                     "--prefix", "acme")
    assert explicit.out == same.out
    plain = wifiq("render", "mikrotik", "--state", str(wifiq.state))
    assert plain.out != same.out  # so the config's dscp and prefix were what made it equal

    wins = wifiq("render", "mikrotik", "--config", config, "--dscp", "ef")
    ef = wifiq("render", "mikrotik", "--state", str(wifiq.state), "--dscp", "ef",
               "--prefix", "acme")
    assert wins.code == 0 and wins.out == ef.out and wins.out != same.out

    other = wifiq("render", "cisco-ios", "--config", config)  # no entry: only the state
    assert other.code == 0 and other.out == wifiq("render", "cisco-ios", "--state",
                                                  str(wifiq.state)).out

    two = wifiq("render", "nftables", "--config", config)
    assert two.code == 2 and two.out == "" and two.err.count("\n") == 1
    assert "2 [[outputs]] entries for nftables" in two.err and "a.nft" in two.err
