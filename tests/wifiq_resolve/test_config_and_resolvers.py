"""Config file parsing and resolver address parsing: good input read, bad input named."""

from __future__ import annotations

from pathlib import Path

import pytest

from wifiq.config import ConfigError, load_config
from wifiq.errors import UsageError
from wifiq.plmn import Plmn
from wifiq.resolve import ResolverAddress, parse_resolver


def test_resolver_forms():
    assert parse_resolver("192.0.2.53") == ResolverAddress("192.0.2.53", 53)
    assert parse_resolver("192.0.2.53:5353") == ResolverAddress("192.0.2.53", 5353)
    assert parse_resolver("2001:db8::53") == ResolverAddress("2001:db8::53", 53)
    assert parse_resolver("[2001:DB8::53]:5353") == ResolverAddress("2001:db8::53", 5353)
    assert str(parse_resolver("[::1]:5300")) == "[::1]:5300"
    for bad in ("dns.example", "192.0.2.1:0", "192.0.2.1:x", "[::1", "[::1]5300", "1.2.3.4:70000"):
        with pytest.raises(UsageError, match="bad resolver"):
            parse_resolver(bad)


def test_full_config(tmp_path: Path):
    path = tmp_path / "wifiq.toml"
    path.write_text(
        'state = "state.sqlite"\n[selection]\ncountries = ["au"]\nplmns = ["530-01"]\nkinds = ["epdg"]\n'
        'tac = 0x1b1a\n[resolve]\nresolvers = ["127.0.0.1:5300", "[::1]:5300"]\nsamples = 3\ntimeout = 0.5\n'
        'retries = 1\nconcurrency = 64\n[holddown]\nrefreshes = 4\nage = "2d"\n'
        '[[outputs]]\ntarget = "nftables"\npath = "out/wifiq.nft"\ndscp = 46\n'
    )
    config = load_config(path)
    assert config.selection.countries == ("AU",)
    assert config.selection.plmns == (Plmn("530", "01"),)
    assert (config.selection.tac, config.selection.lac) == (0x1B1A, None)
    assert [str(r) for r in config.resolvers] == ["127.0.0.1:5300", "[::1]:5300"]
    assert (config.samples, config.timeout, config.retries, config.concurrency) == (3, 0.5, 1, 64)
    assert (config.holddown.refreshes, config.holddown.age) == (4, 172800)
    assert config.state == tmp_path / "state.sqlite"
    assert config.outputs[0].path == tmp_path / "out/wifiq.nft" and not config.outputs[0].delta


@pytest.mark.parametrize(
    "text, where",
    [
        ("[resolve]\nsamples = 0\n", "resolve.samples"),
        ("[resolve]\nresolvers = 'x'\n", "resolve.resolvers"),
        ("[holddown]\nrefreshes = 1\nage = 'soon'\n", "bad duration"),
        ("[selection]\nplmns = ['5050']\n", "5050"),
        ("[selection]\ncolour = 1\n", "unknown key 'colour'"),
        ("[selection]\nkinds = ['epgd']\n", "unknown name kind 'epgd'"),
        ("[selection]\ntac = '0x1b1a'\n", "selection.tac"),
        ("[selection]\nlac = 65536\n", "selection.lac"),
        ("[[outputs]]\ntarget = 'nftables'\n", "outputs[0]"),
        ("[[outputs]]\ntarget = 'x'\npath = 'y'\ndscp = 64\n", "outputs[0].dscp"),
        ("not toml = = 1", "not valid TOML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, text: str, where: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert where in str(info.value) and str(path) in str(info.value)
    assert info.value.exit_code == 2


def test_system_resolvers_from_resolv_conf(tmp_path: Path):
    from wifiq.resolve import NoResolverError, system_resolvers

    conf = tmp_path / "resolv.conf"
    conf.write_text("search example.net\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\n"
                    "nameserver 2001:db8::53\n")
    assert [str(r) for r in system_resolvers(str(conf))] == [
        "192.0.2.53", "fe80::1%eth0", "2001:db8::53"]
    conf.write_text("search example.net\n")
    with pytest.raises(NoResolverError, match="--resolver"):
        system_resolvers(str(conf))
