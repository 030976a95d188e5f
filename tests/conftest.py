"""Suite-wide settings.

DNS guard: no test may use the machine's resolver configuration or send to a DNS port off
loopback (tests/rig/guard_site/sitecustomize.py). It is installed here and, through
``PYTHONPATH``, in every Python process the tests start; a violation anywhere is logged to a
file that :func:`_no_real_dns` checks after every test, so it fails the test even when a
subprocess swallowed the error.

Hypothesis: the suite runs on small shared machines (2 cores, CI and other jobs beside it), so
example generation can be slow for reasons unrelated to the code under test. Deadlines and the
too-slow health check are turned off; every property still runs its full number of examples.
"""

import importlib.util
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_GUARD_SITE = Path(__file__).parent / "rig" / "guard_site"
_GUARD_LOG = Path(tempfile.mkstemp(prefix="carrierkit-dns-guard-", suffix=".log")[1])
os.environ["CARRIERKIT_DNS_GUARD_LOG"] = str(_GUARD_LOG)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(_GUARD_SITE), *filter(None, [os.environ.get("PYTHONPATH")])])
_spec = importlib.util.spec_from_file_location("carrierkit_dns_guard",
                                               _GUARD_SITE / "sitecustomize.py")
assert _spec is not None and _spec.loader is not None
dns_guard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dns_guard)  # installs the guard in this process


@pytest.fixture(autouse=True)
def _no_real_dns() -> Iterator[None]:
    """Fail a test that reached the system resolver (in pytest or in any subprocess)."""
    start = _GUARD_LOG.stat().st_size
    yield
    with _GUARD_LOG.open(encoding="utf-8") as fh:
        fh.seek(start)
        logged = fh.read()
    if logged:
        pytest.fail(f"the test reached outside DNS:\n{logged}", pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _GUARD_LOG.unlink(missing_ok=True)

settings.register_profile(
    "carrierkit",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("carrierkit")
