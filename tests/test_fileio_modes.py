"""Issue 9 (6): files written keep the mode of what they replace; new files follow the umask
(0600 when private). Through the library and through ``wifiq render --out``."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from carrierkit.fileio import atomic_write_text, current_umask
from wifiq.cli import main as wifiq_main

CURRENT = str(Path(__file__).parent / "render" / "fixtures" / "current.json")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture()
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o400, 0o755])
def test_replaced_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(mode)
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and _mode(target) == mode


def test_new_file_follows_umask_or_is_private(tmp_path: Path, umask_027: None) -> None:
    assert current_umask() == 0o027
    atomic_write_text(tmp_path / "new.txt", "x")
    assert _mode(tmp_path / "new.txt") == 0o640
    atomic_write_text(tmp_path / "secret.txt", "x", private=True)
    assert _mode(tmp_path / "secret.txt") == 0o600
    atomic_write_text(tmp_path / "explicit.txt", "x", 0o604)
    assert _mode(tmp_path / "explicit.txt") == 0o604


def test_no_temporary_file_left_and_owner_kept(tmp_path: Path) -> None:
    target = tmp_path / "owned.txt"
    target.write_text("old")
    if os.geteuid() == 0:
        os.chown(target, 4242, 4343)
    atomic_write_text(target, "new")
    assert [p.name for p in tmp_path.iterdir()] == ["owned.txt"]
    if os.geteuid() == 0:
        assert (target.stat().st_uid, target.stat().st_gid) == (4242, 4343)


def test_render_out_keeps_0600(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "wifiq.rsc"
    target.write_text("old")
    target.chmod(0o600)
    assert wifiq_main(["render", "mikrotik", "--from", CURRENT, "--out", str(target)]) == 0
    assert "address-list" in target.read_text() and _mode(target) == 0o600
    fresh = tmp_path / "fresh.rsc"
    assert wifiq_main(["render", "mikrotik", "--from", CURRENT, "--out", str(fresh)]) == 0
    assert _mode(fresh) == 0o640
