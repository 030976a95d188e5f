"""Overrides and data files: the embedded overrides (every entry sourced), user files, and
malformed input of any shape ending in OperatorDataError, never another exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wifiq.operators import OperatorDataError, load_operators
from wifiq.operators.load import embedded_overrides
from wifiq.operators.store import COLUMNS, FORMAT, parse_data, parse_overrides
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

toml_values = st.recursive(
    st.one_of(st.text(max_size=20), st.integers(), st.booleans()),
    lambda inner: st.lists(inner, max_size=4), max_leaves=8)


@settings(max_examples=300)
@given(entries=st.lists(st.dictionaries(
    st.sampled_from(["plmns", "names", "ranges", "source", "note", "x"]), toml_values,
    max_size=5), max_size=3))
def test_any_overrides_document_parses_or_raises_operator_data_error(entries):
    lines = []
    for entry in entries:
        lines.append("[[operator]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in entry.items())
    try:
        parse_overrides("\n".join(lines), "<fuzz>", require_source=False)
    except OperatorDataError:
        pass


@settings(max_examples=300)
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_as_data_file_parse_or_raise_operator_data_error(raw):
    try:
        parse_data(raw, "<fuzz>")
    except OperatorDataError:
        pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=8), max_leaves=20)


@settings(max_examples=300)
@given(rows=st.lists(json_values, max_size=4), meta=json_values)
def test_any_rows_in_a_data_file_parse_or_raise_operator_data_error(rows, meta):
    doc = {"format": FORMAT, "columns": list(COLUMNS), "metadata": meta, "operators": rows}
    try:
        operators, _ = parse_data(json.dumps(doc).encode(), "<fuzz>")
    except OperatorDataError:
        return
    assert len(operators) == len(rows)
