"""Where operator data lives and how the pieces are combined into one :class:`OperatorDb`.

Precedence: an explicit ``data_file``; else the user's rebuilt list (written by
``wifiq operators update``) if present; else the list embedded in the package. Overrides: the
embedded file, then the user's default overrides file if present, then each file given.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import platformdirs

from carrierkit.fileio import atomic_write_text

from .db import DataInfo, OperatorDb
from .model import Override
from .store import (
    OperatorDataError,
    parse_data,
    parse_overrides,
    read_data_file,
    read_overrides_file,
)

APP_NAME = "wifiq"
DATA_FILE_NAME = "mcc-mnc.json"
OVERRIDES_FILE_NAME = "overrides.toml"


def _embedded(name: str) -> bytes:
    return (resources.files("wifiq.operators") / "data" / name).read_bytes()


def user_data_file() -> Path:
    """Where ``wifiq operators update`` writes a rebuilt list (the user's data dir)."""
    return Path(platformdirs.user_data_dir(APP_NAME)) / DATA_FILE_NAME


def user_overrides_file() -> Path:
    """The user's own overrides file, read automatically when it exists (user config dir)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / OVERRIDES_FILE_NAME


def install_data_file(text: str, target: Path | None = None) -> Path:
    """Write a built data file atomically to ``target`` (default :func:`user_data_file`).

    Creates missing parent directories. Raises :class:`OperatorDataError` naming the path
    when it cannot be written; the previous file, if any, is then left as it was.
    """
    path = target or user_data_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    except OSError as err:
        raise OperatorDataError(path, f"cannot write: {err.strerror or err}") from err
    return path


def embedded_overrides() -> tuple[Override, ...]:
    """The overrides shipped in the package; every entry names its source."""
    text = _embedded(OVERRIDES_FILE_NAME).decode("utf-8")
    return parse_overrides(text, f"<embedded {OVERRIDES_FILE_NAME}>", require_source=True)


def load_operators(
    *,
    data_file: Path | None = None,
    overrides_files: Sequence[Path] = (),
    user_files: bool = True,
) -> OperatorDb:
    """Embedded (or the user's rebuilt, or ``data_file``'s) operators + overrides.

    ``user_files=False`` ignores the user's data dir and config dir (tests, reproducible
    runs). Raises :class:`~wifiq.operators.store.OperatorDataError` for a malformed file.
    """
    if data_file is None and user_files and user_data_file().is_file():
        try:
            operators, metadata = read_data_file(user_data_file())
        except OperatorDataError as err:
            raise OperatorDataError(err.path, f"{err.problem} (delete it to use the embedded "
                                    "list, or rebuild it with 'wifiq operators update')") from err
        info = DataInfo(str(user_data_file()), metadata)
    elif data_file is not None:
        operators, metadata = read_data_file(data_file)
        info = DataInfo(str(data_file), metadata)
    else:
        origin = f"<embedded {DATA_FILE_NAME}>"
        operators, metadata = parse_data(_embedded(DATA_FILE_NAME), origin)
        info = DataInfo(origin, metadata)
    overrides = list(embedded_overrides())
    files = list(overrides_files)
    if user_files and user_overrides_file().is_file():
        files.insert(0, user_overrides_file())
    for path in files:
        overrides.extend(read_overrides_file(path))
    return OperatorDb(operators, overrides, info)
