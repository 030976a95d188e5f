"""``simtool digest``: print the signing-certificate digests of APKs, AABs, certificates and
keystores, and the hash to put on a SIM. Thin: options -> ``simtool.apk.inspect_apk`` -> print.

Exit status: 0 when every input verified, 1 when any did not (or could not be read), 2 for
usage errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from carrierkit.cli import TextDefault

from ..apk import (KEY_FILE_KINDS, ApkError, ApkReport, CertDigests, Signer, inspect_apk, to_json,
                   unreadable)
from ..errors import SimtoolError
from carrierkit.errors import SecretError
from carrierkit.output import emit_json
from carrierkit.progress import progress
from carrierkit.secrets import SecretSource, read_secret
from carrierkit.textsafe import escape_controls as safe

PASSWORD_ENV = "SIMTOOL_KEYSTORE_PASSWORD"


def _labels(report: ApkReport) -> list[tuple[str, Signer]]:
    """apksigner's per-signer label: ``Signer #n`` or, with v3.1, the SDK-range form."""
    out = []
    for i, s in enumerate(report.signers):
        if report.schemes.get("v3.1"):
            dev = " (dev release=true)" if s.dev_release else ""
            label = f"Signer (minSdkVersion={s.min_sdk}{dev}, maxSdkVersion={s.max_sdk})"
        else:
            label = f"Signer #{i + 1}"
        out.append((label, s))
    return out


def _cert_lines(label: str, c: CertDigests) -> list[str]:
    """apksigner's four ``--print-certs`` lines for one certificate."""
    return [f"{label} certificate DN: {safe(c.subject)}",
            f"{label} certificate SHA-256 digest: {c.sha256}",
            f"{label} certificate SHA-1 digest: {c.sha1}",
            f"{label} certificate MD5 digest: {c.md5}"]


def render_text(report: ApkReport) -> str:
    """apksigner ``verify --verbose --print-certs`` lines, then our own ``simtool:`` lines."""
    lines: list[str] = []
    if len(report.schemes):
        lines.append("Verifies" if report.verified else "DOES NOT VERIFY")
        titles = {"v1": "v1 scheme (JAR signing)", "v2": "v2 scheme (APK Signature Scheme v2)",
                  "v3": "v3 scheme (APK Signature Scheme v3)",
                  "v3.1": "v3.1 scheme (APK Signature Scheme v3.1)",
                  "v4": "v4 scheme (APK Signature Scheme v4)"}
        for key, title in titles.items():
            lines.append(f"Verified using {title}: {str(report.schemes.get(key, False)).lower()}")
        lines.append(f"Verified for SourceStamp: {str(report.schemes.get('stamp', False)).lower()}")
        if report.verified:
            # apksigner counts the v3.1 signers as one (the newest), then lists each range.
            count = 1 if report.schemes.get("v3.1") else len(report.signers)
            lines.append(f"Number of signers: {count}")
    for label, s in _labels(report):
        if s.name and not report.schemes:
            lines.append(f"{label} alias: {safe(s.name)}")
        lines += _cert_lines(label, s.certificate)
    if report.source_stamp is not None:
        lines += _cert_lines("Source Stamp Signer", report.source_stamp)
    for i, node in enumerate(report.lineage):
        c = node.certificate
        lines += [f"simtool: Lineage #{i + 1} certificate DN: {safe(c.subject)}",
                  f"simtool: Lineage #{i + 1} certificate SHA-256 digest: {c.sha256}",
                  f"simtool: Lineage #{i + 1} certificate SHA-1 digest: {c.sha1}"]
    if report.verified and report.kind == "aab":
        lines.append("simtool: no SIM hash for a bundle: it is signed with the upload key, and "
                     "devices get APKs signed with the app signing key (Play App Signing: Play "
                     "Console > App integrity); digest an APK Play serves, or that certificate")
    elif report.verified:
        if report.recommended_sha1:
            where = "" if report.kind in KEY_FILE_KINDS else (
                f" (matches on SDK {report.carrier_certificates[0].min_sdk}"
                f"-{report.carrier_certificates[-1].max_sdk})")
            lines.append(f"simtool: SIM hash{where}: SHA-1 {report.recommended_sha1} "
                         f"({safe(report.recommended_subject or '')})")
            lines.append(f"simtool: SIM hash SHA-256 alternative: {report.recommended_sha256}")
        else:
            lines.append("simtool: no single certificate matches on every SDK version; per range:")
            for rng in report.carrier_certificates:
                hashes = ", ".join(c.sha1 for c in rng.certificates) or "(none)"
                lines.append(f"simtool:   SDK {rng.min_sdk}-{rng.max_sdk}: SHA-1 any of {hashes}")
    for w in report.warnings:
        lines.append(f"WARNING: {safe(w)}")
    for e in report.errors:
        lines.append(f"ERROR: {safe(e)}")
    return "\n".join(lines)


@contextlib.contextmanager
def _progress(path: Path, full_verify: bool) -> Iterator[Callable[[int], None] | None]:
    """Progress on stderr for ``--verify`` taking over a second on a terminal, else None."""
    if not full_verify:
        yield None
        return
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # the library names the problem
    with progress(f"verifying {safe(path.name)}", size or None, unit="bytes") as update:
        yield update


@click.command("digest")
# Paths are checked by the library, one input at a time: a directory or a missing file is that
# input's one-line error while the other inputs are still reported.
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, in a list.")
@click.option("--verify", "full_verify", is_flag=True,
              help="Also check the whole file's content digests and v1 entry digests.")
@click.option("--min-sdk-version", "min_sdk", type=click.IntRange(min=0), default=None,
              show_default="the APK's minSdkVersion", cls=TextDefault, help="Lowest Android API level to verify for.")
@click.option("--max-sdk-version", "max_sdk", type=click.IntRange(min=0), default=None,
              show_default="no limit", cls=TextDefault, help="Highest Android API level to verify for.")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"File whose first line is the keystore password (else ${PASSWORD_ENV}, "
              "else a prompt).")
def digest(paths: tuple[Path, ...], as_json: bool, full_verify: bool, min_sdk: int | None,
           max_sdk: int | None, password_file: Path | None) -> int:
    """Print the signing-certificate digests of APKs, AABs, certificates and keystores."""
    if min_sdk is not None and max_sdk is not None and min_sdk > max_sdk:
        raise click.BadParameter(f"--min-sdk-version {min_sdk} > --max-sdk-version {max_sdk}")
    source = SecretSource("keystore password", PASSWORD_ENV, password_file, "Keystore password")
    cached: list[str] = []

    def password() -> str:
        if not cached:
            cached.append(read_secret(source) or "")
        return cached[0]

    results: list[dict] = []
    all_ok = True
    printed = False  # text mode: a blank line between inputs' blocks
    for path in paths:
        try:
            with _progress(path, full_verify) as update:
                report = inspect_apk(path, min_sdk=min_sdk, max_sdk=max_sdk,
                                     full_verify=full_verify, password=password, progress=update)
        except (SimtoolError, SecretError) as err:  # ApkError, or an unreadable keystore password
            all_ok = False
            message = str(err) if isinstance(err, ApkError) else f"{path}: {err}"
            click.echo(f"simtool: error: {safe(message)}", err=True)
            if as_json:
                what = err.what if isinstance(err, ApkError) else str(err)
                results.append(to_json(unreadable(str(path), what, full_verify)))
            continue
        all_ok &= report.verified
        if as_json:
            results.append(to_json(report))
        else:
            if len(paths) > 1:
                click.echo(("\n" if printed else "") + f"== {safe(str(path))}")
            click.echo(render_text(report))
            printed = True
        if not report.verified:
            reason = report.errors[0] if report.errors else "unknown reason"
            click.echo(f"simtool: error: {safe(str(path))}: does not verify: {safe(reason)}",
                       err=True)
    if as_json:
        emit_json(results, indent=2)
    return 0 if all_ok else 1

