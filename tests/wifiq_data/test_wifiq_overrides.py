"""Overrides files: the embedded one (every entry sourced) and user files (format and errors)."""

from __future__ import annotations

import pytest

from wifiq.operators import OperatorDataError, load_operators
from wifiq.operators.load import embedded_overrides
from wifiq.operators.store import parse_overrides
from wifiq.plmn import Plmn


def test_embedded_overrides_are_sourced():
    overrides = embedded_overrides()
    assert overrides
    for override in overrides:
        assert override.source and ("github.com/" in override.source)
        assert override.names or override.ranges
    by_plmn = {str(o.plmn): o for o in overrides}
    assert by_plmn["311-480"].names == ("wo.vzwwo.com",)
    assert by_plmn["310-410"].names == ("epdg.epc.att.net",)
    assert by_plmn["515-02"].names == ("weconnect.globe.com.ph",)
    assert by_plmn["310-260"].ranges == ("208.54.0.0/17",)


def test_every_embedded_override_names_a_listed_operator():
    db = load_operators(user_files=False)
    for override in db.overrides():
        assert db.get(override.plmn) is not None, override.plmn


def test_user_file_adds_to_embedded(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('''
[[operator]]
plmns = ["505-01", "50502"]
names = ["EPDG.Example.NET.", "epdg.example.net"]
ranges = ["192.0.2.0/24", "2001:db8::/32"]
note = "lab"

[[operator]]
plmns = ["311-480"]
names = ["second.example"]
source = "our lab notes"
''')
    db = load_operators(overrides_files=[path], user_files=False)
    (telstra,) = db.overrides_for(Plmn("505", "01"))
    assert telstra.names == ("epdg.example.net",)  # normalised and deduplicated
    assert telstra.ranges == ("192.0.2.0/24", "2001:db8::/32")
    assert telstra.source == str(path)  # a user entry without source: the file's path
    assert db.overrides_for(Plmn("505", "02"))[0].names == ("epdg.example.net",)
    verizon = db.overrides_for(Plmn("311", "480"))
    assert [o.names for o in verizon] == [("wo.vzwwo.com",), ("second.example",)]
    assert verizon[1].source == "our lab notes"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[operator]\n", "not TOML"),
        ("[other]\nx = 1\n", r"expected only \[\[operator\]\] tables"),
        ('[[operator]]\nplmns = ["505-1"]\nnames = ["a.b"]\n', r"operator\[0\]: invalid PLMN '505-1'"),
        ('[[operator]]\nplmns = []\nnames = ["a.b"]\n', "at least one PLMN"),
        ('[[operator]]\nplmns = "505-01"\nnames = ["a.b"]\n', "'plmns' must be a list"),
        ('[[operator]]\nplmns = ["505-01"]\n', "give 'names' or 'ranges'"),
        ('[[operator]]\nplmns = ["505-01"]\nnames = ["bad name"]\n', "not a host name"),
        ('[[operator]]\nplmns = ["505-01"]\nnames = ["-x.example"]\n', "not a host name"),
        ('[[operator]]\nplmns = ["505-01"]\nnames = ["' + "a" * 64 + '.example"]\n', "not a host name"),
        ('[[operator]]\nplmns = ["505-01"]\nranges = ["208.54.0.1/17"]\n', "not a CIDR range"),
        ('[[operator]]\nplmns = ["505-01"]\nranges = ["nope"]\n', "not a CIDR range"),
        ('[[operator]]\nplmns = ["505-01"]\nnames = ["a.b"]\nrange = ["1.2.3.0/24"]\n',
         r"unknown keys \['range'\]"),
        ('[[operator]]\nplmns = ["505-01"]\nnames = ["a.b"]\nsource = ""\n', "'source' must say"),
    ],
)
def test_bad_overrides_name_file_entry_and_problem(tmp_path, text, problem):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(OperatorDataError, match=problem) as info:
        load_operators(overrides_files=[path], user_files=False)
    assert str(info.value).startswith(str(path))


def test_embedded_file_requires_source():
    with pytest.raises(OperatorDataError, match="'source' must say"):
        parse_overrides('[[operator]]\nplmns = ["505-01"]\nnames = ["a.b"]\n', "<x>",
                        require_source=True)


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(OperatorDataError, match="No such file"):
        load_operators(overrides_files=[tmp_path / "absent.toml"], user_files=False)
    big = tmp_path / "big.toml"
    with big.open("wb") as fh:
        fh.truncate(32 * 1024 * 1024 + 1)
    with pytest.raises(OperatorDataError, match="larger than"):
        load_operators(overrides_files=[big], user_files=False)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(OperatorDataError, match="not UTF-8"):
        load_operators(overrides_files=[binary], user_files=False)
