"""carrierkit: the small core simtool and wifiq share (errors, CLI runner, atomic writes, secrets,
progress, output). ``__version__`` is the distribution's one version (pyproject.toml reads it)."""

__version__ = "0.1.0"
