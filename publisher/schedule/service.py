"""One scheduler per deployment: each process stands by, the one holding the leader lock runs
the :class:`~publisher.schedule.scheduler.Scheduler`, and writers tell it what changed.

Web processes never add jobs: they write rows, and :func:`on_items_changed` (a change listener)
tells the leader — directly when it lives in the same process, with PostgreSQL ``NOTIFY``
otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import text

from publisher.runtime import Runtime
from publisher.schedule.leader import CHANGES_CHANNEL, Leadership, lock_for
from publisher.schedule.scheduler import Scheduler
from publisher.timetable import load_schedule

NOTIFY_PAYLOAD_MAX = 7900  # PostgreSQL refuses 8000 bytes and more

_ACTIVE: Scheduler | None = None
_SERVICE: Service | None = None
_SERVICE_LOCK = threading.Lock()


class Service:
    """A process's place in the election: a standby that runs a :class:`Scheduler` while it
    holds the leader lock."""

    def __init__(self, rt: Runtime, **scheduler_options: Any):
        self.rt = rt
        self.options = scheduler_options
        self.scheduler: Scheduler | None = None
        lock = lock_for(rt.settings.database_url, rt.settings.data_dir, self._notified)
        self.leadership = Leadership(lock, self._elected, self._lost)

    def start(self) -> Service:
        load_schedule(self.rt.settings["SCHEDULES_DIR"])  # a bad timetable fails here, loudly
        self.leadership.start()
        return self

    def stop(self) -> None:
        self.leadership.stop()

    def _elected(self) -> None:
        global _ACTIVE
        self.scheduler = Scheduler(self.rt, **self.options)
        self.scheduler.start()
        _ACTIVE = self.scheduler

    def _lost(self) -> None:
        global _ACTIVE
        if self.scheduler is not None:
            if _ACTIVE is self.scheduler:
                _ACTIVE = None
            self.scheduler.shutdown()
            self.scheduler = None

    def _notified(self, payload: str) -> None:
        ids = {int(x) for x in payload.split(",") if x.strip().isdigit()}
        if ids and self.scheduler is not None:
            self.scheduler.on_change(ids)


def start_in_process(rt: Runtime, **scheduler_options: Any) -> Service:
    """The one scheduler service of this process (``publisher serve`` and ``worker``)."""
    global _SERVICE
    with _SERVICE_LOCK:
        if _SERVICE is None:
            _SERVICE = Service(rt, **scheduler_options).start()
        return _SERVICE


def on_items_changed(rt: Runtime, item_ids: set[int]) -> None:
    """Change listener: tell the leader, wherever it runs."""
    active = _ACTIVE
    if active is not None and active.rt.settings.database_url == rt.settings.database_url:
        active.on_change(item_ids)
    elif not rt.db.is_sqlite:
        notify_changes(rt, item_ids)


def notify_changes(rt: Runtime, item_ids: Iterable[int]) -> None:
    """``NOTIFY`` the leader with the ids (never bodies: payloads stay under 8000 bytes)."""
    chunks, current = [], ""
    for item_id in sorted(item_ids):
        part = str(item_id)
        if len(current) + len(part) + 1 > NOTIFY_PAYLOAD_MAX:
            chunks.append(current)
            current = ""
        current = f"{current},{part}" if current else part
    if current:
        chunks.append(current)
    with rt.db.engine.begin() as conn:
        for chunk in chunks:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": CHANGES_CHANNEL, "payload": chunk},
            )
