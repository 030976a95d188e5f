"""wifiq command line: thin commands over the library; one place turns errors into exit codes.

Commands live in ``wifiq/commands/<name>.py`` and are registered below.
"""

from __future__ import annotations

import codecs
import io
import sys

import click

from carrierkit.cli import run_group

from . import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wifiq")
def cli() -> None:
    """Wi-Fi calling: ePDG names, resolution history and QoS configuration for network gear."""


def _register() -> None:
    """Attach each command module's click command to the group (one line per command)."""
    from .commands import names, operators
    from .commands import history, probe, refresh, resolve

    cli.add_command(operators.operators)
    cli.add_command(names.names)
    cli.add_command(resolve.resolve)
    cli.add_command(refresh.refresh)
    cli.add_command(history.history)
    cli.add_command(probe.probe)
    from .commands import render as render_cmd  # wifiq render / wifiq formats

    cli.add_command(render_cmd.render_command)
    cli.add_command(render_cmd.formats_command)


_register()


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each character the stream cannot encode becomes ``\\u`` and four
    hex digits (a surrogate pair of them above U+FFFF) — readable in text, and still valid
    inside JSON strings."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    out = []
    for char in error.object[error.start:error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out), error.end


codecs.register_error("wifiq-escape", _json_escape)


def escape_unencodable_output() -> None:
    """Never fail on a character stdout/stderr cannot encode (``PYTHONIOENCODING=latin-1``, an
    ASCII terminal): escape it instead (e.g. ``\\u017dSR`` for "ŽSR")."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="wifiq-escape")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a WifiqError becomes ``wifiq: error: …`` and its exit code.

    Text that the output's encoding cannot carry (a brand like "ŽSR" under a latin-1
    locale) is written as ``\\u`` escapes (``\\u017d``) rather than failing the command.
    """
    escape_unencodable_output()
    return run_group(cli, "wifiq", argv)


if __name__ == "__main__":
    sys.exit(main())
