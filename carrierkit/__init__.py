"""carrierkit: the small core simtool and wifiq share (errors, CLI runner, atomic writes, secrets)."""
