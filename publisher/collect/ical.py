"""Kind ``ical``: iCalendar files (a neighbourhood association's calendar), with recurrence.

Recurring events (RRULE, RDATE, EXDATE, moved occurrences) are expanded with
``recurring-ical-events`` over a horizon: from now to ``horizon_days`` ahead (option, default
60). Each occurrence becomes one event item, external id ``UID@occurrence-start``, shown from
``lead_days`` before it (option, default 14) until it ends. Times keep their zone; floating
times are the ward's; a DATE start is an all-day event. Cancelled occurrences are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from publisher.areas import AreaTree
from publisher.collect.base import (
    PLACE_NAME_MAX,
    Entry,
    Skipped,
    Source,
    clip,
    fetch_bytes,
    in_language,
    tidy,
)
from publisher.errors import PublisherError
from publisher.items import JST

HORIZON_DAYS = 60
LEAD_DAYS = 14


def _moment(value: Any) -> tuple[datetime, bool]:
    """(aware datetime, all-day?) of a DTSTART/DTEND value."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=JST)), False
    if isinstance(value, date):
        return datetime.combine(value, time(), JST), True
    raise ValueError(f"{value!r} is not a date or date-time")


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    return tidy(str(value)) if value is not None else ""


class IcalCollector:
    def fetch(self, source: Source, http: Any) -> bytes:
        return fetch_bytes(source, http)

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterator[Entry | Skipped]:
        where = source.location
        horizon = timedelta(days=source.option("horizon_days", HORIZON_DAYS))
        lead = timedelta(days=source.option("lead_days", LEAD_DAYS))
        try:
            calendar = icalendar.Calendar.from_ical(data)
        except Exception as e:  # icalendar raises ValueError, KeyError, IndexError, ...
            raise PublisherError(f"{where}: not an iCalendar file ({_why(e)})") from None
        if not isinstance(calendar, icalendar.Calendar):
            raise PublisherError(f"{where}: not an iCalendar file (no VCALENDAR)")
        skipped: list[Skipped] = []
        try:
            occurrences = list(recurring_ical_events.of(calendar).between(now, now + horizon))
        except Exception as e:  # one broken series: expand the rest without it
            skipped.append(Skipped("calendar", f"a series could not be expanded ({_why(e)})"))
            try:
                occurrences = list(
                    recurring_ical_events.of(calendar, skip_bad_series=True).between(
                        now, now + horizon
                    )
                )
            except Exception as e2:
                raise PublisherError(f"{where}: cannot expand its events ({_why(e2)})") from None
        yield from skipped
        for occurrence in occurrences:
            yield self._entry(source, occurrence, lead)

    def _entry(self, source: Source, event: Any, lead: timedelta) -> Entry | Skipped:
        uid = _text(event, "UID")
        try:
            starts, all_day = _moment(event.get("DTSTART").dt)
            end_value = event.get("DTEND")
            ends = _moment(end_value.dt)[0] if end_value is not None else None
        except (AttributeError, ValueError, TypeError) as e:
            return Skipped(f"event {uid or '(no UID)'}", f"DTSTART: {_why(e)}")
        label = f"event {uid or '(no UID)'} at {starts.isoformat()}"
        if not uid:
            return Skipped(label, "UID: the event has no UID")
        if ends is None or ends <= starts:
            ends = starts + (timedelta(days=1) if all_day else timedelta(hours=1))
        if _text(event, "STATUS").upper() == "CANCELLED":
            return Skipped(label, "STATUS: the occurrence is cancelled")
        title = _text(event, "SUMMARY")
        if not title:
            return Skipped(label, "SUMMARY: the event has no title")
        titles, bodies = in_language(source, title, _text(event, "DESCRIPTION"))
        location = _text(event, "LOCATION")
        url = _text(event, "URL")
        fields: dict[str, Any] = {
            "kind": "event",
            "title": titles,
            "body": bodies,
            "starts_at": starts - lead,
            "ends_at": ends,
            "event": {"starts_at": starts, "ends_at": ends, "all_day": all_day},
            "place": {"name": clip(location, PLACE_NAME_MAX)} if location else None,
            "detail_url": url if url.startswith(("https://", "http://")) else None,
        }
        key = starts.date().isoformat() if all_day else starts.isoformat()
        return Entry(f"{uid}@{key}", label, fields)


def _why(e: Exception) -> str:
    return (str(e) or type(e).__name__).splitlines()[0][:200]


collector = IcalCollector()
