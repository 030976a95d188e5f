"""An empty --on-change is a one-line error (exit 2), like an empty config on_change: it never
falls back silently to the config's command."""

from __future__ import annotations

from pathlib import Path


def test_an_empty_on_change_option_is_refused_not_replaced_by_the_configs(wifiq, silent,
                                                                          tmp_path: Path):
    marker = tmp_path / "hook-ran"
    config = tmp_path / "wifiq.toml"
    config.write_text(f'on_change = "/usr/bin/touch {marker}"\n[selection]\nplmns = ["505-01"]\n'
                      f'[resolve]\nresolvers = ["{silent.address}"]\ntimeout = 0.2\nretries = 0\n')
    run = wifiq("refresh", "--config", str(config), "--state", str(wifiq.state), "--on-change", "")
    assert run.code == 2, run.err
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert lines == ["wifiq: error: --on-change: an empty command"]
    assert not marker.exists() and not wifiq.state.exists()
