"""The simulated card now lives in the package (``simtool.lab.vcard``); this name stays for the
tests. Every ``tests.rig.vcard.X`` of the package is the module ``simtool.lab.vcard.X`` itself
(not a copy), so classes and exceptions are the same objects under both names. A module kept
in this folder (test-only helpers) still imports as ``tests.rig.vcard.Y``."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from simtool.lab import vcard as _vcard

for _module in pkgutil.iter_modules(_vcard.__path__):
    sys.modules[f"{__name__}.{_module.name}"] = importlib.import_module(f"{_vcard.__name__}.{_module.name}")
__path__ = [*__path__, *_vcard.__path__]
