"""Kind ``ical``: iCalendar files (a neighbourhood association's calendar), with recurrence.

Recurring events (RRULE, RDATE, EXDATE, moved occurrences) are expanded with
``recurring-ical-events`` over a horizon: from now to ``horizon_days`` ahead (option, default
60, at most 366). A neighbourhood calendar has nothing that recurs more often than daily: a
series that does (``FREQ=SECONDLY``/``MINUTELY``/``HOURLY``, or several ``BYHOUR``/``BYMINUTE``/
``BYSECOND`` values a day) is skipped with a note, and no series gives more than
``max_occurrences`` (option, default 100) items. Each occurrence becomes one event item, external id ``UID@occurrence-start``, shown from
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
    MAX_ENTRIES_PER_RUN,
    PLACE_NAME_MAX,
    Entry,
    Skipped,
    Source,
    clip,
    fetch_bytes,
    in_language,
    tidy,
)
from publisher.collect.html_text import html_to_text
from publisher.errors import PublisherError
from publisher.items import JST

HORIZON_DAYS = 60
HORIZON_DAYS_MAX = 366
LEAD_DAYS = 14
MAX_OCCURRENCES = 100
_SUB_DAILY = ("SECONDLY", "MINUTELY", "HOURLY")


def _too_frequent(event: Any) -> str | None:
    """Why a series repeats more often than once a day (or has a rule that cannot be read),
    or None."""
    try:
        return _sub_daily(event)
    except Exception as e:  # icalendar raises its own errors for a damaged property
        return f"RRULE: cannot be read ({_why(e)})"


def _sub_daily(event: Any) -> str | None:
    rules = event.get("RRULE")
    if rules is None:
        return None
    for rule in rules if isinstance(rules, list) else [rules]:
        freq = str((rule.get("FREQ") or [""])[0]).upper()
        if freq in _SUB_DAILY:
            return f"RRULE: FREQ={freq} repeats more often than daily"
        per_day = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            per_day *= max(1, len(rule.get(part) or []))
        if per_day > 1:
            return f"RRULE: {per_day} occurrences a day (BYHOUR/BYMINUTE/BYSECOND)"
    return None


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
        horizon_days = source.option("horizon_days", HORIZON_DAYS)
        if horizon_days > HORIZON_DAYS_MAX:
            raise PublisherError(
                f"must be at most {HORIZON_DAYS_MAX}, not {horizon_days}",
                where=f"sources.{source.name}.options.horizon_days",
            )
        horizon = timedelta(days=horizon_days)
        per_series = source.option("max_occurrences", MAX_OCCURRENCES)
        lead = timedelta(days=source.option("lead_days", LEAD_DAYS))
        try:
            calendar = icalendar.Calendar.from_ical(data)
        except Exception as e:  # icalendar raises ValueError, KeyError, IndexError, ...
            raise PublisherError(f"{where}: not an iCalendar file ({_why(e)})") from None
        if not isinstance(calendar, icalendar.Calendar):
            raise PublisherError(f"{where}: not an iCalendar file (no VCALENDAR)")
        skipped: list[Skipped] = []
        for event in list(calendar.walk("VEVENT")):
            why = _too_frequent(event)
            if why is not None:
                skipped.append(Skipped(f"series {_text(event, 'UID') or '(no UID)'}", why))
                _remove(calendar, event)
        limit = source.option("max_items", MAX_ENTRIES_PER_RUN)
        try:
            occurrences = _expand(calendar, now, now + horizon, limit, skip_bad_series=False)
        except Exception as e:  # one broken series: expand the rest without it
            skipped.append(Skipped("calendar", f"a series could not be expanded ({_why(e)})"))
            try:
                occurrences = _expand(calendar, now, now + horizon, limit, skip_bad_series=True)
            except Exception as e2:
                raise PublisherError(f"{where}: cannot expand its events ({_why(e2)})") from None
        yield from skipped
        counts: dict[str, int] = {}
        for occurrence in occurrences:
            uid = _text(occurrence, "UID")
            counts[uid] = counts.get(uid, 0) + 1
            if counts[uid] == per_series + 1:
                yield Skipped(
                    f"series {uid or '(no UID)'}",
                    f"more than {per_series} occurrences within {horizon_days} days: "
                    "only the first were kept",
                )
            if counts[uid] <= per_series:
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
        url = _text(event, "URL")
        url = url if url.startswith(("https://", "http://")) else ""
        description = event.get("DESCRIPTION")
        description = str(description) if description is not None else ""
        # Google Calendar writes HTML into DESCRIPTION: text with paragraphs and links; without
        # a URL of its own, the event's first link is its detail link
        plain = html_to_text(description, url or None)
        if not url and plain.links:
            url = plain.links[0]
            plain = html_to_text(description, url)
        titles, bodies = in_language(source, html_to_text(title).text, plain.text)
        location = html_to_text(_text(event, "LOCATION")).text
        fields: dict[str, Any] = {
            "kind": "event",
            "title": titles,
            "body": bodies,
            "starts_at": starts - lead,
            "ends_at": ends,
            "event": {"starts_at": starts, "ends_at": ends, "all_day": all_day},
            "place": {"name": clip(location, PLACE_NAME_MAX)} if location else None,
            "detail_url": url or None,
        }
        key = starts.date().isoformat() if all_day else starts.isoformat()
        return Entry(f"{uid}@{key}", label, fields)


def _expand(
    calendar: Any, start: datetime, end: datetime, limit: int, *, skip_bad_series: bool
) -> list[Any]:
    """The occurrences overlapping [start, end), in time order, at most ``limit`` + 1 of them
    (expanded lazily: a calendar never costs more than what is kept)."""
    out: list[Any] = []
    query = recurring_ical_events.of(calendar, skip_bad_series=skip_bad_series)
    for occurrence in query.after(start):
        try:
            begins = _moment(occurrence.get("DTSTART").dt)[0]
        except (AttributeError, ValueError, TypeError):
            begins = start  # _entry reports it
        if begins >= end or len(out) > limit:
            break
        out.append(occurrence)
    return out


def _remove(calendar: Any, event: Any) -> None:
    """Take ``event`` out of whichever component holds it."""
    for component in calendar.walk():
        if any(c is event for c in component.subcomponents):
            component.subcomponents = [c for c in component.subcomponents if c is not event]
            return


def _why(e: Exception) -> str:
    return (str(e) or type(e).__name__).splitlines()[0][:200]


collector = IcalCollector()
