"""``wifiq render`` and ``wifiq formats``: thin commands over :mod:`wifiq.render`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from carrierkit.cli import TextDefault
from click.shell_completion import CompletionItem

from ..config import Config, Output, load_config
from ..errors import UsageError
from ..render import check_dscp_change, load_render_input, render, render_options, split_sections, targets, write_output
from ..render.options import parse_option_pairs
from ..render.registry import broken_plugins, get_renderer, registry
from ..render_state import load_state_input
from ..store import default_state_path


def complete_targets(ctx: click.Context, param: click.Parameter,
                     incomplete: str) -> list[CompletionItem]:
    """Shell completion of TARGET: every registered target (built-ins and plug-ins that load)."""
    return [CompletionItem(name, help=renderer.info.title)
            for name, renderer in sorted(registry().items()) if name.startswith(incomplete.lower())]


@click.command("render")
@click.argument("target", shell_complete=complete_targets)
@click.option("--from", "source", metavar="FILE", help="wifiq resolve/refresh --json output ('-' = stdin) instead of the state.")
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    show_default="without --from: the config's 'state', else the user data dir", cls=TextDefault,
    help="Render the latest refresh in this state file (SQLite).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The refresh's TOML config: its 'state', and the --dscp/--prefix/--option of its one [[outputs]] entry for TARGET (the command line wins).",
)
@click.option(
    "--delta",
    is_flag=True,
    help="From the state: only the change since the previous refresh (the full config after the first).",
)
@click.option(
    "--previous",
    "--delta-from",
    "previous",
    metavar="FILE",
    help="With --from: the previous refresh's JSON; render only the change (platform add/remove commands).",
)
@click.option("--dscp", show_default="ef", cls=TextDefault, help="DSCP name (ef, af41, cs5…) or number 0-63.")
@click.option("--prefix", metavar="P", show_default="wifiq, in the target's case", cls=TextDefault,
              help="Start every object name wifiq owns with P.")
@click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A target option (names to fit to your device; `wifiq formats` lists each target's keys). Repeatable.",
)
@click.option("--out", "out", metavar="PATH", help="Write atomically to PATH (a directory for multi-file targets).")
@click.option("--json", "as_json", is_flag=True, help="Print {target, mode, files: {name: text}} as JSON.")
def render_command(
    target: str,
    source: str | None,
    state_path: Path | None,
    config_path: Path | None,
    delta: bool,
    previous: str | None,
    dscp: str | None,
    prefix: str | None,
    option_pairs: tuple[str, ...],
    out: str | None,
    as_json: bool,
) -> None:
    """Render the active ePDG addresses as configuration for TARGET (see `wifiq formats`).

    The addresses come from the latest refresh in the state, or from a --json file (--from).
    """
    info = get_renderer(target).info
    config = load_config(config_path) if config_path else Config()
    configured = _configured_output(config, config_path, info.name)
    pairs = parse_option_pairs(option_pairs)
    if configured is not None:
        dscp = dscp if dscp is not None else str(configured.dscp)
        prefix = prefix if prefix is not None else configured.prefix
        pairs = {**dict(configured.options), **pairs}
    options = render_options(info.name, prefix, pairs)
    if source is not None:
        if state_path is not None or delta:
            raise UsageError("--from renders a file: --state and --delta read the state (with --from, give the earlier file with --previous)")
        current = load_render_input(source)
        before = load_render_input(previous) if previous else None
    else:
        if previous is not None:
            raise UsageError("--previous goes with --from; from the state, use --delta")
        current, before = load_state_input(state_path or config.state or default_state_path(),
                                           delta=delta)
    if out and Path(out).is_file():
        # What the file holds is what the device holds: a DSCP change it cannot express is refused.
        check_dscp_change(info.name, Path(out).read_text(encoding="utf-8", errors="replace"), dscp or "ef", options)
    text = render(info.name, current, previous=before, dscp=dscp or "ef", options=options)
    mode = "delta" if before else "full"
    if out:
        for path in write_output(info.name, text, out):
            click.echo(f"wifiq: wrote {path}", err=True)
        return
    if as_json:
        files = split_sections(text) if info.files else {f"wifiq-{info.name}.{info.extension}": text}
        click.echo(json.dumps({"target": info.name, "mode": mode, "files": files}, indent=2))
        return
    click.echo(text, nl=False)


def _configured_output(config: Config, path: Path | None, target: str) -> Output | None:
    """The config's one ``[[outputs]]`` entry for ``target``, None when it has none; several
    are a usage error (which one's settings would be meant is not known)."""
    entries = [o for o in config.outputs if o.target == target]
    if len(entries) > 1:
        raise UsageError(f"{path}: {len(entries)} [[outputs]] entries for {target} "
                         f"({', '.join(str(o.path) for o in entries)}): give --dscp, --prefix "
                         "and --option on the command line and --state instead of --config")
    return entries[0] if entries else None


@click.command("formats")
@click.option("--json", "as_json", is_flag=True, help="Print the capability sheets as JSON.")
def formats_command(as_json: bool) -> None:
    """List the render targets and what each supports.

    A plug-in that fails to load is reported on stderr in one line and left out.
    """
    sheets = targets()
    for problem in broken_plugins():
        click.echo(f"wifiq: skipped: {problem}", err=True)
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in sheets.values()], indent=2))
        return
    if not sheets:
        raise UsageError("no render targets are registered")
    width = max(len(name) for name in sheets)
    for name, info in sheets.items():
        families = "+".join(f"IPv{f}" for f in info.families)
        files = f"; files: {', '.join(info.files)}" if info.files else ""
        click.echo(f"{name:<{width}}  {info.title}: {families}; {info.protocols}; delta: {info.delta}{files}")
        for limit in info.limits:
            click.echo(f"{'':<{width}}    limit: {limit}")
        defaults = get_renderer(name).options
        if info.prefix:
            click.echo(f"{'':<{width}}    --prefix: object names start with {defaults.prefix} (settable)")
        for spec in info.options:
            click.echo(f"{'':<{width}}    --option {spec.describe(defaults.get(spec.key))}")
