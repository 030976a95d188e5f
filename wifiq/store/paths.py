"""Where the state lives unless ``--state`` or the config file says otherwise."""

from __future__ import annotations

from pathlib import Path

import platformdirs

STATE_FILE_NAME = "state.sqlite"


def default_state_path() -> Path:
    """``<user data dir>/wifiq/state.sqlite`` (``~/.local/share/wifiq/`` on Linux)."""
    return Path(platformdirs.user_data_dir("wifiq", appauthor=False)) / STATE_FILE_NAME
