"""``simtool rules check``: does the whole card grant an app carrier privileges, the way Android
decides (ARA-D, ARA-M, then the ARF)? Thin: the work is in ``simtool.arf.whole_card``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from carrierkit.cli import TextDefault

from ..apk import inspect_apk
from ..aram.check import CertSet, cert_sets_from_apk
from ..aram.rulefile import parse_hash
from ..arf.whole_card import CardGrant, CardRules, decide, read_card_rules
from ..errors import UsageError
from ..exitcodes import ExitCode
from .cardopts import emit, open_card, reader_options


@click.group("rules")
def rules_group() -> None:
    """Carrier-privilege rules of the whole card: ARA-D, ARA-M and ARF together."""


def _json(card: CardRules, grants: tuple[CardGrant, ...], package: str | None) -> dict[str, Any]:
    return {
        "package": package,
        "card_error": card.error,
        "sources": [{"source": s.name, "state": s.state, "detail": s.detail} for s in card.sources],
        "results": [
            {"min_sdk": g.certs.min_sdk, "max_sdk": g.certs.max_sdk, "granted": g.granted, "source": g.source,
             "rule": g.rule, "reasons": list(g.reasons), "certificates": list(g.certs.subjects)}
            for g in grants
        ],
    }


@rules_group.command("check")
@click.option("--apk", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The app to check.")
@click.option("--hash", "hash_", metavar="HEX", help="Certificate hash to check (SHA-1 or SHA-256).")
@click.option("--package", show_default="with --apk: read from its manifest", cls=TextDefault,
              help="The app's package name.")
@reader_options
def check_cmd(apk: Path | None, hash_: str | None, package: str | None, reader: str | None, shared: bool,
              as_json: bool, trace: bool) -> int | None:
    """Does this card grant the app carrier privileges on Android? Reads ARA-D, ARA-M, then the
    ARF as Android does and names the source and rule that grants, or why none does (per SDK
    range with --apk). Exit 8 when not granted."""
    if bool(apk) == bool(hash_):
        raise UsageError("give exactly one of --apk or --hash")
    if hash_:
        cert_sets: tuple[CertSet, ...] = (CertSet(None, None, frozenset({parse_hash(hash_)})),)
    else:
        assert apk is not None
        report = inspect_apk(apk)
        cert_sets = cert_sets_from_apk(report)
        package = package or report.package
        if not cert_sets:
            raise UsageError(f"{apk}: {'; '.join(report.errors) or 'no signing certificates found'}")
    with open_card(reader, shared, trace=trace) as proto:
        card = read_card_rules(proto)
    grants = decide(card, cert_sets, package)

    def text() -> None:
        for s in card.sources:
            click.echo(f"{s.name:<6} {s.state:<9} {s.detail}")
        for g in grants:
            lo = g.certs.min_sdk if g.certs.min_sdk is not None else "any"
            hi = g.certs.max_sdk if g.certs.max_sdk is not None else "any"
            scope = f"SDK {lo}..{hi}" if apk else "hash"
            if g.granted:
                click.echo(f"{scope}: GRANTED by {g.source}, {g.rule}")
            else:
                click.echo(f"{scope}: not granted")
                for reason in g.reasons:
                    click.echo(f"  - {reason}")

    emit(as_json, _json(card, grants, package), text)
    return None if all(g.granted for g in grants) else ExitCode.ANDROID_REFUSAL
