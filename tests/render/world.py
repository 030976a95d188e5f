"""World-like render inputs: thousands of operators listed, few with addresses (as a world or
country refresh is). Documentation addresses only (203.0.113.0/24, 2001:db8::/32)."""

from __future__ import annotations

from typing import Any


def world_document(operators: int = 3000, every: int = 100, *, addressless: bool = True, hour: int = 0,
                   moved: int = 0) -> dict[str, Any]:
    """A refresh document of ``operators`` PLMNs (``200-00`` …), one in ``every`` with an IPv4
    and an IPv6 address (``moved`` shifts those addresses: a later refresh); ``addressless=False``
    leaves the operators without addresses out (the same configuration, nothing else listed)."""
    ops = []
    for i in range(operators):
        has = i % every == 0
        if not has and not addressless:
            continue
        n = i // every + 1 + moved
        ops.append({
            "plmn": f"{200 + i // 100}-{i % 100:02d}",
            "brand": f"Op{i}",
            "operator": None,
            "active": [f"203.0.113.{n}", f"2001:db8:2::{n:x}"] if has else [],
            "added": [],
            "removed": [],
            "failed": [],
        })
    return {"status": "ok", "refreshed_at": f"2026-12-06T{hour:02d}:00:00Z", "wifiq_version": "0.1.0", "operators": ops}
