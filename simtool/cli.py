"""simtool command line: thin commands over the library; one place turns errors into exit codes.

Commands live in ``simtool/commands/<name>.py`` and are registered below.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from carrierkit.cli import run_group
from .errors import SimtoolError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simtool")
def cli() -> None:
    """SIM provisioning for carrier apps: APK certificate digests and ARA-M access rules."""


def _register() -> None:
    """Attach each command module's click command to the group (one line per command)."""
    from .commands import aram, card, readers
    from .commands.digest import digest

    cli.add_command(digest)
    cli.add_command(readers.readers_cmd)
    cli.add_command(card.card_group)
    cli.add_command(aram.aram_group)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a SimtoolError becomes ``simtool: error: …`` and its exit code."""
    return run_group(cli, "simtool", SimtoolError, argv)


if __name__ == "__main__":
    sys.exit(main())
