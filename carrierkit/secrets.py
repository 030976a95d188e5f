"""Read secrets (keystore passwords, ADM keys, PINs) without ever taking them as option values.

A secret comes from, in order: a file named by ``--<x>-file`` (first line, trailing newline
stripped; given explicitly, so it wins), an environment variable, or an interactive prompt when
stdin is a terminal. Values are
never logged; use :func:`redact` for anything printed.
"""

from __future__ import annotations

import getpass
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import SecretError, SecretMissingError


MAX_SECRET_FILE = 64 << 10  # a secret file's first line; /dev/zero must not fill memory


@dataclass(frozen=True)
class SecretSource:
    """Where a secret may be found: ``env`` variable name, optional file, prompt text."""

    name: str  # human name, e.g. "keystore password"
    env: str  # environment variable, e.g. "SIMTOOL_KS_PASS"
    file: Path | None = None
    prompt: str | None = None


def _utf8(source: SecretSource, value: str, where: str) -> str:
    """``value`` when it is valid Unicode text; else SecretError naming only ``where`` — never
    a character or the position of one (an undecodable byte from the environment or the
    terminal arrives as a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise SecretError(source.name, f"{where} is not valid UTF-8 text") from None
    return value


def read_secret(source: SecretSource, *, required: bool = True) -> str | None:
    """Return the secret from the file, the environment or a prompt (in that order).

    Raises SecretError when it is required and none of the sources has it, or when it is not
    valid UTF-8 text (the message never shows any of its characters).
    """
    if source.file is not None:
        try:
            with open(source.file, "rb") as fh:
                raw = fh.read(MAX_SECRET_FILE + 1)  # only the first line counts
        except OSError as exc:
            raise SecretError(source.name, f"{source.file}: {exc.strerror or exc}") from None
        lines = raw.splitlines()
        if len(raw) > MAX_SECRET_FILE and len(lines) < 2:
            raise SecretError(source.name, f"{source.file}: no line break in the first "
                              f"{MAX_SECRET_FILE} bytes")
        try:
            return lines[0].decode("utf-8") if lines else ""
        except UnicodeDecodeError:
            raise SecretError(source.name, f"{source.file} is not valid UTF-8 text") from None
    value = os.environ.get(source.env)
    if value is not None:
        return _utf8(source, value, f"${source.env}")
    if source.prompt and sys.stdin is not None and sys.stdin.isatty():
        try:
            # getpass asks on the terminal itself, echo off; Ctrl-C reaches the CLI's handler.
            return _utf8(source, getpass.getpass(f"{source.prompt}: "), "the answer")
        except EOFError:
            raise SecretError(source.name, "no answer on the terminal") from None
    if required:
        raise SecretMissingError(
            source.name, f"set {source.env}, give a file, or run on a terminal to be prompted"
        )
    return None


def redact(value: str | bytes, keep: int = 0) -> str:
    """Render a secret for logs: its length only (and ``keep`` leading characters, for debugging)."""
    text = value.hex() if isinstance(value, bytes) else value
    return f"{text[:keep]}<redacted {len(text)} chars>"
