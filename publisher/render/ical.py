"""The iCalendar feed of an area's events (icalendar): plain values in, bytes out.

Pure. Times are Asia/Tokyo with a VTIMEZONE (calendars abroad show them right), all-day events
are DATE values, every event has a stable UID ``item-<id>@<host>`` (a calendar updates the
entry in place when staff change it; SEQUENCE follows the item's revision), and drills carry
the 【訓練】 mark in their SUMMARY exactly as on the screens.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event, Timezone, vGeo

from publisher.areas import Area
from publisher.items import CATEGORIES, JST, Item
from publisher.plan.residents import marked_title, updated_at
from publisher.render.feeds import item_url, summary

PRODID = "-//Setagaya district publisher//residents//JA"
TZID = "Asia/Tokyo"


def uid(item_id: int | None, base_url: str) -> str:
    return f"item-{item_id}@{urlsplit(base_url).hostname or 'localhost'}"


def render_calendar(events: Iterable[Item], area: Area, base_url: str) -> bytes:
    """``/feeds/<area>.ics``: one VEVENT per event, in the ward's time."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{area.short_name}の行事")
    cal.add("x-wr-caldesc", f"{area.display_name}が発信する行事・訓練の予定")
    cal.add("x-wr-timezone", TZID)
    cal.add_component(Timezone.from_tzid(TZID))
    for item in events:
        if item.event_starts_at is None:
            continue
        cal.add_component(_event(item, base_url))
    data: bytes = cal.to_ical()
    return data


def _event(item: Item, base_url: str) -> Event:
    ev = Event()
    url = item_url(base_url, item.id)
    ev.add("uid", uid(item.id, base_url))
    ev.add("dtstamp", updated_at(item).astimezone(UTC))
    ev.add("last-modified", updated_at(item).astimezone(UTC))
    ev.add("sequence", max(0, item.revision - 1))
    start = item.event_starts_at
    assert start is not None
    end = item.event_ends_at
    if item.all_day:
        first = start.astimezone(JST).date()
        ev.add("dtstart", first)
        last = end.astimezone(JST).date() if end else first + timedelta(days=1)
        ev.add("dtend", max(last, first + timedelta(days=1)))
    else:
        ev.add("dtstart", _tokyo(start))
        if end is not None:
            ev.add("dtend", _tokyo(end))
    ev.add("summary", marked_title(item))
    ev.add("description", f"{summary(item)}\n{url}")
    ev.add("url", url)
    if item.place:
        location = item.place.name
        if item.place.address:
            location += f"（{item.place.address}）"
        ev.add("location", location)
        if item.place.lat is not None and item.place.lon is not None:
            ev.add("geo", vGeo((item.place.lat, item.place.lon)))
    if item.category:
        ev.add("categories", [CATEGORIES[item.category]])
    ev.add("status", "CONFIRMED")
    return ev


def _tokyo(value: datetime) -> datetime:
    return value.astimezone(JST)
