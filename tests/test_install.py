"""The distribution as a user gets it: sdist → wheel → a fresh venv without the card extra.

Built with ``python -m build`` from a copy of the tree (so the wheel comes from the sdist, as a
package index would build it, and nothing stale in the clone leaks in), installed with
``--only-binary :all:`` (no compiler may be needed: pip fails rather than build an sdist), and
run from a directory outside the repository. See docs/packaging.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from carrierkit import __version__ as VERSION
from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[1]
APK = ROOT / "tests/corpus/apksig-golden/v1v2v3-with-rsa-2048-lineage-3-signers.apk"
REFRESH_DOC = ROOT / "tests/render/fixtures/current.json"
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                     ".mypy_cache", ".ruff_cache", ".hypothesis", ".pytest_cache")


def _run(args: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env,
                          timeout=600, cwd=cwd)


class Installed:
    """The built files and a fresh venv with the wheel installed (no extras)."""

    def __init__(self, dist: Path, venv: Path, outside: Path) -> None:
        self.dist, self.venv, self.outside = dist, venv, outside
        self.sdist = next(dist.glob("carrierkit-*.tar.gz"))
        self.wheel = next(dist.glob("carrierkit-*.whl"))

    def tool(self, name: str) -> Callable[..., subprocess.CompletedProcess[str]]:
        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return _run([self.venv / "bin" / name, *args], cwd=self.outside)
        return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    probe = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                  "--dest", work / "probe", "click"])
    if probe.returncode != 0:
        pytest.skip(f"no package index reachable through pip: {probe.stderr.strip()[-200:]}")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    dist = work / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", dist, source])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    venv = work / "venv"
    made = _run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    wheel = next(dist.glob("carrierkit-*.whl"))
    pip = _run([venv / "bin/python", "-m", "pip", "install", "--only-binary", ":all:", wheel])
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    outside = work / "elsewhere"
    outside.mkdir()
    shutil.copy(APK, outside / "app.apk")
    shutil.copy(REFRESH_DOC, outside / "now.json")
    return Installed(dist, venv, outside)


def test_wheel_installs_without_pyscard_or_a_compiler(installed: Installed) -> None:
    listed = _run([installed.venv / "bin/python", "-m", "pip", "list", "--format=freeze"])
    names = {line.split("==")[0].lower() for line in listed.stdout.splitlines()}
    assert "carrierkit" in names and "pyscard" not in names
    where = _run([installed.venv / "bin/python", "-c",
                  "import carrierkit, simtool, wifiq; print(simtool.__file__, wifiq.__file__)"],
                 cwd=installed.outside)
    assert where.returncode == 0 and all("site-packages" in p for p in where.stdout.split())


def test_simtool_digest_from_the_installed_wheel(installed: Installed) -> None:
    import json

    simtool = installed.tool("simtool")
    assert simtool("--version").stdout.strip() == f"simtool, version {VERSION}"
    help_ = simtool("--help")
    assert help_.returncode == 0 and "aram" in help_.stdout and "digest" in help_.stdout
    run = simtool("digest", "--json", "app.apk")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)[0]["verified"] is True


def test_wifiq_names_formats_render_from_the_installed_wheel(installed: Installed) -> None:
    wifiq = installed.tool("wifiq")
    names = wifiq("names", "--plmn", "505-01")
    assert names.returncode == 0, names.stderr
    assert "epdg.epc.mnc001.mcc505.pub.3gppnetwork.org" in names.stdout
    formats = wifiq("formats")
    assert formats.returncode == 0 and formats.stderr == ""
    assert {"nftables", "cisco-9800", "json"} <= {ln.split()[0] for ln in formats.stdout.splitlines()
                                                   if ln and not ln.startswith(" ")}
    render = wifiq("render", "nftables", "--from", "now.json")
    assert render.returncode == 0, render.stderr
    assert render.stdout.startswith("#!/usr/sbin/nft -f")


def test_card_commands_without_the_extra_say_how_to_install(installed: Installed) -> None:
    simtool = installed.tool("simtool")
    for command in (["readers"], ["aram", "list"]):
        run = simtool(*command)
        assert run.returncode == 3 and run.stdout == ""
        assert run.stderr.splitlines() == [
            f"simtool: error: simtool {command[0]} needs pyscard, which is not installed: "
            "pipx inject carrierkit pyscard (or pip install pyscard in carrierkit's environment; "
            "building pyscard needs gcc, the Python headers and libpcsclite-dev)"]


def test_wheel_and_sdist_carry_licences_docs_and_one_version(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        files = set(wheel.namelist())
        metadata = wheel.read(f"carrierkit-{VERSION}.dist-info/METADATA").decode()
    licences = {"LICENSE", "LICENSES/CC-BY-SA-4.0.txt", "wifiq/operators/data/ATTRIBUTION.txt"}
    assert {f"carrierkit-{VERSION}.dist-info/licenses/{name}" for name in licences} <= files
    assert "License-Expression: Apache-2.0 AND CC-BY-SA-4.0" in metadata.splitlines()
    assert f"Version: {VERSION}" in metadata.splitlines()
    assert "Requires-Dist: pyscard>=2.0; extra == \"card\"" in metadata.splitlines()
    assert not any(name.startswith(("tests/", "docs/")) for name in files)
    with tarfile.open(installed.sdist) as sdist:
        members = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    linked = {"docs/architecture.md", "docs/packaging.md", "docs/wifiq-render.md",
              "LICENSES/CC-BY-SA-4.0.txt", "scripts/setup", "scripts/test"}
    assert linked <= members


def test_card_extra_from_the_wheel_talks_to_a_reader(installed: Installed, pcsc_rig) -> None:  # noqa: F811
    """``pip install 'carrierkit[card]'`` (the wheel with the extra; pyscard compiles, or comes
    from pip's cache) gives working card commands: readers and card info against pcscd + vpcd."""
    import json

    venv = installed.dist.parent / "venv-card"
    made = _run([sys.executable, "-m", "venv", venv])
    assert made.returncode == 0, made.stderr
    pip = _run([venv / "bin/python", "-m", "pip", "install", f"{installed.wheel}[card]"])
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    pcsc_rig.insert_card("spec", iccid="8949440000001234567")
    env = {k: v for k, v in pcsc_rig.env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def simtool(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin/simtool"), *args], capture_output=True, text=True,
                              env=env, cwd=installed.outside, timeout=120)

    readers = simtool("readers", "--json")
    assert readers.returncode == 0, readers.stderr
    assert len(json.loads(readers.stdout)) >= 2
    info = simtool("card", "info", "--json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["iccid"] == "8949440000001234567"
