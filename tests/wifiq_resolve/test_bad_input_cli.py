"""What a user types wrong ends in one line naming the input and a documented exit status
(2 bad command line or config, 1 unusable state) — never a traceback, and no lookup is made."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

SEL = ("--plmn", "505-01", "--timeout", "0.2", "--retries", "0")


def _last_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "no message on stderr"
    return lines[-1]


@pytest.mark.parametrize(
    "args, code, expected",
    [
        (("resolve", "--plmn", "5050-1"), 2, "invalid PLMN '5050-1'"),
        (("resolve", "--timeout", "0.2"), 2, "select operators with --plmn, --country or --mcc"),
        (("resolve", "--country", "ZZ"), 2, "unknown country code 'ZZ'"),
        (("resolve", "--mcc", "50"), 2, "invalid MCC '50'"),
        (("resolve", *SEL, "--resolver", "1.2.3.4:99999"), 2, "bad resolver '1.2.3.4:99999'"),
        (("resolve", *SEL, "--resolver", "dns.example"), 2, "bad resolver 'dns.example'"),
        (("resolve", *SEL, "--samples", "0"), 2, "'--samples': 0 is not in the range"),
        (("resolve", *SEL, "--kind", "epgd"), 2, "unknown name kind 'epgd'"),
        (("resolve", *SEL, "--kind", "tac", "--tac", "zz"), 2, "invalid --tac 'zz'"),
        (("refresh", *SEL, "--wait", "-1"), 2, "'--wait': -1.0 is not in the range"),
        (("resolve", *SEL, "--timeout", "nan"), 2, "'--timeout': 'nan' is not a number of seconds"),
        (("refresh", *SEL, "--wait", "nan"), 2, "'--wait': 'nan' is not a number of seconds"),
    ],
)
def test_bad_command_line(wifiq, silent, args, code, expected):
    run = wifiq(*args, "--resolver", silent.address)
    assert run.code == code, run.err
    assert "Traceback" not in run.err and expected in _last_line(run.err)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[selection]\ncountrys = ['AU']\n", "selection: unknown key 'countrys'"),
        ("[resolve]\nsamples = '3'\n", "resolve.samples: must be an integer 1-100"),
        ("[resolve\n", "not valid TOML"),
        ("[selection]\nplmns = ['505-01']\n[[outputs]]\ntarget = 'nftabels'\npath = 'x.nft'\n",
         "outputs[0].target: unknown render target 'nftabels'"),
        ("[[outputs]]\ntarget = 'nftables'\npath = 'no-such-dir/x.nft'\n",
         "outputs[0].path: no directory "),
        ("[[outputs]]\ntarget = 'nftables'\npath = '.'\n", "outputs[0].path: "),
        ("[[outputs]]\ntarget = 'iptables'\npath = 'x.rules'\n",
         "outputs[0].path: iptables writes several files"),
    ],
)
def test_bad_config_file(wifiq, silent, tmp_path: Path, text, expected):
    config = tmp_path / "wifiq.toml"
    config.write_text(text)
    run = wifiq.refresh("--config", str(config), "--resolver", silent.address)
    assert run.code == 2, run.err
    line = _last_line(run.err)
    assert "Traceback" not in run.err and line.startswith(f"wifiq: error: config {config}: ")
    assert expected in line
    assert not wifiq.state.exists()  # refused before any lookup or state write


def test_state_that_cannot_be_created(wifiq, silent, tmp_path: Path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("")
    state = a_file / "state.sqlite"  # its parent is a file: neither lock nor database can exist
    run = wifiq("refresh", *SEL, "--resolver", silent.address, "--state", str(state))
    assert run.code == 1 and "Traceback" not in run.err
    assert _last_line(run.err).startswith(f"wifiq: error: state file {state}: cannot create")


def test_state_that_is_not_sqlite_is_left_alone(wifiq, silent):
    wifiq.state.write_bytes(b"\x00garbage" * 200)
    run = wifiq.refresh("--plmn", "505-01", "--resolver", silent.address)
    assert run.code == 1 and "Traceback" not in run.err
    assert _last_line(run.err) == f"wifiq: error: state file {wifiq.state}: file is not a database"
    assert wifiq.state.read_bytes() == b"\x00garbage" * 200
    history = wifiq("history", "--plmn", "505-01", "--state", str(wifiq.state))
    assert history.code == 1 and "file is not a database" in _last_line(history.err)


def test_someone_elses_sqlite_database_is_refused_untouched(wifiq, silent):
    with sqlite3.connect(wifiq.state) as db:
        db.execute("CREATE TABLE bookmarks (url TEXT)")
        db.execute("INSERT INTO bookmarks VALUES ('https://example.net/')")
    before = wifiq.state.read_bytes()
    run = wifiq.refresh("--plmn", "505-01", "--resolver", silent.address)
    assert run.code == 1 and "Traceback" not in run.err
    assert _last_line(run.err) == (f"wifiq: error: state file {wifiq.state}: an SQLite database "
                                   "but not a wifiq state file (it has other tables: bookmarks)")
    assert wifiq.state.read_bytes() == before
    with sqlite3.connect(wifiq.state) as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["bookmarks"]
