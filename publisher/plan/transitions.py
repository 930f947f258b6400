"""Pure: the instants at which a screen must change because time alone moved on.

An approved item enters screens at ``starts_at``, leaves at ``ends_at``, and, when it has
dayparts, enters and leaves at each daypart boundary inside its window. The scheduler plans
one job at each such instant (not a minute poll) over a rolling horizon; these functions say
which instants and which items, from plain :class:`~publisher.items.Item` values and a
given ``now``, touching no database and no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from publisher.areas import AreaTree
from publisher.items import Item


def item_instants(item: Item, after: datetime, until: datetime, tz: ZoneInfo) -> list[datetime]:
    """The instants in ``(after, until]`` at which ``item`` enters or leaves screens."""
    if item.status != "approved" or not item.is_public:
        return []
    found: set[datetime] = set()
    for edge in (item.starts_at, item.ends_at):
        if edge is not None and after < edge <= until:
            found.add(edge)
    for local_day in _days(after, until, tz):
        for part in item.dayparts:
            if local_day.weekday() not in part.weekdays:
                continue
            start = datetime.combine(local_day, part.start, tz)
            end_day = local_day + timedelta(days=1) if part.end <= part.start else local_day
            end = datetime.combine(end_day, part.end, tz)
            for edge in (start, end):
                if after < edge <= until and _inside_window(item, edge):
                    found.add(edge)
    return sorted(found)


def cleared_until(item: Item, cleared_s: int) -> datetime | None:
    """When an ended emergency's 解除 slide leaves screens (its end + ``cleared_s``): screens
    that are not browsers get their normal bundle back at that instant."""
    if cleared_s <= 0 or item.kind != "alert" or item.priority != "emergency":
        return None
    end = item.updated_at if item.status == "withdrawn" else item.ends_at
    return end + timedelta(seconds=cleared_s) if end is not None else None


def plan_transitions(
    items: Iterable[Item], after: datetime, until: datetime, tz: ZoneInfo
) -> dict[datetime, set[int]]:
    """Every instant in ``(after, until]`` with the ids of the items changing then."""
    plan: dict[datetime, set[int]] = {}
    for item in items:
        if item.id is None:
            continue
        for instant in item_instants(item, after, until, tz):
            plan.setdefault(instant, set()).add(item.id)
    return plan


def is_overdue(item: Item, now: datetime) -> bool:
    """Approved but past its end: it should already have been marked expired."""
    return item.status == "approved" and item.ends_at is not None and item.ends_at <= now


def affected_screens(tree: AreaTree, items: Iterable[Item]) -> list[str]:
    """The screens that see any of ``items``: those placed in the audience of its targets."""
    areas: set[str] = set()
    for item in items:
        for target in item.targets:
            if target in tree:
                areas.update(tree.audience(target))
    return sorted(s.id for s in tree.screens_in(areas))


def _inside_window(item: Item, at: datetime) -> bool:
    return (item.starts_at is None or item.starts_at <= at) and (
        item.ends_at is None or at <= item.ends_at
    )


def _days(after: datetime, until: datetime, tz: ZoneInfo) -> list[date]:
    """Local days whose dayparts may have a boundary in the range (the day before too, for
    dayparts running across midnight)."""
    first = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
