"""``simtool aram …``: list, add, delete, apply (and --watch), export, check and lock ARA-M rules.

Thin commands: options are parsed here, the work is in ``simtool.aram`` and ``simtool.card``.
"""

from __future__ import annotations

import contextlib
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import click

from carrierkit.cli import TextDefault

from ..apk import inspect_apk
from ..apk.report import ApkReport
from ..aram.apkcert import rule_certificate
from ..aram.check import CertSet, cert_sets_from_apk, check_grants
from ..aram.jsonforms import apply_json, grant_rows, plan_json, rule_rows
from ..aram.lock import lock_aram
from ..aram.offline import android_findings, plan_without_card, rules_as_card
from ..aram.plan import ApplyResult, Plan, describe
from ..aram.production import (
    CardOutcome, Job, RulesSource, check_audit_log, default_audit_log, describe_plan_lines, load_rules_source,
    card_line, serve_card, watch as watch_cards,
)
from ..aram.rulefile import check_package, dump_rules, load_desired_rules, load_rules, parse_aid, parse_apdu, parse_hash, parse_hex
from ..aram.rules import CARRIER_PRIVILEGE_AID, DEFAULT_PERM, AccessRule
from ..aram.session import RuleList
from ..aram.workflow import (
    Progress, RuleMatch, add_rule, apply_rules, delete_rules, export_format, read_rules, write_export,
)
from ..card import transport
from ..card.gpsd import SdAccess
from ..card.errors import NoCardError, NoReaderError, PcscUnavailableError
from ..card.protocol import CardProtocol
from ..errors import SimtoolError, UsageError
from ..exitcodes import ExitCode
from .cardopts import (
    adm_options, apdu_listing, card_options, echo_apdus, emit, open_card, read_adm_key, read_sd_access, scp_options,
)


@click.group("aram")
def aram_group() -> None:
    """ARA-M access rules (carrier privileges) on the SIM."""


_LOGICAL = click.option("--logical-channel", is_flag=True,
                        help="Read on a logical channel (MANAGE CHANNEL), as Android does.")


@aram_group.command("list")
@_LOGICAL
@card_options
@scp_options
def list_cmd(logical_channel: bool, reader: str | None, shared: bool, as_json: bool, trace: bool,
             dry_run: bool) -> None:
    """Every rule on the card and whether Android honours it as a carrier privilege."""
    sd = read_sd_access()  # with --scp02/--scp03: authenticate first (a key check)
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        rules = read_rules(proto, logical=logical_channel, sd=sd)
        rows = rule_rows(rules)
        payload: Any = rows
        if dry_run:
            payload = {"rules": rows, "apdus": apdu_listing(proto)}

        def text() -> None:
            if rules.android.error:
                click.echo(f"warning: {rules.android.error}", err=True)
            _echo_rule_rows(rules, rows, empty="no rules on the card")
            if dry_run:
                echo_apdus(proto)

        emit(as_json, payload, text)


def _echo_rule_rows(rules: RuleList, rows: list[dict[str, Any]], *, empty: str) -> None:
    """The human listing of ``aram list`` (and ``check --rules``): each rule, Android's verdict."""
    if not rows:
        click.echo(empty)
    for row, rule in zip(rows, rules.rules):
        mark = "android: yes" if row["android"] else "android: NO"
        extra = []
        if rule.apdu is not None:
            extra.append(f"apdu {row['apdu'] if isinstance(row['apdu'], str) else 'filters'}")
        if rule.perm is not None:
            extra.append(f"perm {row['perm']}")
        click.echo(f"{row['index']:>3}. {describe(rule)} {' '.join(extra)}")
        click.echo(f"     {mark} — {row['android_reason']}")


def _echo_plan(plan: Plan) -> None:
    for label, rules in (("keep", plan.keep), ("delete", plan.delete), ("add", plan.add)):
        for r in rules:
            click.echo(f"{label:<7}{describe(r)}")
    if plan.delete_all:
        click.echo("(deletes with one DELETE ALL command)")
    if plan.empty:
        click.echo("nothing to change")


@contextmanager
def _progress_bar(as_json: bool) -> Iterator[Progress]:
    """A progress callback that shows a bar on a terminal for plans of more than 5 changes."""
    bar: Any = None

    def step(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            if total <= 5 or as_json or not sys.stderr.isatty():
                return
            bar = click.progressbar(length=total, label="writing", file=sys.stderr)
            bar.__enter__()
        bar.update(1)

    try:
        yield step
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)


def _show_result(proto: CardProtocol, result: ApplyResult, *, as_json: bool, dry_run: bool,
                 extra: dict[str, Any] | None = None) -> None:
    """Print the plan and outcome of add / delete / apply (JSON or text)."""
    plan = result.plan
    payload: dict[str, Any] = {**apply_json(result, apdus_sent=proto.apdu_count, dry_run=dry_run), **(extra or {})}
    if dry_run:
        payload["apdus"] = apdu_listing(proto)

    def text() -> None:
        _echo_plan(plan)
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        if dry_run:
            echo_apdus(proto)
        elif not plan.empty:
            click.echo(f"written and verified: {result.written} change(s); "
                       f"refresh tag {payload['refresh_tag'] or '(not offered by the card)'}")
            click.echo("Android reads the rules when the card is inserted: re-insert it or reboot the phone.",
                       err=True)

    emit(as_json, payload, text)


@contextmanager
def _failure_report(proto: list[CardProtocol], *, as_json: bool, dry_run: bool) -> Iterator[None]:
    """On an error after the card took writes: with --json, print what the card confirmed
    (the ``apply_json`` form plus ``error``, ``exit_code`` and ``next``) before the error line."""
    try:
        yield
    except SimtoolError as err:
        result = getattr(err, "result", None)
        if as_json and result is not None:
            payload = {**apply_json(result, apdus_sent=proto[0].apdu_count if proto else 0, dry_run=dry_run),
                       "error": str(err), "exit_code": int(err.exit_code), "next": getattr(err, "next_step", "")}
            click.echo(json.dumps(payload, indent=2))
        raise


_BLIND = click.option("--blind", is_flag=True,
                      help="For a rule list that cannot be read (exit 6): write without reading it "
                           "(docs/simtool-aram.md, Recovery).")


def _rule_from_options(o: dict[str, Any]) -> AccessRule:
    """Build the rule of ``aram add`` from its options (pySim names included).

    Raises UsageError naming the option (e.g. ``--perm: perm is 1 bytes, expected 8``).
    """
    if bool(o["hash_"]) == bool(o["apk"]):
        raise UsageError("give exactly one of --hash/--device-app-id or --apk")
    hash_ = parse_hash(o["hash_"], "--hash/--device-app-id") if o["hash_"] else _apk_hashes(Path(o["apk"]))[0]
    if sum([o["aid"] is not None, o["aid_empty"], o["aid_implicit"], o["no_aid"]]) > 1:
        raise UsageError("give at most one of --aid, --aid-empty, --aid-implicit, --no-aid")
    aid: bytes | None = CARRIER_PRIVILEGE_AID
    if o["aid"] is not None:
        aid = parse_aid(o["aid"], "--aid")
    elif o["aid_empty"]:
        aid = b""
    elif o["aid_implicit"] or o["no_aid"]:
        aid = None
    if sum([o["apdu"] is not None, o["apdu_always"], o["apdu_never"], o["apdu_filter"] is not None]) > 1:
        raise UsageError("give at most one of --apdu, --apdu-always, --apdu-never, --apdu-filter")
    apdu: Any = None
    if o["apdu"] == "always" or o["apdu_always"]:
        apdu = True
    elif o["apdu"] == "never" or o["apdu_never"]:
        apdu = False
    elif o["apdu_filter"]:
        text = o["apdu_filter"]
        apdu = parse_apdu([text[i:i + 16] for i in range(0, len(text), 16)], "--apdu-filter")
    return AccessRule(
        hash=hash_,
        aid=aid,
        aid_implicit=o["aid_implicit"],
        package=None if o["package"] is None else check_package(o["package"], "--package"),
        apdu=apdu,
        nfc=True if o["nfc_always"] else False if o["nfc_never"] else None,
        perm=DEFAULT_PERM if o["perm"] is None else parse_hex(o["perm"], "perm", "--perm", (8,)),
    )


def _apk_report(path: Path) -> ApkReport:
    """What ``simtool digest`` knows about the APK (certificates, hashes, package, SDK range)."""
    return inspect_apk(path)


def _apk_hashes(path: Path) -> list[bytes]:
    return [bytes.fromhex(rule_certificate(_apk_report(path)).sha1)]


_ADD_OPTIONS = [
    click.option("--hash", "--device-app-id", "hash_", metavar="HEX", help="Certificate hash: SHA-1 (40 hex) or SHA-256 (64 hex)."),
    click.option("--apk", type=click.Path(exists=True, dir_okay=False), help="Take the hash from this APK (recommended SHA-1)."),
    click.option("--package", "--pkg-ref", "package", help="Limit the rule to this Android package."),
    click.option("--aid", metavar="HEX", default=None, show_default="FFFFFFFFFFFF, Android's form", cls=TextDefault, help="AID-REF-DO value."),
    click.option("--aid-empty", is_flag=True, help="Empty AID-REF-DO (4F 00). Android skips it. (pySim's --aid-empty writes C0: use --aid-implicit for that.)"),
    click.option("--aid-implicit", is_flag=True, help="Implicit AID (C0 00). Android skips it."),
    click.option("--no-aid", is_flag=True, help="No AID object: REF-DO starts with the hash (Android accepts)."),
    click.option("--perm", "--android-permissions", "perm", metavar="HEX", default=None, show_default="0000000000000001", cls=TextDefault, help="PERM-AR-DO, 8 bytes."),
    click.option("--apdu", type=click.Choice(["always", "never"]), default=None, help="APDU-AR-DO."),
    click.option("--apdu-always", is_flag=True, help="Same as --apdu always (pySim name)."),
    click.option("--apdu-never", is_flag=True, help="Same as --apdu never (pySim name)."),
    click.option("--apdu-filter", metavar="HEX", default=None, help="APDU filters: n x (4-byte header + 4-byte mask)."),
    click.option("--nfc-always", is_flag=True, help="NFC-AR-DO always."),
    click.option("--nfc-never", is_flag=True, help="NFC-AR-DO never."),
    click.option("--force", is_flag=True, help="Store even when Android would ignore the rule or drop all rules."),
]


def _with(options: list) -> Any:
    def deco(fn: Any) -> Any:
        for opt in reversed(options):
            fn = opt(fn)
        return fn
    return deco


@aram_group.command("add")
@_with(_ADD_OPTIONS)
@_BLIND
@adm_options
@card_options
@scp_options
def add_cmd(**o: Any) -> None:
    """Store one rule (not twice; refused when Android would not honour it, unless --force)."""
    cert = None
    if o["apk"] and not o["hash_"]:  # the APK's certificate: its hash, CN and role
        cert = rule_certificate(_apk_report(Path(o["apk"])))
        o = {**o, "hash_": cert.sha1, "apk": None}
    rule = _rule_from_options(o)
    extra = {"certificate": {"sha1": cert.sha1.upper(), "subject": cert.subject, "cn": cert.cn, "role": cert.role,
                             "signer_subject": cert.signer_subject,
                             "signer_sha1": cert.signer_sha1.upper() if cert.signer_sha1 else None}} if cert else {}
    if cert is not None and not o["as_json"]:
        click.echo(f"{cert.words()}: SHA-1 {cert.sha1.upper()}", err=True)
    key = read_adm_key(o["adm"], o["adm_file"])
    sd = read_sd_access()
    rerun = "simtool aram add (the same options)"
    with open_card(o["reader"], o["shared"], dry_run=o["dry_run"], trace=o["trace"]) as proto:
        with _failure_report([proto], as_json=o["as_json"], dry_run=o["dry_run"]), \
                _progress_bar(o["as_json"]) as progress:
            result = add_rule(proto, rule, force=o["force"], adm_key=key, progress=progress,
                              blind=o["blind"], rerun=rerun, sd=sd)
        if result.plan.empty:
            emit(o["as_json"], {"plan": plan_json(result.plan), "written": 0, "already_present": True, **extra},
                 lambda: click.echo(f"already on the card: {describe(rule)}"))
            return
        _show_result(proto, result, as_json=o["as_json"], dry_run=o["dry_run"], extra=extra)


@aram_group.command("delete")
@click.option("--hash", "--device-app-id", "hash_", metavar="HEX", help="Delete rules with this hash.")
@click.option("--package", "--pkg-ref", "package", help="Delete rules for this package.")
@click.option("--aid", metavar="HEX", default=None, help="Delete rules with this AID (\"\" = empty AID-REF-DO).")
@click.option("--all", "all_", is_flag=True, help="Delete every rule (needs no readable list).")
@_BLIND
@adm_options
@card_options
@scp_options
def delete_cmd(hash_: str | None, package: str | None, aid: str | None, all_: bool, blind: bool, adm: bool,
               adm_file: Path | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
               dry_run: bool) -> None:
    """Delete the rules matching every criterion given, or all rules."""
    if all_ == any(x is not None for x in (hash_, package, aid)):
        raise UsageError("give --all, or at least one of --hash, --package, --aid (not both)")
    match = RuleMatch(
        hash=parse_hash(hash_) if hash_ else None,
        package=package,
        aid=None if aid is None else parse_aid(aid, "--aid"),
        everything=all_,
    )
    key = read_adm_key(adm, adm_file)
    if blind and all_:
        raise UsageError("--all needs no --blind: it deletes every rule without reading the list")
    sd = read_sd_access()
    rerun = "simtool aram delete " + ("--all" if all_ else "(the same options)")
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        with _failure_report([proto], as_json=as_json, dry_run=dry_run), _progress_bar(as_json) as progress:
            result = delete_rules(proto, match, adm_key=key, progress=progress, blind=blind, rerun=rerun,
                                  sd=sd)
        if result.plan.empty:
            emit(as_json, {"plan": plan_json(result.plan), "written": 0},
                 lambda: click.echo("no rule on the card" if all_ else "no matching rule on the card"))
            return
        _show_result(proto, result, as_json=as_json, dry_run=dry_run)


@aram_group.command("lock")
@adm_options
@card_options
@scp_options
def lock_cmd(adm: bool, adm_file: Path | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
             dry_run: bool) -> None:
    """Lock sysmocom's ARA-M applet (STORE DATA A1): afterwards rules are written only with --scp02."""
    key = read_adm_key(adm, adm_file)
    sd = read_sd_access()
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        result = lock_aram(proto, adm_key=key, sd=sd)
        payload: dict[str, Any] = {
            "locked": result.verified, "dry_run": dry_run, "through_security_domain": result.through_sd,
            "sw": None if result.sw is None else f"{result.sw:04X}",
            "direct_store_data_sw": None if result.probe_sw is None else f"{result.probe_sw:04X}",
        }
        if dry_run:
            payload["apdus"] = apdu_listing(proto)

        def text() -> None:
            if dry_run:
                echo_apdus(proto)
                click.echo("dry run: the lock was not sent and nothing was checked", err=True)
                return
            click.echo("ARA-M locked: a direct STORE DATA is now refused (6982, checked with a delete of an "
                       "absent AID)")
            click.echo("write rules from now on through the security domain: --scp02 --kvn 0x70 "
                       "(docs/simtool-scp.md)", err=True)

        emit(as_json, payload, text)


def _apply_once(proto: CardProtocol, rules_file: Path, desired: tuple[AccessRule, ...], *, prune: bool,
                force: bool, adm_key: bytes | None, as_json: bool, dry_run: bool, show: bool = True,
                blind: bool = False, sd: SdAccess | None = None) -> ApplyResult:
    rerun = " ".join(["simtool aram apply", str(rules_file)] + ["--prune"] * prune + ["--force"] * force
                     + ["--adm"] * (adm_key is not None))
    with _failure_report([proto], as_json=as_json and show, dry_run=dry_run), \
            _progress_bar(as_json or not show) as progress:
        result = apply_rules(proto, desired, prune=prune, force=force, adm_key=adm_key, progress=progress,
                             blind=blind, rerun=rerun, sd=sd)
    if show:
        _show_result(proto, result, as_json=as_json, dry_run=dry_run, extra={"file": str(rules_file)})
    return result


def _dry_run_without_card(rules_file: Path, desired: tuple[AccessRule, ...], err: SimtoolError, *,
                          prune: bool, force: bool, as_json: bool) -> int | None:
    """``apply --dry-run`` with no reader or no card: the plan against an empty card and
    Android's verdict on the result; exit 8 when Android would not honour it (unless --force)."""
    offline = plan_without_card(desired, prune=prune)
    rows = rule_rows(offline.rules)
    payload = {
        "plan": plan_json(offline.plan), "file": str(rules_file), "dry_run": True, "card": None,
        "card_error": str(err), "assumed": "an empty card", "rules": rows,
        "findings": list(offline.findings), "notes": [offline.prune_note] if offline.prune_note else [],
        "apdus": [{"command": c, "sent": False, "sw": None} for c in offline.writes],
    }

    def text() -> None:
        click.echo(f"no card ({err}): the plan against an empty card", err=True)
        _echo_plan(offline.plan)
        _echo_rule_rows(offline.rules, rows, empty="(the card would hold no rules)")
        click.echo("APDUs (dry run, after SELECT and GET DATA):")
        for command in offline.writes:
            click.echo(f"  would send  {command}")
        if offline.prune_note:
            click.echo(f"note: {offline.prune_note}", err=True)
        for finding in offline.findings:
            click.echo(finding, err=True)

    emit(as_json, payload, text)
    return ExitCode.ANDROID_REFUSAL if offline.findings and not force else None


@aram_group.command("apply")
@click.argument("rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--prune", is_flag=True, help="Also delete rules the file does not list.")
@click.option("--force", is_flag=True, help="Apply even when Android would ignore a rule or drop all rules.")
@click.option("--blind", is_flag=True,
              help="With --prune, for a rule list that cannot be read (exit 6): delete all rules and "
                   "store the file's, without reading the list first (docs/simtool-aram.md, Recovery).")
@click.option("--watch", is_flag=True, help="Production line: apply to every card inserted, log to --log.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              show_default=str(default_audit_log()), cls=TextDefault,
              help="CSV audit log for --watch (in the user's log folder, created when missing).")
@click.option("--count", type=click.IntRange(min=1), default=None, help="With --watch: stop after this many cards.")
@click.option("--idle-timeout", type=float, default=None, help="With --watch: stop when no card comes for this many seconds.")
@adm_options
@card_options
@scp_options
def apply_cmd(rules_file: Path, prune: bool, force: bool, blind: bool, watch: bool, log_path: Path | None,
              count: int | None,
              idle_timeout: float | None, adm: bool, adm_file: Path | None, reader: str | None, shared: bool,
              as_json: bool, trace: bool, dry_run: bool) -> int | None:
    """Make the card hold the rules in RULES_FILE (JSON or TOML); verified by reading back."""
    source = load_rules_source(rules_file) if watch else None  # with its SHA-256 for the audit log
    desired = source.rules if source else load_desired_rules(rules_file)
    if blind and not prune:
        raise UsageError("--blind replaces every rule on the card: give --prune too")
    if blind and watch:
        raise UsageError("--blind is for recovering one card, not for --watch")
    key = read_adm_key(adm, adm_file)  # once, also for a whole production run
    sd = read_sd_access()  # keys (or the per-ICCID key file) read once too
    if source is None:
        with contextlib.ExitStack() as stack:
            try:
                proto = stack.enter_context(open_card(reader, shared, dry_run=dry_run, trace=trace))
            except (PcscUnavailableError, NoReaderError, NoCardError) as err:
                if not dry_run:
                    raise
                return _dry_run_without_card(rules_file, desired, err, prune=prune, force=force,
                                             as_json=as_json)
            _apply_once(proto, rules_file, desired, prune=prune, force=force, adm_key=key,
                        as_json=as_json, dry_run=dry_run, blind=blind, sd=sd)
        return None
    return _watch_line(source, Job(source.rules, prune, force, key, sd), log_path=log_path, count=count,
                       idle_timeout=idle_timeout, reader=reader, shared=shared, as_json=as_json, trace=trace,
                       dry_run=dry_run)


def _watch_line(source: RulesSource, job: Job, *, log_path: Path | None, count: int | None,
                idle_timeout: float | None, reader: str | None, shared: bool, as_json: bool, trace: bool,
                dry_run: bool) -> int | None:
    """``apply --watch``: the production line (simtool.aram.production); prints prompts, one
    summary line per card, and the summaries by insertion and by card."""
    path = log_path or default_audit_log()
    check_audit_log(path, create_folder=log_path is None)  # before any card: never run unlogged
    chosen = transport.pick_reader(transport.list_readers(), reader)
    of = f" of {count}" if count else ""

    def serve() -> CardOutcome:
        return serve_card(lambda: open_card(chosen, shared, dry_run=dry_run, trace=trace), job)

    def prompt(kind: str, number: int, outcome: CardOutcome | None) -> None:
        if kind == "next":
            click.echo(f"next card: insert card {number}{of} (Ctrl-C to stop)", err=True)
        elif outcome is not None:
            click.echo(f"remove card {number}{of} ({outcome.iccid or 'no ICCID'})", err=True)

    def report(o: CardOutcome) -> None:
        name = o.iccid or "(no ICCID)"
        if as_json:  # JSON Lines: one object per card, the audit row
            click.echo(json.dumps({**o.row(chosen, source.sha256), "exit_code": o.exit_code}, separators=(",", ":")))
        elif o.plan is not None:
            for line in describe_plan_lines(o.plan):
                click.echo(f"{name}  {line}")
        click.echo(card_line(o, of), err=True)

    click.echo(f"watching {chosen!r}: rules {source.path} (SHA-256 {source.sha256}); audit log {path}", err=True)
    summary = watch_cards(wait=lambda present, timeout: transport.wait_for_card(chosen, present=present,
                                                                                 timeout=timeout),
                          serve=serve, log_path=path, reader=chosen, rules_sha256=source.sha256, count=count,
                          idle_timeout=idle_timeout, on_outcome=report, on_prompt=prompt)
    by_insertion = summary.by_insertion()
    by_card = summary.by_card()
    failed = summary.failed_cards()
    click.echo(f"by insertion: {len(summary.outcomes)} insertion(s): "
               + (", ".join(f"{n} {r}" for r, n in by_insertion.items() if n) or "none"), err=True)
    click.echo(f"by card (last outcome per ICCID): {len(by_card)} card(s), {len(by_card) - len(failed)} done, "
               f"{len(failed)} not done" + (f": {', '.join(failed)}" if failed else ""), err=True)
    if summary.interrupted:
        click.echo("stopped by Ctrl-C with a card in progress: its audit row says what the card confirmed; "
                   "insert it again to finish", err=True)
    if as_json:
        click.echo(json.dumps({"summary": {
            "by_insertion": by_insertion,
            "by_card": {k: o.result for k, o in by_card.items()},
            "not_done": failed, "interrupted": summary.interrupted, "audit_log": str(path),
            "rules_sha256": source.sha256}}, separators=(",", ":")))
    return summary.exit_code or None


@aram_group.command("export")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "toml"]), default=None,
              show_default="from the file name, else JSON", cls=TextDefault, help="File format.")
@click.option("--force", is_flag=True, help="Export even when Android would drop the whole rule set.")
@card_options
@scp_options
def export_cmd(output: Path, fmt: str | None, force: bool, reader: str | None, shared: bool, as_json: bool,
               trace: bool, dry_run: bool) -> None:
    """Write the card's rules to OUTPUT ("-" for stdout) in the format `apply` reads; verified."""
    fmt = export_format(output, fmt)
    sd = read_sd_access()
    with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
        current = read_rules(proto, sd=sd)
    if str(output) == "-":
        click.echo(dump_rules(current.rules, fmt), nl=False)
        return
    count = write_export(current.rules, output, fmt)
    emit(as_json, {"file": str(output), "rules": count, "format": fmt, "verified": True},
         lambda: click.echo(f"{count} rule(s) written to {output} ({fmt}, verified)", err=True))


def _check_rule_file(rules_file: Path, as_json: bool) -> int | None:
    """``check --rules FILE`` alone: Android's verdict on every rule of the file, no card."""
    rules = rules_as_card(load_desired_rules(rules_file))
    findings = android_findings(rules)
    rows = rule_rows(rules)
    payload = {"file": str(rules_file), "rules": rows, "error": rules.android.error,
               "findings": list(findings), "honoured": not findings}

    def text() -> None:
        _echo_rule_rows(rules, rows, empty=f"{rules_file}: no rules (Android grants no app anything)")
        for finding in findings:
            click.echo(finding, err=True)

    emit(as_json, payload, text)
    return ExitCode.ANDROID_REFUSAL if findings else None


@aram_group.command("check")
@click.option("--apk", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The app to check.")
@click.option("--hash", "hash_", metavar="HEX", help="Certificate hash to check (SHA-1 or SHA-256).")
@click.option("--package", show_default="with --apk: read from its manifest", cls=TextDefault, help="The app's package name.")
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Judge this rule file instead of a card (no reader needed); alone: Android's verdict per rule.")
@_LOGICAL
@card_options
@scp_options
def check_cmd(apk: Path | None, hash_: str | None, package: str | None, rules_file: Path | None,
              logical_channel: bool, reader: str | None, shared: bool, as_json: bool, trace: bool,
              dry_run: bool) -> int | None:
    """Does this card (or --rules FILE) grant the app carrier privileges on Android? For each SDK
    range: which rule, or why not. With only --rules: would Android honour each rule of the file?"""
    if rules_file is not None and not apk and not hash_:
        return _check_rule_file(rules_file, as_json)
    if bool(apk) == bool(hash_):
        raise UsageError("give exactly one of --apk or --hash (or --rules FILE alone)")
    if hash_:
        cert_sets: tuple[CertSet, ...] = (CertSet(None, None, frozenset({parse_hash(hash_)})),)
    else:
        assert apk is not None  # exactly one of --apk and --hash (checked above)
        report = _apk_report(apk)
        cert_sets = cert_sets_from_apk(report)
        package = package or report.package
        if not cert_sets:
            why = "; ".join(report.errors) or "no signing certificates found"
            raise UsageError(f"{apk}: {why}")
    if rules_file is not None:
        current = rules_as_card(load_rules(rules_file))
    else:
        sd = read_sd_access()
        with open_card(reader, shared, dry_run=dry_run, trace=trace) as proto:
            current = read_rules(proto, logical=logical_channel, sd=sd)
    grants = check_grants(current, cert_sets, package)
    rows = grant_rows(grants)

    def text() -> None:
        for row in rows:
            lo = row["min_sdk"] if row["min_sdk"] is not None else "any"
            hi = row["max_sdk"] if row["max_sdk"] is not None else "any"
            scope = f"SDK {lo}..{hi}" if apk else "hash"
            if row["granted"]:
                click.echo(f"{scope}: GRANTED by rule {row['rule_index']} ({row['rule']})")
            else:
                click.echo(f"{scope}: not granted")
                for reason in row["reasons"]:
                    click.echo(f"  - {reason}")

    emit(as_json, {"package": package, "results": rows}, text)
    return None if all(g.granted for g in grants) else ExitCode.ANDROID_REFUSAL

