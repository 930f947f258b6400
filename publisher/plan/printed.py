"""What goes on paper: the week a district bulletin covers and the items it lists.

Pure: candidates come from the store (approved or expired items seen in the area — its own,
its region's, the ward's); this decides which belong to the week and in what order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from publisher.errors import PublisherError
from publisher.items import JST, Item

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
POSTER_SIZES = ("A4", "A3")


@dataclass(frozen=True)
class Week:
    """Monday 00:00 to the next Monday 00:00, ward time."""

    monday: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.monday, time(0), tzinfo=JST)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    @property
    def label(self) -> str:
        iso = self.monday.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"

    def days(self) -> list[date]:
        return [self.monday + timedelta(days=i) for i in range(7)]


def week_of(value: str | None, now: datetime) -> Week:
    """``2026-W48``, a day in the week (``2026-11-25``), or this week when empty."""
    if not value:
        day = now.astimezone(JST).date()
    elif m := _ISO_WEEK.match(value):
        try:
            day = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise PublisherError(f"week: no week {value}", field="week") from None
    elif _DAY.match(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise PublisherError(f"week: no day {value}", field="week") from None
    else:
        raise PublisherError(
            f"week: {value!r} is neither an ISO week (2026-W48) nor a day (2026-11-25)",
            field="week",
        )
    if not 2000 <= day.year <= 2100:
        raise PublisherError("week: the year must be between 2000 and 2100", field="week")
    return Week(day - timedelta(days=day.weekday()))


def _shown_during(item: Item, start: datetime, end: datetime) -> bool:
    opened = item.starts_at or item.approved_at
    return (opened is None or opened < end) and (item.ends_at is None or item.ends_at > start)


def _happens_during(item: Item, start: datetime, end: datetime) -> bool:
    if item.event_starts_at is None:
        return False
    last = item.event_ends_at or item.event_starts_at + timedelta(seconds=1)
    return item.event_starts_at < end and last > start


def bulletin_items(candidates: Iterable[Item], week: Week) -> tuple[list[Item], list[Item]]:
    """``(events, notices)`` of the week: events happening in it (soonest first), notices
    posted during it (newest first). Alerts are not printed: paper cannot be withdrawn."""
    start, end = week.start, week.end
    events, notices = [], []
    for item in candidates:
        if item.status not in ("approved", "expired") or not item.is_public:
            continue
        if item.kind == "event" and _happens_during(item, start, end):
            events.append(item)
        elif item.kind == "notice" and _shown_during(item, start, end):
            notices.append(item)
    events.sort(key=lambda i: (i.event_starts_at, i.id))
    epoch = datetime(1970, 1, 1, tzinfo=JST)
    notices.sort(key=lambda i: (i.starts_at or i.approved_at or epoch, i.id or 0), reverse=True)
    return events, notices


def poster_size(value: str | None) -> str:
    size = (value or "A4").upper()
    if size not in POSTER_SIZES:
        raise PublisherError(f"size: {value!r} is not A4 or A3", field="size")
    return size
