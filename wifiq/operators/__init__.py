"""Operator data: the world's MCC/MNC list (embedded, works offline) and published overrides.

Modules: :mod:`.model` (records), :mod:`.db` (lookups), :mod:`.store` (file formats),
:mod:`.load` (where the files are), :mod:`.build` (rebuilding the list from npm
``mcc-mnc-list``). The data is from Wikipedia, CC BY-SA 4.0: see ``data/ATTRIBUTION.md``.
"""

from __future__ import annotations

from .db import DataInfo, NothingSelectedError, OperatorDb, UnknownCountryError
from .load import load_operators, user_data_file, user_overrides_file
from .model import Operator, Override
from .store import OperatorDataError

__all__ = [
    "DataInfo",
    "NothingSelectedError",
    "Operator",
    "OperatorDataError",
    "OperatorDb",
    "Override",
    "UnknownCountryError",
    "load_operators",
    "user_data_file",
    "user_overrides_file",
]
