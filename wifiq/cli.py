"""wifiq command line: thin commands over the library; one place turns errors into exit codes.

Commands live in ``wifiq/commands/<name>.py`` and are registered below.
"""

from __future__ import annotations

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
    from .commands import history, refresh, resolve

    cli.add_command(operators.operators)
    cli.add_command(names.names)
    cli.add_command(resolve.resolve)
    cli.add_command(refresh.refresh)
    cli.add_command(history.history)
    from .commands import render as render_cmd  # wifiq render / wifiq formats

    cli.add_command(render_cmd.render_command)
    cli.add_command(render_cmd.formats_command)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a WifiqError becomes ``wifiq: error: …`` and its exit code.

    Text that the output's encoding cannot carry (a brand like "ŽSR" under a latin-1
    locale) is written as backslash escapes rather than failing the command.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    return run_group(cli, "wifiq", argv)


if __name__ == "__main__":
    sys.exit(main())
