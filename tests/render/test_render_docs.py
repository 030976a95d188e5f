"""Each target's doc page shows real output: its examples must match what the renderer prints now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wifiq.render import load_render_input, render, targets

from .cases import all_cases
from .conftest import FIXTURES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "render"


def _examples(page: str) -> list[str]:
    section = page.split("## Complete example", 1)[1].split("\n## ", 1)[0]
    return [block.rstrip("\n") for block in re.findall(r"```[a-z]*\n(.*?)```", section, re.S)]


@pytest.mark.parametrize("target", sorted(targets()))
def test_doc_page_examples_are_current(target: str) -> None:
    page = DOCS / f"{target}.md"
    assert page.exists(), f"no doc page {page}"
    before = load_render_input(FIXTURES / "docs-before.json")
    after = load_render_input(FIXTURES / "docs-after.json")
    full, delta = _examples(page.read_text(encoding="utf-8"))
    assert full == render(target, before).rstrip("\n")
    assert delta == render(target, after, previous=before).rstrip("\n")
    for heading in ("## Where the output goes", "## Limits", "## Wiring `wifiq refresh` and `--delta` into cron"):
        assert heading in page.read_text(encoding="utf-8")


# A target plugged into the coexistence contract documents what the contract asks of its page.
CONTRACT_HEADINGS = ("## What it touches and never touches", "## Rollback", "## Vendor documentation", "## Verified how")


@pytest.mark.parametrize("target", sorted({case.target for case in all_cases()}))
def test_contract_targets_document_touches_rollback_vendor_doc_and_verification(target: str) -> None:
    page = (DOCS / f"{target}.md").read_text(encoding="utf-8")
    for heading in CONTRACT_HEADINGS:
        assert heading in page, f"docs/render/{target}.md has no {heading!r}"
    verified = page.split("## Verified how", 1)[1].split("\n## ", 1)[0].strip()
    assert verified and "\n\n" not in verified, "the 'Verified how' section is one paragraph"
