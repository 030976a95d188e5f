"""The exit-code policy of both command lines (simtool and wifiq), in one place.

A known error becomes ``<prog>: error: <one line>`` on stderr and its ``exit_code``; a command
returns None (success, 0) or its exit status; Ctrl-C is 130; a closed stdout pipe is 1.
"""

from __future__ import annotations

import click


class ToolError(Exception):
    """Base of the errors both CLIs report to the user (``SimtoolError``, ``WifiqError``).

    ``str(err)`` is the one-line message naming the problem and the input; ``exit_code`` is the
    process exit status the CLI uses for it.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def run_group(group: click.Group, prog: str, known: type[Exception], argv: list[str] | None) -> int:
    """Run ``group`` with ``argv``; return the process exit status (never raises ``known``)."""
    try:
        rv = group.main(args=argv, prog_name=prog, standalone_mode=False)
    except known as err:
        click.echo(f"{prog}: error: {err}", err=True)
        return int(getattr(err, "exit_code", 1))
    except click.exceptions.Abort:
        click.echo(f"{prog}: aborted", err=True)
        return 130
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except BrokenPipeError:
        return 1
    # ctx.exit(n) arrives here as n, like a command's own return value.
    return rv if isinstance(rv, int) else 0
