"""simtool command line: thin commands over the library; one place turns errors into exit codes.

Commands live in ``simtool/commands/<name>.py`` and are registered below. The card commands
(``readers``, ``card``, ``aram``, ``arf``, ``rules``, ``lab``) load only when they run: they need pyscard, the ``card``
extra, and without it say in one line how to install it while ``digest`` works as before.
"""

from __future__ import annotations

import sys

import click

from carrierkit.cli import LazyCommand, LazyGroup, run_group

from . import __version__

_CARD = {"smartcard": ("pyscard", "card")}  # module → its package and the extra installing it
_CARD_NOTE = "building pyscard needs gcc, the Python headers and libpcsclite-dev"

CARD_COMMANDS = {
    "readers": LazyCommand("simtool.commands.readers:readers_cmd",
                           "List smart card readers (index and name).", _CARD, _CARD_NOTE),
    "card": LazyCommand("simtool.commands.card:card_group",
                        "Facts about the card in the reader.", _CARD, _CARD_NOTE),
    "aram": LazyCommand("simtool.commands.aram:aram_group",
                        "ARA-M access rules (carrier privileges) on the SIM.", _CARD, _CARD_NOTE),
    "arf": LazyCommand("simtool.commands.arf:arf_group",
                       "Access Rule Files (PKCS#15): Android's fallback when a card has no ARA-M.",
                       _CARD, _CARD_NOTE),
    "rules": LazyCommand("simtool.commands.rules:rules_group",
                         "Carrier privileges of the whole card: ARA-D, ARA-M, then ARF, as Android decides.",
                         _CARD, _CARD_NOTE),
    "lab": LazyCommand("simtool.commands.lab:lab_group",
                       "A virtual card reader with a simulated ARA-M card (no hardware; needs root).",
                       _CARD, _CARD_NOTE),
}


@click.group(cls=LazyGroup, lazy=CARD_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="simtool")
def cli() -> None:
    """SIM provisioning for carrier apps: APK certificate digests and ARA-M access rules."""


def _register() -> None:
    """Attach each command module's click command to the group (one line per command); the
    card commands are attached on first use (``CARD_COMMANDS``)."""
    from .commands.digest import digest

    cli.add_command(digest)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI; a SimtoolError becomes ``simtool: error: …`` and its exit code."""
    return run_group(cli, "simtool", argv)


if __name__ == "__main__":
    sys.exit(main())
