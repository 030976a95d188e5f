"""Each target's coexistence cases (tests/render/contract.py), one module per target or family
of targets, each with a ``CASES`` list; :func:`all_cases` collects them."""

from __future__ import annotations

import importlib
import pkgutil

from ..contract import DeviceCase


def all_cases() -> list[DeviceCase]:
    """Every module's ``CASES``, in module-name order."""
    found: list[DeviceCase] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        found += importlib.import_module(f"{__name__}.{module}").CASES
    return found
