"""DNS resolution of ePDG names: pure decisions (:mod:`.decision`), an asyncio driver
(:mod:`.driver`) and the result types (:mod:`.lookup`, :mod:`.summary`)."""

from .decision import Query, Resolution, RetryPolicy
from .driver import ResolveOptions, ResolverSocketError, resolve, resolve_async
from .lookup import (
    RECORD_TYPES,
    Lookup,
    Outcome,
    ResolverAddress,
    ResolverCheck,
    parse_resolver,
    sort_addresses,
)
from .summary import NameSummary, summarize
from .system import NoResolverError, system_resolvers

__all__ = [
    "RECORD_TYPES",
    "Lookup",
    "NameSummary",
    "NoResolverError",
    "Outcome",
    "Query",
    "Resolution",
    "ResolveOptions",
    "ResolverAddress",
    "ResolverCheck",
    "ResolverSocketError",
    "RetryPolicy",
    "parse_resolver",
    "resolve",
    "resolve_async",
    "sort_addresses",
    "summarize",
    "system_resolvers",
]
