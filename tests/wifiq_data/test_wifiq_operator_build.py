"""The build script on a small fixture (each oddity), on a real npm tarball layout, and bad input."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from wifiq.errors import UsageError
from wifiq.operators import OperatorDataError, load_operators
from wifiq.operators.build import build_file, main, read_source
from wifiq.plmn import Plmn

SMALL = Path(__file__).parent / "corpus" / "mcc-mnc-small.json"


def _tarball(tmp_path: Path, files: dict[str, bytes]) -> Path:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path = tmp_path / "pkg.tgz"
    path.write_bytes(buf.getvalue())
    return path


def test_small_fixture(tmp_path):
    text, meta = build_file(SMALL, retrieved="2026-01-02")
    out = tmp_path / "ops.json"
    out.write_text(text)
    db = load_operators(data_file=out, user_files=False)
    assert [str(op.plmn) for op in db.all()] == [
        "001-01", "234-50", "234-50", "350-007", "350-07", "505-01", "901-01"]
    assert (meta["rows_in"], meta["rows_out"], meta["plmns"]) == (14, 7, 6)
    reasons = [s["reason"] for s in meta["skipped"]]
    assert reasons == ["MNC '100 - 190' is not 2 or 3 digits", "MNC '50144' is not 2 or 3 digits",
                       "MNC '?' is not 2 or 3 digits", "MCC '70' is not 3 digits",
                       "MNC None is not 2 or 3 digits", "not a JSON object"]
    assert meta["merged_identical"] == [{"index": 1, "plmn": "505-01", "country_iso": "AU/CC/CX"}]
    assert meta["shared_plmns"] == {"234-50": ["GB", "JE"]}
    assert meta["source"]["version"] is None and meta["source"]["integrity_of"] == "json"
    three = db.get(Plmn("350", "007"))
    assert three is not None and three.operator == "Example Three-digit Ltd" and three.brand is None
    assert db.get(Plmn("350", "07")) is not None
    intl = db.get(Plmn("901", "01"))
    assert intl is not None and (intl.country_iso, intl.country) == ("", "International")
    assert db.info.metadata["source"]["retrieved"] == "2026-01-02"


def test_tarball_records_version_and_integrity(tmp_path):
    path = _tarball(tmp_path, {
        "package/package.json": json.dumps({"name": "mcc-mnc-list", "version": "9.9.9"}).encode(),
        "package/mcc-mnc-list.json": SMALL.read_bytes()})
    source = read_source(path)
    assert source.version == "9.9.9" and source.integrity_of == "tarball"
    assert source.integrity.startswith("sha512-")
    _, meta = build_file(path)
    assert meta["rows_out"] == 7


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"package/package.json": b'{"name": "other", "version": "1"}',
          "package/mcc-mnc-list.json": b"[]"}, "not the mcc-mnc-list package"),
        ({"package/package.json": b'{"name": "mcc-mnc-list"}'}, "has no package/mcc-mnc-list.json"),
        ({"package/package.json": b"{nope", "package/mcc-mnc-list.json": b"[]"},
         "package/package.json is not JSON"),
    ],
)
def test_bad_tarballs(tmp_path, files, problem):
    with pytest.raises(OperatorDataError, match=problem):
        read_source(_tarball(tmp_path, files))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is not JSON"),
        (b"\x1f\x8bnot gzip at all", "not a readable npm tarball"),
        (b'{"mcc": "505"}', "must be a JSON array"),
        (b"[]", "no usable MCC/MNC rows"),
        (b'[{"mcc": "505", "mnc": "1"}]', "no usable MCC/MNC rows"),
        (b"\xff\xfe[]", "is not JSON"),
    ],
)
def test_bad_json_sources(tmp_path, content, problem):
    path = tmp_path / "src.json"
    path.write_bytes(content)
    with pytest.raises(OperatorDataError, match=problem) as info:
        build_file(path)
    assert str(path) in str(info.value)


def test_missing_source_and_bad_date(tmp_path):
    with pytest.raises(OperatorDataError, match="No such file"):
        build_file(tmp_path / "absent.json")
    with pytest.raises(UsageError, match="invalid date '26/11/2026'"):
        build_file(SMALL, retrieved="26/11/2026")


def test_module_entry_point(tmp_path, capsys):
    out = tmp_path / "x.json"
    assert main([str(SMALL), "--out", str(out), "--retrieved", "2026-01-02"]) == 0
    assert "7 rows (6 PLMNs) from 14" in capsys.readouterr().err
    assert json.loads(out.read_text())["metadata"]["rows_out"] == 7
    assert main([str(tmp_path / "absent.json"), "--out", str(out)]) == 1
    assert json.loads(out.read_text())["metadata"]["rows_out"] == 7  # old file untouched


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        ({"format": "other"}, "not a wifiq-operators/1 data file"),
        ({"format": "wifiq-operators/1", "columns": ["mcc"], "operators": []}, "columns must be"),
        ({"format": "wifiq-operators/1",
          "columns": ["mcc", "mnc", "country_iso", "country", "brand", "operator", "status"],
          "operators": [["505", "1", "AU", "Australia", None, None, None]]},
         r"operators\[0\]: invalid PLMN"),
        ({"format": "wifiq-operators/1",
          "columns": ["mcc", "mnc", "country_iso", "country", "brand", "operator", "status"],
          "operators": [["505", "01", "AU"]]}, r"operators\[0\] is not a row"),
    ],
)
def test_bad_data_files(tmp_path, doc, problem):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(OperatorDataError, match=problem):
        load_operators(data_file=path, user_files=False)
