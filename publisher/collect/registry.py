"""The source kinds: ``kind name -> "module:attribute"`` of a :class:`~.base.Collector`.

The built-in kinds are listed exactly as another package's would be; adding a kind is one
line here (or one :func:`register` call from a plugin's import).
"""

from __future__ import annotations

import importlib

from publisher.collect.base import Collector
from publisher.errors import PublisherError, did_you_mean

KINDS: dict[str, str] = {
    "rss": "publisher.collect.rss:collector",
    "events-csv": "publisher.collect.events_csv:collector",
    "ical": "publisher.collect.ical:collector",
    "cap": "publisher.collect.cap:collector",
    "jma": "publisher.collect.jma:collector",
}


def register(kind: str, spec: str) -> None:
    """Add a kind: ``register("gtfs-alerts", "mypackage.gtfs:collector")``."""
    KINDS[kind] = spec


def collector_for(kind: str) -> Collector:
    """The collector of ``kind``; an unknown kind says which ones exist."""
    spec = KINDS.get(kind)
    if spec is None:
        raise PublisherError(
            f"unknown source kind '{kind}' (kinds: {', '.join(KINDS)})"
            f"{did_you_mean(kind, KINDS)}",
            field="kind",
        )
    module, attr = spec.split(":")
    collector: Collector = getattr(importlib.import_module(module), attr)
    return collector
