"""IKEv2 reachability probes of ePDG addresses: the wire codec (:mod:`.ike`), the pure
decisions of one probe (:mod:`.decision`) and the asyncio driver (:mod:`.driver`)."""

from .decision import Outcome, Probe, ProbePolicy, ProbeResult
from .driver import ProbeOptions, probe, probe_async

__all__ = ["Outcome", "Probe", "ProbeOptions", "ProbePolicy", "ProbeResult", "probe", "probe_async"]
