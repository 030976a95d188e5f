"""Fixtures for the render tests: the two refreshes, and the golden-file option.

``pytest tests/render --update-goldens`` rewrites the files under tests/render/golden/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wifiq.render import RenderInput, load_render_input

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
GOLDEN = HERE / "golden"
UPDATE_COMMAND = ".venv/bin/python -m pytest tests/render --update-goldens"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", help="rewrite tests/render/golden/* from the renderers")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens", default=False))


@pytest.fixture(scope="session")
def current() -> RenderInput:
    """Refresh N: 6 operators, IPv4 + IPv6, a shared address, names needing sanitising."""
    return load_render_input(FIXTURES / "current.json")


@pytest.fixture(scope="session")
def following() -> RenderInput:
    """Refresh N+1: addresses added and removed, one operator gone, one new."""
    return load_render_input(FIXTURES / "next.json")
