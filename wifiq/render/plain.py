"""Plain lists: one address per line, one file per family (``wifiq-epdg-v4.txt`` / ``-v6.txt``).

The feed format of PAN-OS External Dynamic Lists (IP), FortiGate external threat feeds and
pfSense/OPNsense URL Table (IPs) aliases: no comments (not every reader accepts them). The
device fetches the whole list, so a delta is the full output.
"""

from __future__ import annotations

from .base import Renderer, RendererInfo, join_sections
from .dscp import Dscp
from .model import RenderInput
from .names import NameRules

FILES = {4: "wifiq-epdg-v4.txt", 6: "wifiq-epdg-v6.txt"}
PANOS_EDL_LIMIT = 50000


class PlainRenderer(Renderer):
    """Address feeds (IPv4 file + IPv6 file)."""

    info = RendererInfo(
        name="plain",
        title="Plain address feeds",
        description="one address per line, per family: PAN-OS EDL, FortiGate external feed, pfSense/OPNsense URL table",
        protocols="addresses only (the device's rule says what to mark)",
        delta="full",
        comments=False,
        files=(FILES[4], FILES[6]),
        limits=(f"PAN-OS EDL: {PANOS_EDL_LIMIT} addresses per list",),
    )
    names = NameRules(max_length=32)

    def check(self, doc: RenderInput) -> None:
        super().check(doc)
        for version in (4, 6):
            count = len(doc.addresses(version))
            if count > PANOS_EDL_LIMIT:
                raise self.fail(f"PAN-OS EDL holds {PANOS_EDL_LIMIT} addresses", f"{count} IPv{version} addresses")

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        return join_sections({FILES[v]: "".join(f"{a}\n" for a in doc.addresses(v)) for v in (4, 6)})


RENDERER = PlainRenderer()
