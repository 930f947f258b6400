"""Collectors: district information that already lives elsewhere, turned into items.

Read :mod:`publisher.collect.base` for the contract, :mod:`publisher.collect.registry` for the
kinds and :mod:`publisher.collect.run` for what a run does. The scheduler calls
:func:`load_sources` and :func:`run_source`.

May import: the basics, ``runtime`` and ``store``.
"""

from publisher.collect.base import Collector, Entry, Skipped, Source
from publisher.collect.run import RunResult, collect, load_sources, run_source

__all__ = [
    "Collector",
    "Entry",
    "RunResult",
    "Skipped",
    "Source",
    "collect",
    "load_sources",
    "run_source",
]
