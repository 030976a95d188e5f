"""Cisco Meraki MR: one SSID traffic-shaping rule for every operator, merged into the device's rules.

``PUT /networks/{id}/wireless/ssids/{n}/trafficShaping/rules`` replaces the SSID's whole rule
list, so wifiq never PUTs a list of its own: it renders ONE rule (all ePDG addresses as
``ipRange`` definitions, ``dscpTagValue`` + ``pcpTagValue``) and, given the device's current
rules (the GET of the same URL, :func:`merge_rule`), the PUT body that keeps every rule the user
made, replaces only the rule wifiq made before (recognised by its marker definition, a host in
the ``.invalid`` TLD that RFC 6761 guarantees never resolves, so it matches no traffic), puts it
first (Meraki applies rules in list order) and never touches ``defaultRulesEnabled``. Meraki
rules cannot name a protocol next to an address: all traffic to/from the ePDGs is marked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import Renderer, RendererInfo
from .dscp import Dscp
from .errors import RenderInputError, TargetLimitError
from .model import RenderInput
from .names import NameRules
from .options import OptionSpec

#: Meraki allows 8 traffic-shaping rules per SSID ("Note that you are allowed a maximum of 8 rules").
MAX_RULES = 8
#: The DSCP values wifiq lets through without the network's own list: the standard code points
#: (0, CS1–CS7, AF11–AF43, EF). Meraki's API names the authority — "For a list of possible tag
#: values, use the trafficShaping/dscpTaggingOptions endpoint" — and ``--option
#: dscp-options=FILE`` (that GET's body) checks against the network's list instead.
DSCP_TAGGING_OPTIONS = (0, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56)
_MARKER_TLD = ".invalid"


class MerakiRenderer(Renderer):
    """Meraki Dashboard API: one traffic-shaping rule, or the merged PUT body."""

    info = RendererInfo(
        name="meraki",
        title="Cisco Meraki MR (Dashboard API)",
        description="one SSID traffic-shaping rule for all operators (dscpTagValue + pcpTagValue), merged into the device's rules",
        protocols="all traffic to/from the addresses (Meraki rules cannot name a protocol with an address)",
        delta="full",
        comments=False,
        extension="json",
        limits=(
            f"at most {MAX_RULES} rules per SSID: wifiq's one plus the device's own",
            "DSCP only from Meraki's dscpTaggingOptions: " + ", ".join(map(str, DSCP_TAGGING_OPTIONS)),
        ),
        options=(
            OptionSpec(
                "merge-from",
                "",
                "the SSID's current rules (the GET of trafficShaping/rules, a file): output the merged PUT body",
                pattern=r"[^\x00\n]{1,4096}",
            ),
            OptionSpec(
                "dscp-options",
                "",
                "the network's GET trafficShaping/dscpTaggingOptions (a file): --dscp must be one of its values",
                pattern=r"[^\x00\n]{1,4096}",
            ),
        ),
        prefix=True,
    )
    names = NameRules(max_length=127, allowed="a-z0-9-", case="lower")

    @property
    def marker(self) -> dict[str, str]:
        """The definition that tells wifiq's rule from the user's (matches no traffic)."""
        return {"type": "host", "value": self.names.fixed("epdg") + _MARKER_TLD}

    def allowed_dscp(self) -> tuple[int, ...]:
        """The DSCP values a rule may carry: the network's list (``--option dscp-options``) or
        the standard code points."""
        path = self.options.get("dscp-options")
        if not path:
            return DSCP_TAGGING_OPTIONS
        doc = self._json_file(path, "dscp-options")
        values = [item.get("dscpTagValue") for item in doc] if isinstance(doc, list) and all(isinstance(i, dict) for i in doc) else None
        if not values or not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 63 for v in values):
            raise RenderInputError(path, "dscpTagValue", "expected the GET body of dscpTaggingOptions (a list of {dscpTagValue, description})")
        return tuple(sorted(set(values)))

    def check_dscp(self, dscp: Dscp) -> None:
        """Refuse a DSCP that Meraki does not offer (its API would reject the PUT)."""
        allowed = self.allowed_dscp()
        if dscp.value not in allowed:
            raise self.fail(
                "Meraki's dscpTaggingOptions",
                f"DSCP {dscp} is not one Meraki accepts (allowed: {', '.join(map(str, allowed))})",
            )

    def rule(self, doc: RenderInput, dscp: Dscp) -> dict[str, Any]:
        """wifiq's one rule: the marker, then every active address (IPv4 first)."""
        self.check_dscp(dscp)
        return {
            "definitions": [self.marker, *({"type": "ipRange", "value": str(a)} for a in doc.addresses())],
            "perClientBandwidthLimits": {"settings": "network default"},
            "dscpTagValue": dscp.value,
            "pcpTagValue": dscp.user_priority,
        }

    def owns(self, rule: object) -> bool:
        """True for a rule wifiq rendered (it carries the marker definition)."""
        definitions = rule.get("definitions") if isinstance(rule, dict) else None
        return isinstance(definitions, list) and self.marker in definitions

    def merge_rule(self, device: dict[str, Any], rule: dict[str, Any] | None, source: str = "device rules") -> dict[str, Any]:
        """The PUT body: the device's GET body with wifiq's rule first (replacing its older one).

        ``rule`` None removes wifiq's rule (nothing to mark). Every other field and rule is kept
        as the device returned it, ``defaultRulesEnabled`` and ``trafficShapingEnabled``
        included. An SSID with traffic shaping off is refused: rules do nothing there, and
        turning it on would also start the SSID's own and Meraki's default rules (the user's call).
        """
        if rule is not None and device.get("trafficShapingEnabled") is not True:
            raise self.fail(
                "traffic shaping must be on for the SSID",
                f"{source}: traffic shaping is off on this SSID (turning it on would also start its other rules): "
                "turn it on in the Dashboard first",
            )
        rules = device.get("rules", [])
        if not isinstance(rules, list):
            raise TargetLimitError(self.info.name, "the GET body of trafficShaping/rules", f"{source}: 'rules' is not a list")
        theirs = [r for r in rules if not self.owns(r)]
        merged = ([rule] if rule is not None else []) + theirs
        if len(merged) > MAX_RULES:
            raise self.fail(
                f"Meraki allows {MAX_RULES} traffic-shaping rules per SSID",
                f"{source} already holds {len(theirs)} rules of its own: no room for wifiq's",
            )
        return {**device, "rules": merged}

    @staticmethod
    def _json_file(path: str, option: str) -> Any:
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise RenderInputError(path, option, err.strerror or str(err)) from None
        except ValueError as err:
            raise RenderInputError(path, option, f"not JSON: {err}") from None

    def device_rules(self, path: str) -> dict[str, Any]:
        """The SSID's current settings from ``--option merge-from=FILE`` (the GET's JSON body)."""
        body = self._json_file(path, "merge-from")
        if not isinstance(body, dict) or not isinstance(body.get("rules", []), list):
            raise RenderInputError(path, "rules", "expected the GET body of trafficShaping/rules (an object with a rules list)")
        return body

    def full(self, doc: RenderInput, dscp: Dscp) -> str:
        rule = self.rule(doc, dscp)
        source = self.options.get("merge-from")
        if source:
            return json.dumps(self.merge_rule(self.device_rules(source), rule, source), indent=2) + "\n"
        return json.dumps(rule, indent=2) + "\n"


RENDERER = MerakiRenderer()
