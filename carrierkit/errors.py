"""The error base both tools report to the user; no click, no I/O, so every layer may import it."""

from __future__ import annotations


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


class SecretError(ToolError):
    """A secret (password, ADM key, PIN) could not be obtained."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"cannot read {name}: {reason}")
        self.name = name
        self.reason = reason


class SecretMissingError(SecretError):
    """No source holds the secret: no file given, the environment variable unset, no terminal.

    Distinct from a secret that was given but cannot be read (an unreadable or non-UTF-8 file,
    a stray byte in the variable): only this case may fall back to working without it.
    """


class MissingExtraError(ToolError):
    """A command needs an optional part of carrierkit (an extra) that is not installed.

    Exit status 3, like "no PC/SC service, reader or card": the command cannot reach what it needs
    from this installation.
    """

    exit_code = 3

    def __init__(self, command: str, package: str, extra: str, note: str = "") -> None:
        # ``pipx inject`` works however carrierkit was installed (from PyPI, a clone or a wheel).
        install = f"pipx inject carrierkit {package} (or pip install {package} in carrierkit's environment"
        super().__init__(f"{command} needs {package}, which is not installed: {install}"
                         f"{'; ' + note if note else ''})")
        self.command = command
        self.package = package
        self.extra = extra
