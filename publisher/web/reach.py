"""Counting readers on the public side, at a cost the hot read path does not notice.

Every public answer of 200 or 304 is noted — by :class:`CountingMiddleware` for what Flask
answers, and by the server's read cache (:class:`publisher.web.caching.ReadCache`'s
``on_hit``) for what it answers from the loop: an item page is a page view per (item,
language); a feed (RSS, Atom, iCal) is a request of a reader, counted once per distinct client
per day (see :mod:`publisher.store.reach`: a salted hash held in memory only). The counts
stay in memory and a thread writes them every :data:`FLUSH_EVERY_S` seconds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from publisher.items import utcnow
from publisher.plan.screens import EMERGENCY_LANGS
from publisher.runtime import Runtime
from publisher.store.db import DatabaseClosed
from publisher.store.reach import Counters

log = logging.getLogger(__name__)

FLUSH_EVERY_S = 60
_ITEM = re.compile(r"^/items/(\d{1,9})$")
_FEED = re.compile(r"^/feeds/([a-z0-9/-]+)\.(rss|atom|ics)$")


def counters(rt: Runtime) -> Counters:
    """This process's counters for ``rt``, with their flushing thread."""
    found = rt.__dict__.get("_reach_counters")
    if found is None:
        created = Counters()
        found = rt.__dict__.setdefault("_reach_counters", created)
        if found is created:
            rt.on_close(lambda: flush(rt))  # the last counts, before the database closes
    return found


def start_flushing(rt: Runtime, every_s: float = FLUSH_EVERY_S) -> threading.Event:
    """Write the counts every ``every_s`` seconds from a daemon thread; set the event to stop
    (a last flush follows)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every_s):
            flush(rt)
        flush(rt)

    threading.Thread(target=run, name="publisher-reach", daemon=True).start()
    rt.on_close(stop.set)
    return stop


def flush(rt: Runtime) -> None:
    try:
        counters(rt).flush(rt.session)
    except DatabaseClosed:
        log.warning("reach counts not written: this runtime's database is closed")
    except Exception:
        log.exception("writing reach counts failed; kept for the next try")


def note(rt: Runtime, path: str, query: str, address: str, agent: str, at: datetime) -> None:
    """Count one public answer of ``path`` (200 or 304)."""
    if m := _ITEM.match(path):
        lang = (parse_qs(query).get("lang") or ["ja"])[0]
        counters(rt).view(int(m[1]), lang if lang in EMERGENCY_LANGS else "ja", at)
    elif m := _FEED.match(path):
        stem = m[1]
        area = stem if stem in rt.tree else stem.rsplit("/", 1)[0]
        if area in rt.tree:
            counters(rt).reader(area, m[2], address, agent, at)


class CountingMiddleware:
    """WSGI: notes each public answer of 200 or 304 (see :func:`note`)."""

    def __init__(
        self,
        app: Any,
        rt: Runtime,
        clock: Callable[[], datetime] = utcnow,
        autoflush: Callable[[], bool] = lambda: True,
    ):
        self.app, self.rt, self.clock, self.autoflush = app, rt, clock, autoflush
        self.flushing: threading.Event | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(("/items/", "/feeds/")):
            return self.app(environ, start_response)

        def counting(status: str, headers: Any, *rest: Any) -> Any:
            if status[:3] in ("200", "304"):
                self.count(path, environ)
            return start_response(status, headers, *rest)

        return self.app(environ, counting)

    def count(self, path: str, environ: dict[str, Any]) -> None:
        if self.flushing is None and self.autoflush():  # tests flush when they choose
            self.flushing = start_flushing(self.rt)
        note(
            self.rt,
            path,
            environ.get("QUERY_STRING", ""),
            environ.get("REMOTE_ADDR", ""),
            environ.get("HTTP_USER_AGENT", ""),
            self.clock(),
        )
