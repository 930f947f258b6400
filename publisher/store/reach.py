"""Reach: how residents were reached, counted per ward day, never who.

- **scans**: a QR short link ``/q/i42~en~daizawa-1`` followed: +1 for (item, language, screen);
  a poster's ``/q/p42~en``: +1 for (item, language) with ``format`` ``poster``;
- **page views**: an item page shown, per (item, language);
- **feed readers**: distinct clients of an area's feed per format: a client is the SHA-256 of
  (a salt, its address, its User-Agent); the salt is random, held in memory only and replaced
  each ward day, so no hash can be matched across days or to anyone, and only the number of
  distinct hashes is written (one row per process, ``part``; a reader that reaches two
  processes of a day counts in each);
- **SNS posts** are read from the outbox, not counted here.

Counting costs the reader nothing: :class:`Counters` keeps counts in memory and
:meth:`Counters.flush` writes them (adding to what is stored) every minute from a thread.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from publisher.store.models import ReachDailyRow
from publisher.store.plays import insert_for, reach_row, ward_day

# What one daily count is kept per (the table's unique key).
KEY_COLUMNS = ["day", "kind", "item_id", "lang", "screen_id", "area_code", "format", "part"]


def add_counts(session: Session, rows: list[dict[str, Any]]) -> None:
    """Add each row's ``count`` to what is stored for its key."""
    if not rows:
        return
    stmt = insert_for(session)(ReachDailyRow)
    stmt = stmt.on_conflict_do_update(
        index_elements=KEY_COLUMNS,
        set_={"count": ReachDailyRow.count + stmt.excluded.count},
    )
    session.execute(stmt, rows)


def set_readers(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store each row's distinct-reader count for its key (the larger of old and new)."""
    if not rows:
        return
    stmt = insert_for(session)(ReachDailyRow)
    greatest = stmt.excluded.count
    stmt = stmt.on_conflict_do_update(
        index_elements=KEY_COLUMNS,
        set_={"count": greatest},
        where=ReachDailyRow.count < greatest,
    )
    session.execute(stmt, rows)


POSTER = "poster"  # a scan's ``format`` when its code was printed on a poster


def count_scan(
    session: Session, item_id: int, lang: str, screen_id: str, at: datetime, medium: str = ""
) -> None:
    """One scan of an item's QR code in ``lang`` from ``screen_id`` ("" when not a screen's);
    ``medium``: :data:`POSTER` for a poster's code (kept in the ``format`` column)."""
    row = reach_row(
        ward_day(at), "scan", item_id=item_id, lang=lang, screen_id=screen_id, format=medium
    )
    add_counts(session, [{**row, "count": 1}])


class Counters:
    """Page views and feed readers of one process, held in memory until :meth:`flush`."""

    def __init__(self) -> None:
        self.part = secrets.token_hex(8)  # this process's rows of distinct feed readers
        self._lock = threading.Lock()
        self._views: Counter[tuple[str, int, str]] = Counter()
        self._day = ""
        self._salt = b""
        self._readers: dict[tuple[str, str], set[bytes]] = {}
        self._dirty: set[tuple[str, str]] = set()

    def view(self, item_id: int, lang: str, at: datetime) -> None:
        with self._lock:
            self._views[(ward_day(at), item_id, lang)] += 1

    def reader(self, area: str, fmt: str, address: str, agent: str, at: datetime) -> None:
        """A feed request; counted once per distinct (address, User-Agent) per day."""
        day = ward_day(at)
        with self._lock:
            if day != self._day:
                self._day, self._salt = day, secrets.token_bytes(16)
                self._readers = {k: v for k, v in self._readers.items() if k[0] == day}
            digest = hashlib.sha256(
                self._salt + address.encode() + b"\0" + agent.encode("utf-8", "replace")
            ).digest()[:12]
            seen = self._readers.setdefault((area, fmt), set())
            if digest not in seen:
                seen.add(digest)
                self._dirty.add((area, fmt))

    def flush(self, session_factory: Callable[[], Any]) -> None:
        """Write what was counted since the last flush."""
        with self._lock:
            views, self._views = self._views, Counter()
            dirty, self._dirty = self._dirty, set()
            readers = [(self._day, k, len(self._readers.get(k, ()))) for k in dirty]
        if not views and not readers:
            return
        try:
            with session_factory() as session:
                add_counts(
                    session,
                    [
                        reach_row(day, "view", item_id=item, lang=lang, count=n)
                        for (day, item, lang), n in views.items()
                    ],
                )
                set_readers(
                    session,
                    [
                        reach_row(day, "feed", area_code=a, format=f, part=self.part, count=n)
                        for day, (a, f), n in readers
                    ],
                )
        except Exception:
            with self._lock:  # keep them for the next flush
                self._views.update(views)
                self._dirty |= dirty
            raise
