"""Options shared by every card command (pip-tools style decorators) and the card session
they open: ``--reader``, ``--shared``, ``--json``, ``--dry-run``, ``--trace``, ``--adm``, and the
GlobalPlatform secure channel options (``--scp02``/``--scp03``, ``--kvn``, ``--security-level``,
``--key-file`` …; docs/simtool-scp.md)."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from carrierkit.cli import TextDefault

from ..card import transport
from ..card.adm import parse_adm_key
from ..card.gpkeys import DIVERSIFICATIONS
from ..card.gpsd import ISD_AID, SdAccess
from ..card.keysource import load_key_source
from ..card.securechannel import LEVELS, ChannelInfo, check_level, level_name
from ..card.protocol import CardProtocol
from carrierkit.secrets import SecretSource, read_secret

ADM_ENV = "SIMTOOL_ADM"


def reader_options(fn: Callable) -> Callable:
    """--reader, --shared, --json, --trace."""
    fn = click.option("--trace", is_flag=True, help="Log every APDU to stderr (secrets redacted).")(fn)
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout for scripts.")(fn)
    fn = click.option("--shared", is_flag=True, show_default="exclusive", cls=TextDefault, help="Share the card with other programs.")(fn)
    fn = click.option(
        "--reader", "reader", metavar="N|NAME", default=None,
        show_default=f"${transport.READER_ENV}, else the first reader", cls=TextDefault,
        help="Reader index or name substring.",
    )(fn)
    return fn


def card_options(fn: Callable) -> Callable:
    """reader_options plus --dry-run."""
    fn = click.option(
        "--dry-run", is_flag=True,
        help="Send no command that changes the card; print every APDU (reads are sent, writes are not).",
    )(fn)
    return reader_options(fn)


def adm_options(fn: Callable) -> Callable:
    """--adm and --adm-file: verify ADM1 before writing (key from $SIMTOOL_ADM, file or prompt)."""
    fn = click.option("--adm-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                      help="File whose first line is the ADM key (implies --adm).")(fn)
    fn = click.option("--adm", is_flag=True,
                      help=f"Verify the ADM key first (from ${ADM_ENV}, --adm-file or a prompt; "
                           "refused when fewer than 3 attempts remain).")(fn)
    return fn


def setup_trace(trace: bool) -> None:
    """Send the APDU log to stderr when --trace is given."""
    if not trace:
        return
    logger = logging.getLogger("simtool.card.apdu")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("apdu %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


@contextmanager
def open_card(reader: str | None, shared: bool, *, dry_run: bool = False, trace: bool = False) -> Iterator[CardProtocol]:
    """Connect and yield a CardProtocol that records APDUs (for --dry-run listings)."""
    setup_trace(trace)
    conn = transport.connect(reader, shared=shared)
    try:
        yield CardProtocol(conn, dry_run=dry_run, record=True)
    finally:
        conn.close()


def read_adm_key(adm: bool, adm_file: Path | None) -> bytes | None:
    """The ADM key when --adm/--adm-file asked for one (env, file or prompt; never argv)."""
    if not adm and adm_file is None:
        return None
    text = read_secret(SecretSource("ADM key", ADM_ENV, file=adm_file, prompt="ADM key"))
    return parse_adm_key(text or "")


def emit(as_json: bool, payload: Any, text: Callable[[], None]) -> None:
    """Print ``payload`` as JSON, or call ``text`` for the human form. A JSON object gets
    ``secure_channel`` (protocol, KVN, level, KCVs) when the command opened one."""
    if as_json:
        ctx = click.get_current_context(silent=True)
        opened = ctx.meta.get(_SCP_OPENED) if ctx is not None else None
        if opened and isinstance(payload, dict):
            payload = {**payload, "secure_channel": opened[-1]}
        click.echo(json.dumps(payload, indent=2))
    else:
        text()


def apdu_listing(proto: CardProtocol) -> list[dict[str, Any]]:
    """The recorded exchanges as JSON objects (``sent`` false for dry-run writes)."""
    return [
        {"command": s.command, "sent": s.response is not None,
         "sw": None if s.sw is None else f"{s.sw:04X}"}
        for s in proto.sent
    ]


def echo_apdus(proto: CardProtocol) -> None:
    """Human listing of the APDUs of a dry run."""
    click.echo("APDUs (dry run):")
    for s in proto.sent:
        if s.response is None:
            click.echo(f"  would send  {s.command}")
        else:
            click.echo(f"  sent        {s.command}  -> {s.sw:04X}")


_SCP_META = "simtool.scp"
_SCP_OPENED = "simtool.scp.opened"


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_SCP_META, {})[param.name] = value
    return value


def _int_any_base(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return _remember(ctx, param, None)
    try:
        number = int(value, 0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number (decimal or 0x hex)") from None
    if not 0 <= number <= 0x7F:
        raise click.BadParameter(f"{value} is not a key version number 0-127 (0x00-0x7F)")
    return _remember(ctx, param, number)


def scp_options(fn: Callable) -> Callable:
    """--scp02/--scp03, --kvn, --security-level, --key-file, --key-suffix, --key-diversification,
    --test-key, --scp03-s16, --sd-aid: write (and check keys) through the security domain.
    The values go to the click context, read back by ``read_sd_access``; keys never on argv."""
    opts = [
        click.option("--scp02", "scp", flag_value="SCP02", default=None, expose_value=False, callback=_remember,
                     help="Reach the ARA-M through the security domain over SCP02 (3DES; sysmocom KVN 0x70)."),
        click.option("--scp03", "scp", flag_value="SCP03", expose_value=False, callback=_remember,
                     help="Reach the ARA-M through the security domain over SCP03 (AES; KVN 0x30-0x3F)."),
        click.option("--kvn", metavar="N", default=None, expose_value=False, callback=_int_any_base,
                     show_default="0, the card's default key set", cls=TextDefault,
                     help="Key version number (decimal or 0x hex)."),
        click.option("--security-level", type=click.Choice(list(LEVELS)), default="mac", show_default=True,
                     expose_value=False, callback=_remember,
                     help="C-MAC; +enc: commands enciphered; +rmac/+renc: answers MACed/enciphered (SCP03)."),
        click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     expose_value=False, callback=_remember,
                     help="Keys: a TOML file (enc/mac/dek hex) or a per-ICCID CSV (vendor sheet); else "
                          "$SIMTOOL_SCP_ENC/MAC/DEK, else a prompt."),
        click.option("--key-suffix", metavar="NAME", default=None, expose_value=False, callback=_remember,
                     help="CSV key columns SCP0x_ENC_<NAME>/MAC/DEK when the file has several sets."),
        click.option("--key-diversification", type=click.Choice(list(DIVERSIFICATIONS)), default="none",
                     show_default=True, expose_value=False, callback=_remember,
                     help="The keys are master keys, diversified per card (GlobalPlatformPro names)."),
        click.option("--test-key", is_flag=True, expose_value=False, callback=_remember,
                     help="Use GP's well-known test key 404142…4F (never used unless asked for)."),
        click.option("--scp03-s16", is_flag=True, expose_value=False, callback=_remember,
                     help="SCP03 in S16 mode (16-byte challenges and MACs)."),
        click.option("--sd-aid", metavar="HEX", default=None, expose_value=False, callback=_remember,
                     show_default=f"the ISD, {ISD_AID.hex().upper()}", cls=TextDefault,
                     help="AID of the security domain."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def read_sd_access() -> SdAccess | None:
    """The SdAccess the command's --scp02/--scp03 options ask for (None without them). Keys are
    read here: key file, test key, environment or prompt."""
    o = click.get_current_context().meta.get(_SCP_META, {})
    scp = o.get("scp")
    extras = [name for name in ("key_file", "key_suffix", "kvn", "sd_aid") if o.get(name) is not None]
    extras += [name for name in ("test_key", "scp03_s16") if o.get(name)]
    if scp is None:
        if extras:
            raise click.UsageError(f"--{extras[0].replace('_', '-')} needs --scp02 or --scp03")
        return None
    if o.get("test_key") and o.get("key_file") is not None:
        raise click.UsageError("--test-key and --key-file exclude each other")
    sd_aid = ISD_AID
    if o.get("sd_aid") is not None:
        try:
            sd_aid = bytes.fromhex(o["sd_aid"])
        except ValueError:
            raise click.BadParameter(f"{o['sd_aid']!r} is not hex", param_hint="--sd-aid") from None
        if not 5 <= len(sd_aid) <= 16:
            raise click.BadParameter(f"an AID is 5 to 16 bytes, not {len(sd_aid)}", param_hint="--sd-aid")
    level = LEVELS[o.get("security_level") or "mac"]
    check_level(level, scp)
    keys = load_key_source(scp, kvn=o.get("kvn") or 0, diversification=o.get("key_diversification") or "none",
                           key_file=o.get("key_file"), test_key=bool(o.get("test_key")),
                           key_suffix=o.get("key_suffix"))
    return SdAccess(scp, level, keys, sd_aid, bool(o.get("scp03_s16")), on_open=_show_channel)


def _show_channel(info: ChannelInfo) -> None:
    """One line on stderr when a secure channel opened: protocol, KVN, level and the KCVs of
    the keys in use (compare them with the vendor's key sheet); kept for ``--json``."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta.setdefault(_SCP_OPENED, []).append(
            {"scp": info.scp, "kvn": info.kvn, "security_level": level_name(info.level), "channel": info.channel,
             "kcv": {name.upper(): value for name, value in info.kcvs.items()}})
    kcvs = " ".join(f"{name.upper()} {value}" for name, value in info.kcvs.items())
    click.echo(f"{info.scp} secure channel open: KVN 0x{info.kvn:02X}, security level {level_name(info.level)}, "
               f"KCV {kcvs}", err=True)
