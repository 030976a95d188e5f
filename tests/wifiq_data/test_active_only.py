"""``--active-only``: only PLMNs the operator data lists as operational (default: every PLMN)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wifiq.commands.resolve_options import settings
from wifiq.config import ConfigError, load_config
from wifiq.operators import NothingSelectedError
from wifiq.operators.db import OperatorDb
from wifiq.operators.model import OPERATIONAL_STATUSES, Operator
from wifiq.plmn import parse_plmn

STATUSES = ["Operational", "Not operational", "Unknown", None, "Temporary operational",
            "Reserved"]


def _db() -> OperatorDb:
    rows = [Operator(parse_plmn(f"505-{10 + i:02d}"), "AU", "Australia", f"B{i}", None, status)
            for i, status in enumerate(STATUSES)]
    # 505-10 has a second, not operational row elsewhere: one operational row is enough
    rows.append(Operator(parse_plmn("505-10"), "NF", "Norfolk Island", "B0", None,
                         "Not operational"))
    # 505-11 is operational in another territory only
    rows.append(Operator(parse_plmn("505-11"), "CX", "Christmas Island", "B1", None,
                         "Operational"))
    return OperatorDb(rows)


def test_statuses_that_count_as_operational() -> None:
    assert OPERATIONAL_STATUSES == {"Operational", "Temporary operational"}
    db = _db()
    assert [str(op.plmn) for op in db.search(country=["AU"], active_only=True)] == [
        "505-10", "505-14"]
    assert [str(p) for p in db.select(mcc=["505"], active_only=True)] == [
        "505-10", "505-11", "505-14"]
    assert len(db.select(mcc=["505"])) == len(STATUSES)  # the default keeps every status


def test_named_plmns_stay_and_an_empty_result_says_why() -> None:
    db = _db()
    named = [parse_plmn("505-12"), parse_plmn("505-13")]  # Unknown, no status
    assert db.select(plmn=named, active_only=True) == tuple(named)
    with pytest.raises(NothingSelectedError, match="--active-only: none of them is operational"):
        db.select(plmn=named, text="B2", active_only=True)
    with pytest.raises(NothingSelectedError) as plain:
        db.select(text="no such brand", active_only=True)
    assert "--active-only" not in str(plain.value)  # nothing matched even with every status


def _wifiq(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "wifiq.cli", *args], capture_output=True,
                          text=True, env=env, timeout=60)


def test_names_and_operators_with_the_embedded_data(tmp_path: Path) -> None:
    rows = json.loads(_wifiq(tmp_path, "operators", "list", "--country", "AU", "--json").stdout)
    status = {}
    for row in rows["operators"]:
        status.setdefault(row["plmn"], set()).add(row["status"])
    operational = {p for p, s in status.items() if s & OPERATIONAL_STATUSES}
    assert 0 < len(operational) < len(status)  # the data has both kinds for AU

    active = _wifiq(tmp_path, "operators", "list", "--country", "AU", "--active-only", "--json")
    assert {row["status"] for row in json.loads(active.stdout)["operators"]} <= OPERATIONAL_STATUSES

    def plmns(*extra: str) -> set[str]:
        proc = _wifiq(tmp_path, "names", "--country", "AU", "--kind", "epdg", "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        return {p for name in json.loads(proc.stdout)["names"] for p in name["plmns"]}

    assert plmns() == set(status)
    assert plmns("--active-only") == operational
    defunct = sorted(set(status) - operational)[0]
    kept = _wifiq(tmp_path, "names", "--plmn", defunct, "--active-only", "--kind", "epdg")
    assert kept.returncode == 0 and kept.stdout.count("\n") == 1


def test_config_key_and_command_line_merge(tmp_path: Path) -> None:
    config = tmp_path / "wifiq.toml"
    config.write_text('[selection]\ncountries = ["AU"]\nactive_only = true\n')
    common = dict(countries=(), mccs=(), plmns=(), overrides_files=(), kinds=(), tac=None,
                  lac=None, resolvers=("192.0.2.53",), samples=None, timeout=None, retries=None,
                  concurrency=None)
    merged, _ = settings(config_path=config, active_only=False, **common)  # type: ignore[arg-type]
    assert merged.selection.active_only is True
    plain, _ = settings(config_path=None, active_only=False, **common)  # type: ignore[arg-type]
    assert plain.selection.active_only is False  # documented default: every PLMN
    given, _ = settings(config_path=None, active_only=True, **common)  # type: ignore[arg-type]
    assert given.selection.active_only is True
    config.write_text('[selection]\nactive_only = "yes"\n')
    with pytest.raises(ConfigError, match="selection.active_only: must be true or false"):
        load_config(config)
