"""wifiq command line: thin commands over the library; one place turns errors into exit codes.

Commands live in ``wifiq/commands/<name>.py`` and are registered below.
"""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import WifiqError


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
    """Entry point: run the CLI; a WifiqError becomes ``wifiq: error: …`` and its exit code."""
    try:
        rv = cli.main(args=argv, prog_name="wifiq", standalone_mode=False)
    except WifiqError as err:
        click.echo(f"wifiq: error: {err}", err=True)
        return err.exit_code
    except click.exceptions.Abort:
        click.echo("wifiq: aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except BrokenPipeError:
        return 1
    # A command returns None (success) or its exit status; ctx.exit(n) arrives here as n.
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
