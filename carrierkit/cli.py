"""The exit-code policy of both command lines (simtool and wifiq), in one place, and commands
whose modules load only when they run.

A known error (any :class:`~carrierkit.errors.ToolError`) becomes ``<prog>: error: <one line>``
on stderr and its ``exit_code``; a command returns None (success, 0) or its exit status; Ctrl-C
is 130; a closed stdout pipe is 1.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from .errors import MissingExtraError, ToolError
from .textsafe import escape_controls


@dataclass(frozen=True)
class LazyCommand:
    """A command imported only when it runs (or its help is shown).

    ``target`` is ``"package.module:attribute"``; ``short_help`` is shown in the group's help
    when the module cannot be imported; ``needs`` maps a top-level module the command imports
    (``"smartcard"``) to the package that provides it and the carrierkit extra that installs it
    (``("pyscard", "card")``); ``note`` ends the missing-extra message (what building it needs).
    """

    target: str
    short_help: str
    needs: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    note: str = ""


class LazyGroup(click.Group):
    """A click group whose ``lazy`` commands are imported on first use.

    When a lazy command's module needs an extra that is not installed, the command is still
    listed (and completes in the shell); running it, or asking its help, is the one-line
    :class:`MissingExtraError` naming the install command.
    """

    def __init__(self, *args: Any, lazy: Mapping[str, LazyCommand] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, LazyCommand] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in self.lazy:
            return command
        spec = self.lazy[cmd_name]
        module_name, _, attribute = spec.target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            root = (exc.name or "").partition(".")[0]
            if root not in spec.needs:
                raise
            package, extra = spec.needs[root]
            error = MissingExtraError(f"{ctx.info_name or ''} {cmd_name}".strip(), package, extra,
                                      spec.note)
            return _unavailable(cmd_name, spec.short_help, error)
        command = getattr(module, attribute)
        self.add_command(command, cmd_name)
        return command


class TextDefault(click.Option):
    """An option whose ``show_default`` text is shown as written — ``[default: 2]``,
    ``[default: the system's resolvers]`` — instead of in click's parentheses, so a default that
    comes from a config file or the environment reads like a literal one: one style of default
    in every help text (``cls=TextDefault, show_default="…"``)."""

    def get_help_extra(self, ctx: click.Context) -> Any:
        extra = super().get_help_extra(ctx)
        if isinstance(self.show_default, str) and "default" in extra:
            extra["default"] = self.show_default
        return extra


def _unavailable(name: str, short_help: str, error: ToolError) -> click.Command:
    """A stand-in command that takes any arguments and raises ``error``."""

    def fail(args: tuple[str, ...]) -> None:
        raise error

    return click.Command(name, callback=fail, short_help=short_help, add_help_option=False,
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)],
                         context_settings={"ignore_unknown_options": True})


def run_group(group: click.Group, prog: str, argv: list[str] | None) -> int:
    """Run ``group`` with ``argv``; return the process exit status (never raises a ToolError)."""
    try:
        rv = group.main(args=argv, prog_name=prog, standalone_mode=False)
    except ToolError as err:
        # The message may quote an input (a file name, a DN): one line, nothing a terminal acts on.
        click.echo(f"{prog}: error: {escape_controls(str(err))}", err=True)
        return int(getattr(err, "exit_code", 1))
    except click.exceptions.Abort:
        click.echo(f"{prog}: aborted", err=True)
        return 130
    except click.UsageError as err:
        # click's own form is four lines (usage, hint, blank, error): one line, like every error.
        where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
        click.echo(f"{prog}: error: {escape_controls(err.format_message())}{where}", err=True)
        return err.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.exceptions.Exit as err:
        return err.exit_code
    except BrokenPipeError:
        return 1
    # ctx.exit(n) arrives here as n, like a command's own return value.
    return rv if isinstance(rv, int) else 0
