"""pytest fixture `pcsc_rig`: a real pcscd + vpcd for the tests of one module.

Use it with `from tests.rig.pcsc_fixtures import pcsc_rig  # noqa: F401` in a test module.
Scope: pcscd starts once per test module (on the first test that asks) and stops when pytest
finishes that module; each test gets the same PcscRig, and every card a test left inserted is
pulled out after it, so tests do not see each other's cards. Not root: the test is skipped
with the reason. Root but a part missing (pcscd, vpcd, unshare): the test errors, naming it.
"""

from __future__ import annotations

import os

import pytest

from .pcsc import PcscRig, missing_requirements

_module_rigs: dict[str, PcscRig] = {}


@pytest.fixture
def pcsc_rig(request: pytest.FixtureRequest):
    """The module's PcscRig; cards inserted by the test are removed after it."""
    reason = missing_requirements()
    if reason:
        if os.geteuid() != 0:
            pytest.skip(reason)
        pytest.fail(reason)
    module = request.node.getparent(pytest.Module)
    key = module.nodeid
    rig = _module_rigs.get(key)
    if rig is None:
        rig = PcscRig()
        rig.__enter__()
        _module_rigs[key] = rig
        module.addfinalizer(lambda: _module_rigs.pop(key).close())
    yield rig
    rig.remove_all_cards()
