"""The PC/SC rig now lives in the package (``simtool.lab.rig``) so ``simtool lab`` can start it
for users; this name stays for the tests. ``tests.rig.pcsc`` *is* that module (not a copy), so
monkeypatching an attribute here patches what the rig uses."""

from __future__ import annotations

import sys

from simtool.lab import rig as _rig

sys.modules[__name__] = _rig
