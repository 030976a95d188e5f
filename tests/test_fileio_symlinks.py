"""Writing over a symbolic link: the link stays, the file it points to gets the new content
(atomically, keeping its mode), as ``echo > link`` would do — before, the rename replaced the
link itself by a plain file and the file the link pointed to (what nft, a controller or an
include reads) silently kept the old content. Through the library and ``wifiq render --out``;
``wifiq refresh`` outputs are in tests/wifiq_resolve/test_refresh_durable.py."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from carrierkit.fileio import atomic_write_text, write_target
from wifiq.cli import main as wifiq_main

CURRENT = str(Path(__file__).parent / "render" / "fixtures" / "current.json")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_link_stays_a_link_and_its_target_gets_the_data(tmp_path: Path) -> None:
    real = tmp_path / "real" / "epdg.nft"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "epdg.nft"
    link.symlink_to(Path("real") / "epdg.nft")  # relative, as `ln -s` makes it
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real/epdg.nft"
    assert real.read_text() == "new" and _mode(real) == 0o640
    assert sorted(p.name for p in real.parent.iterdir()) == ["epdg.nft"]  # no temporary left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epdg.nft", "real"]


def test_a_chain_of_links_and_a_link_to_a_missing_file(tmp_path: Path) -> None:
    final = tmp_path / "final.txt"
    (tmp_path / "b").symlink_to(final)  # absolute
    (tmp_path / "a").symlink_to("b")
    atomic_write_text(tmp_path / "a", "created")  # dangling: the file is created, as echo > a
    assert final.read_text() == "created" and (tmp_path / "a").is_symlink()
    atomic_write_text(tmp_path / "a", "again")
    assert final.read_text() == "again" and (tmp_path / "b").is_symlink()
    assert write_target(tmp_path / "a") == final


def test_a_link_loop_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "x").symlink_to("y")
    (tmp_path / "y").symlink_to("x")
    with pytest.raises(OSError) as caught:
        atomic_write_text(tmp_path / "x", "data")
    assert caught.value.errno == errno.ELOOP
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x", "y"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the link to another user")
def test_a_strangers_link_in_a_sticky_world_writable_directory_is_not_followed(
        tmp_path: Path) -> None:
    """The kernel's protected_symlinks rule, which a manual resolve would otherwise bypass:
    in /tmp-like directories, another user's link could send our write anywhere."""
    public = tmp_path / "public"
    public.mkdir()
    public.chmod(0o1777)
    precious = tmp_path / "precious"
    precious.write_text("keep")
    link = public / "out.nft"
    link.symlink_to(precious)
    os.lchown(link, 4242, 4242)
    with pytest.raises(PermissionError) as caught:
        atomic_write_text(link, "data")
    assert "sticky" in str(caught.value)
    assert precious.read_text() == "keep" and link.is_symlink()
    os.lchown(link, 0, 0)  # our own link there is followed, as the kernel would
    atomic_write_text(link, "data")
    assert precious.read_text() == "data"


def test_render_out_through_a_link_keeps_the_link_and_the_mode(tmp_path: Path) -> None:
    real = tmp_path / "etc" / "wifiq.rsc"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "wifiq.rsc"
    link.symlink_to(real)
    assert wifiq_main(["render", "mikrotik", "--from", CURRENT, "--out", str(link)]) == 0
    assert link.is_symlink() and "address-list" in real.read_text() and _mode(real) == 0o600
