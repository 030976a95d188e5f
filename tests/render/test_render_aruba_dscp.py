"""A ``--dscp`` change on ArubaOS and AOS-CX, on the device models of the coexistence contract.

ArubaOS session ACL lines carry the DSCP and go only by their whole text: ``--option
previous-dscp`` takes the old lines out, and writing over a file marked with another DSCP
without it is refused. AOS-CX policy entries go by sequence number: a plain full output
converges whatever the DSCP was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wifiq.cli import main
from wifiq.render import render, render_options

from . import device_models as dm
from .cases.aruba import AOS_USER, CX_USER, aos_device, cx_device
from .contract import NEWER, OLDER

FIXTURES = Path(__file__).parent / "fixtures"


def _device(make, user: str, *texts: str):  # type: ignore[no-untyped-def]
    dev = make()
    dev.apply(user)
    for text in texts:
        dev.apply(text)
    return dev


def test_aruba_os_previous_dscp_takes_the_old_lines_out() -> None:
    old = render("aruba-os", OLDER, dscp="ef")
    fresh = _device(aos_device, AOS_USER, render("aruba-os", NEWER.knowing(OLDER), dscp="af41"))
    # Without the option the lines marking EF stay (above the new ones) and still use the
    # aliases, so the controller refuses to rebuild them.
    with pytest.raises(dm.DeviceRefused, match="still referenced"):
        _device(aos_device, AOS_USER, old, render("aruba-os", NEWER.knowing(OLDER), dscp="af41"))
    options = render_options("aruba-os", None, {"previous-dscp": "ef"})
    changed = render("aruba-os", NEWER.knowing(OLDER), dscp="af41", options=options)
    assert "! DSCP changes from ef (46)" in changed
    assert _device(aos_device, AOS_USER, old, changed).objects() == fresh.objects()
    # A delta with the option is the full output (every line changes with the DSCP).
    delta = render("aruba-os", NEWER, previous=OLDER, dscp="af41", options=options)
    assert _device(aos_device, AOS_USER, old, delta).objects() == fresh.objects()
    # The same DSCP as before: the option changes nothing.
    same = render_options("aruba-os", None, {"previous-dscp": "46"})
    assert render("aruba-os", NEWER, dscp="ef", options=same) == render("aruba-os", NEWER, dscp="ef")


@pytest.mark.parametrize("options", [{}, {"policy": "USER-QOS"}])
def test_aruba_cx_dscp_change_converges_by_sequence_number(options: dict[str, str]) -> None:
    chosen = render_options("aruba-cx", None, options)
    old = render("aruba-cx", OLDER, dscp="ef", options=chosen)
    new = render("aruba-cx", NEWER.knowing(OLDER), dscp="af41", options=chosen)
    assert "action dscp AF41" in new
    over = _device(cx_device, CX_USER, old, new)
    assert over.objects() == _device(cx_device, CX_USER, new).objects()


def test_writing_over_an_aruba_os_file_with_another_dscp_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, source = tmp_path / "wifiq.aos", str(FIXTURES / "current.json")
    assert main(["render", "aruba-os", "--from", source, "--out", str(out)]) == 0
    before = out.read_text()
    capsys.readouterr()
    assert main(["render", "aruba-os", "--from", source, "--dscp", "af41", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "marks DSCP 46" in err and "--option previous-dscp=46" in err and err.count("\n") == 1
    assert out.read_text() == before  # nothing written
    assert main(["render", "aruba-os", "--from", source, "--dscp", "af41", "--option", "previous-dscp=ef", "--out", str(out)]) == 0
    assert "tos 34" in out.read_text()
    # Another target's file at that path says nothing about the controller.
    other = tmp_path / "other.aos"
    assert main(["render", "cisco-ios", "--from", source, "--out", str(other)]) == 0
    assert main(["render", "aruba-os", "--from", source, "--dscp", "af41", "--out", str(other)]) == 0
    # Same DSCP again, or a target whose lines do not carry it: no question asked.
    assert main(["render", "aruba-os", "--from", source, "--dscp", "34", "--out", str(out)]) == 0
    cx = tmp_path / "wifiq.cx"
    assert main(["render", "aruba-cx", "--from", source, "--out", str(cx)]) == 0
    assert main(["render", "aruba-cx", "--from", source, "--dscp", "af41", "--out", str(cx)]) == 0
