"""The shared core (carrierkit/) and the layering rules it exists for.

- library modules load without click and without pyscard (only the CLIs and the PC/SC
  transport may import them);
- wifiq never imports simtool, and carrierkit imports neither tool;
- without pyscard, ``simtool --help`` and ``simtool digest`` work and every card command says in
  one line how to install the ``card`` extra (exit 3);
- the progress line is drawn only on a terminal, only after the delay, and erased at the end.
"""

from __future__ import annotations

import ast
import importlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from carrierkit.errors import MissingExtraError, SecretError, ToolError
from carrierkit.progress import progress

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("carrierkit", "simtool", "wifiq")
APK = ROOT / "tests/corpus/apksig-golden/v1v2v3-with-rsa-2048-lineage-3-signers.apk"

# A meta-path finder that makes the named top-level modules look not installed.
BLOCKER = """
import sys
BLOCKED = set(sys.argv[1].split(","))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
"""


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def _may_import_click(module: str) -> bool:
    """Only the command-line layers use click."""
    parts = module.split(".")
    return parts[-1] == "cli" or "commands" in parts


def _run_blocked(blocked: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCKER + code, blocked], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_library_modules_load_without_click_or_pyscard() -> None:
    library = [m for m in _modules() if not _may_import_click(m) and m != "simtool.card.transport"]
    assert "simtool.card.protocol" in library and "carrierkit.secrets" in library
    code = ("import importlib, sys\n"
            f"for name in {library!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m.partition('.')[0] in ('click', 'smartcard')))")
    proc = _run_blocked("click,smartcard", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return found


@pytest.mark.parametrize("package, forbidden", [("wifiq", {"simtool"}),
                                                ("carrierkit", {"simtool", "wifiq"})])
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
                 for p in (ROOT / package).rglob("*.py") if _imports(p) & forbidden}
    assert offenders == {}


def test_without_pyscard_help_and_digest_work_card_commands_say_how_to_install() -> None:
    code = ("from simtool.cli import main\n"
            "import sys, json\n"
            "args = json.loads(sys.argv[2])\n"
            "rc = main(args)\n"
            "print('card modules loaded:', sorted(m for m in sys.modules if m.startswith("
            "('simtool.card', 'simtool.aram', 'simtool.commands.aram'))), file=sys.stderr)\n"
            "sys.exit(rc)")

    def simtool(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", BLOCKER + code, "smartcard", json.dumps(args)],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)

    help_ = simtool("--help")
    assert help_.returncode == 0 and "digest" in help_.stdout and "aram" in help_.stdout
    digest = simtool("digest", "--json", str(APK))
    assert digest.returncode == 0, digest.stderr
    assert json.loads(digest.stdout)[0]["verified"] is True
    assert "card modules loaded: []" in digest.stderr  # digest never loads the card layers
    for command in (["readers"], ["card", "info"], ["aram", "list", "--json"], ["aram", "--help"]):
        run = simtool(*command)
        lines = [ln for ln in run.stderr.splitlines() if not ln.startswith("card modules")]
        assert run.returncode == 3, (command, run.stderr)
        assert lines == [f"simtool: error: simtool {command[0]} needs pyscard, which is not "
                         "installed: pipx inject carrierkit pyscard (or pip install pyscard in "
                         "carrierkit's environment; building pyscard needs gcc, the Python headers "
                         "and libpcsclite-dev)"]
        assert run.stdout == ""


def test_card_commands_load_only_when_they_run() -> None:
    code = ("import sys\nfrom simtool.cli import main\n"
            f"rc = main(['digest', {str(APK)!r}])\n"
            "print(rc, 'smartcard' in sys.modules, 'simtool.commands.aram' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert proc.stdout.splitlines()[-1] == "0 False False", proc.stderr


def test_errors_carry_fields_and_one_line() -> None:
    err = MissingExtraError("simtool readers", "pyscard", "card")
    assert isinstance(err, ToolError) and err.exit_code == 3 and "\n" not in str(err)
    assert (err.command, err.package, err.extra) == ("simtool readers", "pyscard", "card")
    secret = SecretError("ADM key", "no file")
    assert str(secret) == "cannot read ADM key: no file" and secret.exit_code == 1


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress("resolving", 10, stream=stream, delay=0) as update:
        assert update is None
        time.sleep(0.3)
    assert stream.getvalue() == ""


def test_progress_waits_for_the_delay_then_draws_and_erases() -> None:
    quick = FakeTerminal()
    with progress("resolving", 10, unit="lookups", stream=quick, delay=5) as update:
        assert update is not None
        update(10)
    assert quick.getvalue() == ""  # done before the delay: nothing drawn, nothing erased

    slow = FakeTerminal()
    with progress("resolving", 4, unit="lookups", stream=slow, delay=0) as update:
        assert update is not None
        update(1)
        deadline = time.monotonic() + 10
        while "1/4 lookups (25%)" not in slow.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    text = slow.getvalue()
    assert "resolving: 1/4 lookups (25%), " in text
    assert text.endswith("\r\x1b[K") and "\n" not in text  # erased, never scrolls


def test_progress_counts_bytes_in_mib_and_works_without_a_total() -> None:
    stream = FakeTerminal()
    with progress("verifying app.apk", 64 << 20, unit="bytes", stream=stream, delay=0) as update:
        assert update is not None
        update(16 << 20)
        deadline = time.monotonic() + 10
        while "(25%)" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "verifying app.apk: 16/64 MiB (25%), " in stream.getvalue()
    count = FakeTerminal()
    with progress("reading", stream=count, delay=0) as update:
        assert update is not None
        update(3)
        deadline = time.monotonic() + 10
        while "reading: 3," not in count.getvalue() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "reading: 3, " in count.getvalue()


def test_output_helpers_data_on_one_stream_messages_on_the_other() -> None:
    from carrierkit.output import emit_json, message

    data, messages = io.StringIO(), io.StringIO()
    emit_json({"a": [1, "é"]}, stream=data)
    message("wifiq", "3 of 4 lookups failed", stream=messages)
    assert data.getvalue() == '{"a": [1, "\\u00e9"]}\n'
    assert json.loads(data.getvalue()) == {"a": [1, "é"]}
    assert messages.getvalue() == "wifiq: 3 of 4 lookups failed\n"


@pytest.mark.parametrize(("tool", "argv", "expect"), [
    ("wifiq", ["resolve", "--samples", "\u0661\u0662"], "--samples"),
    ("wifiq", ["resolve", "--no-such-option"], "No such option"),
    ("simtool", ["digest"], "Missing argument"),
    ("wifiq", ["render"], "Missing argument"),
])
def test_usage_errors_are_one_line_exit_2(tool: str, argv: list[str], expect: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    # click prints usage errors as four lines (usage, hint, blank, error); ours are one line.
    main = importlib.import_module(f"{tool}.cli").main
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{tool}: error: ") and expect in lines[0] and "--help" in lines[0]
