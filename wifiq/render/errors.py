"""Errors of the rendering layer; each carries the fields a script or a test needs."""

from __future__ import annotations

from ..errors import UsageError, WifiqError


class RenderInputError(UsageError):
    """A resolve/refresh JSON document is malformed: names the file and the field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        super().__init__(f"{source}: {field}: {problem}")
        self.source = source
        self.field = field
        self.problem = problem


class UnknownTargetError(UsageError):
    """No renderer is registered under the requested name."""

    def __init__(self, target: str, known: list[str]) -> None:
        super().__init__(f"unknown render target {target!r} (known: {', '.join(known)})")
        self.target = target
        self.known = known


class DscpError(UsageError):
    """A DSCP given by name or number is not a valid code point."""

    def __init__(self, value: str, problem: str) -> None:
        super().__init__(f"--dscp {value!r}: {problem}")
        self.value = value


class TargetLimitError(WifiqError):
    """A target cannot express the input (a family, a protocol, a size limit): nothing is dropped.

    ``target`` is the renderer's name, ``limit`` names the platform limit that was hit.
    """

    def __init__(self, target: str, limit: str, detail: str) -> None:
        super().__init__(f"{target}: cannot render: {detail} ({limit})")
        self.target = target
        self.limit = limit
        self.detail = detail


class RenderOptionError(UsageError):
    """A render option (``--prefix`` / ``--option KEY=VALUE`` or a config output's ``prefix`` /
    ``options``) is unknown to the target or has a value it cannot use.

    ``target`` the renderer's name, ``key`` the option (``prefix`` for the prefix), ``value``
    what was given, ``problem`` what is accepted."""

    def __init__(self, target: str, key: str, value: str, problem: str) -> None:
        where = f"--prefix {value!r}" if key == "prefix" else f"--option {key}={value}"
        super().__init__(f"{target}: {where}: {problem}")
        self.target = target
        self.key = key
        self.value = value
        self.problem = problem


class RendererLoadError(WifiqError):
    """A registered renderer (a plug-in, usually) cannot be loaded; one line with the reason.

    ``wifiq formats`` reports it and lists the others; rendering that target fails with it.
    """

    def __init__(self, name: str, spec: str, reason: str) -> None:
        super().__init__(f"renderer {name} ({spec}) failed to load: {reason}")
        self.name = name
        self.spec = spec
        self.reason = reason
