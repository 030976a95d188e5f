"""Reusable click options for commands that select operators (operators, names, resolve …)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from carrierkit.cli import TextDefault

from ..errors import UsageError
from ..plmn import Plmn, parse_plmn

F = TypeVar("F", bound=Callable[..., Any])


class PlmnType(click.ParamType):
    """A ``--plmn`` value: "505-01", "505/01" or "50501"; bad input is a one-line usage error."""

    name = "MCC-MNC"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Plmn:
        if isinstance(value, Plmn):
            return value
        return parse_plmn(str(value))


#: Numbers on the command line and in config values: plain ASCII digits only. Python's int()
#: and float() also read full-width and other Unicode digits and '_' separators, and int(x, 0)
#: reads 0b/0o prefixes; none of them is what an operator means to type.
_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_CODE = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]+")


class CodeType(click.ParamType):
    """A TAC or LAC: decimal ("6938") or hex with 0x ("0x1b1a"), in ASCII digits."""

    name = "N"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        if _CODE.fullmatch(str(value)) is None:
            option = param.opts[0] if param is not None and param.opts else "value"
            raise UsageError(f"invalid {option} {value!r}: expected a number "
                             "(decimal, or hex with 0x, in digits 0-9 a-f)")
        return int(str(value), 0)


class Count(click.IntRange):
    """A whole number in a closed range, written in ASCII digits (not '１', '1_000', '0b101')."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()) is None:
            self.fail(f"{value!r} is not a whole number in digits 0-9", param, ctx)
        return super().convert(value, param, ctx)


class Seconds(click.FloatRange):
    """A number of seconds in a closed range, in ASCII digits with an optional decimal point;
    NaN, infinities, exponents, '_' and non-ASCII digits are refused."""

    name = "SECONDS"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()) is None:
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        return number


def location_options(func: F) -> F:
    """``--tac`` and ``--lac``: the codes the ``tac*`` and ``lac*`` name kinds need."""
    func = click.option("--lac", type=CodeType(),
                        help="Location area code for lac* kinds (0x.. for hex).")(func)
    return click.option("--tac", type=CodeType(),
                        help="Tracking area code for tac* kinds (0x.. for hex).")(func)


def selection_options(func: F) -> F:
    """``--country``, ``--mcc``, ``--plmn`` (each repeatable), ``--overrides FILE`` and
    ``--active-only``."""
    options = [
        click.option("--country", "countries", multiple=True, metavar="ISO",
                     help="ISO 3166-1 country code, e.g. AU (repeatable)."),
        click.option("--mcc", "mccs", multiple=True, metavar="MCC",
                     help="Mobile country code, e.g. 505 (repeatable)."),
        click.option("--plmn", "plmns", multiple=True, type=PlmnType(),
                     help="PLMN as MCC-MNC, e.g. 505-01 (repeatable; MNC length matters)."),
        click.option("--overrides", "overrides_files", multiple=True, metavar="FILE",
                     type=click.Path(dir_okay=False, path_type=Path),
                     help="Extra overrides TOML file (repeatable)."),
        click.option("--active-only", is_flag=True,
                     show_default="off: every PLMN, whatever its status", cls=TextDefault,
                     help="Only PLMNs the data lists as operational (PLMNs named with --plmn "
                          "stay)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
