"""What residents see: which items each feed, calendar and public page carries.

Feeds follow the screens' rule (targeting inherits downwards): the feed of an area carries the
items live in that area now — its own, its region's and the ward's. Items approved but whose
display window has not opened yet are **not** in any feed: the window is the publication date
staff chose (a notice may be embargoed until then), so a feed never runs ahead of the screens.

Three kinds of feed, each in RSS 2.0 (``.rss``) and Atom 1.0 (``.atom``):

- ``/feeds/<area>.rss`` — the area's own set (``setagaya/kitazawa/daizawa``);
- ``/feeds/<area>/<category>.rss`` — the same set, one category (``.../daizawa/health.rss``);
- ``/feeds/<area>/all.rss`` — the aggregate: the area's set plus every area below it
  (``/feeds/setagaya/kitazawa/all.rss`` carries Kitazawa's six districts' items too).

The calendar ``/feeds/<area>.ics`` carries every event published in the area's set whose event
has not ended more than :data:`CALENDAR_KEEPS_PAST_DAYS` ago, even after its display window
closed, so a subscribed calendar does not lose last week's entries.

Area codes contain slashes, so a feed path is resolved here, not by the router: a path naming
an area is that area's feed; otherwise its last segment must be a category or ``all`` and the
rest an area. No area segment may be a category name (a test keeps it so).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from publisher.areas import Area, AreaTree
from publisher.errors import NotFound
from publisher.items import CAP_DRILL_STATUSES, CATEGORIES, JST, Item

FEED_FORMATS = ("rss", "atom")
AGGREGATE = "all"
CALENDAR_KEEPS_PAST_DAYS = 30
# Bump when the bytes of a feed or page change for the same items (feeds' ETags use it).
RENDER_VERSION = "residents-1"


@dataclass(frozen=True)
class FeedSpec:
    """One feed: an area, optionally one category or the aggregate of the areas below."""

    area: Area
    category: str | None = None
    aggregate: bool = False

    @property
    def stem(self) -> str:
        """The feed's path without its extension: ``setagaya/kitazawa/daizawa/health``."""
        if self.aggregate:
            return f"{self.area.code}/{AGGREGATE}"
        if self.category:
            return f"{self.area.code}/{self.category}"
        return self.area.code

    def path(self, fmt: str) -> str:
        return f"/feeds/{self.stem}.{fmt}"


def resolve_feed(tree: AreaTree, stem: str) -> FeedSpec:
    """``setagaya/kitazawa/daizawa``, ``.../daizawa/health`` or ``setagaya/kitazawa/all``."""
    if stem in tree:
        return FeedSpec(tree.get(stem))
    head, _, last = stem.rpartition("/")
    if head in tree and last == AGGREGATE:
        return FeedSpec(tree.get(head), aggregate=True)
    if head in tree and last in CATEGORIES:
        return FeedSpec(tree.get(head), category=last)
    raise NotFound(f"no feed '{stem}': not an area code, nor an area code plus a category")


def all_feeds(tree: AreaTree) -> list[FeedSpec]:
    """Every feed the publisher offers (what the static export writes)."""
    out = []
    for area in tree:
        out.append(FeedSpec(area))
        if area.children:
            out.append(FeedSpec(area, aggregate=True))
        out.extend(FeedSpec(area, category=c) for c in CATEGORIES)
    return out


def feed_areas(tree: AreaTree, spec: FeedSpec) -> list[str]:
    """The target areas whose items the feed carries."""
    codes = tree.lineage(spec.area.code)
    if spec.aggregate:
        codes += tree.descendants(spec.area.code)
    return codes


def in_calendar(events: Iterable[Item], at: datetime) -> list[Item]:
    """Pure: events published by ``at`` whose event ends no more than the kept days ago."""
    horizon = at - timedelta(days=CALENDAR_KEEPS_PAST_DAYS)
    out = []
    for e in events:
        if e.status != "approved" or not e.is_public or e.event_starts_at is None:
            continue
        if e.starts_at is not None and e.starts_at > at:
            continue  # not published yet
        if (e.event_ends_at or e.event_starts_at) < horizon:
            continue
        out.append(e)
    return sorted(out, key=lambda e: (e.event_starts_at, e.id or 0))


def newest_first(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda i: (published_at(i), i.id or 0), reverse=True)


def published_at(item: Item) -> datetime:
    """When the item went public: its window's start, or its approval if that came later."""
    times = [t for t in (item.starts_at, item.approved_at) if t is not None]
    return max(times) if times else (item.created_at or item.updated_at or _EPOCH)


def updated_at(item: Item) -> datetime:
    return max(published_at(item), item.updated_at or _EPOCH)


def is_drill(item: Item) -> bool:
    """A drill or test: always marked 訓練 on every channel, never a real alert."""
    return item.drill or (item.alert is not None and item.alert.cap_status in CAP_DRILL_STATUSES)


MARKS = {
    "drill": {
        "ja": "【訓練】",
        "ja-x-easy": "【くんれん】",
        "en": "[DRILL]",
        "zh-Hans": "【演练】",
        "zh-Hant": "【演練】",
        "ko": "[훈련]",
    },
    "test": {
        "ja": "【訓練】",
        "ja-x-easy": "【くんれん】",
        "en": "[TEST]",
        "zh-Hans": "【测试】",
        "zh-Hant": "【測試】",
        "ko": "[테스트]",
    },
    "emergency": {
        "ja": "【緊急】",
        "ja-x-easy": "【きんきゅう】",
        "en": "[EMERGENCY]",
        "zh-Hans": "【紧急】",
        "zh-Hant": "【緊急】",
        "ko": "[긴급]",
    },
    "alert": {
        "ja": "【警報】",
        "ja-x-easy": "【けいほう】",
        "en": "[ALERT]",
        "zh-Hans": "【警报】",
        "zh-Hant": "【警報】",
        "ko": "[경보]",
    },
}


def mark(item: Item, lang: str = "ja") -> str:
    """The title mark of a drill or test (訓練; TEST in English for CAP tests) or an alert (緊急
    for an emergency, else 警報)."""
    if is_drill(item):
        # a CAP Test, or an Actual message that says it is a test (a required monthly test)
        test = item.alert is not None and item.alert.cap_status in ("Test", "Actual")
        kind = "test" if test else "drill"
    elif item.kind == "alert":
        kind = "emergency" if item.is_emergency else "alert"
    else:
        return ""
    marks = MARKS[kind]
    return marks.get(lang, marks["ja"] if lang.startswith("ja") else marks["en"])


def marked_title(item: Item, lang: str = "ja") -> str:
    """The title with its mark in front, unless the author already put it there."""
    title = item.text(lang).title
    m = mark(item, lang)
    if not m or m.lower() in title.lower():
        return title
    return f"{m}{title}"


WEEKDAYS_JA = "月火水木金土日"


def day_text(value: datetime) -> str:
    """``2026年12月3日（木）`` in the ward's time."""
    d = value.astimezone(JST)
    return f"{d.year}年{d.month}月{d.day}日（{WEEKDAYS_JA[d.weekday()]}）"


def when_text(item: Item) -> str:
    """When an event happens, as residents read it: ``2026年12月3日（木）9:30〜12:00``."""
    start, end = item.event_starts_at, item.event_ends_at
    if start is None:
        return ""
    s = start.astimezone(JST)
    if item.all_day:
        last = (end - timedelta(seconds=1)) if end else start
        if last.astimezone(JST).date() > s.date():
            return f"{day_text(start)}〜{day_text(last)}（終日）"
        return f"{day_text(start)}（終日）"
    text = f"{day_text(start)}{s.hour}:{s.minute:02d}"
    if end is not None:
        e = end.astimezone(JST)
        if e.date() == s.date():
            return f"{text}〜{e.hour}:{e.minute:02d}"
        return f"{text}〜{day_text(end)}{e.hour}:{e.minute:02d}"
    return text


def versions_etag(*parts: object) -> str:
    """A strong ETag from what decides the bytes (paths, ids, times, the render version)."""
    digest = hashlib.sha256(repr((RENDER_VERSION, *parts)).encode()).hexdigest()
    return digest[:32]


def last_modified(versions: Sequence[tuple[int, datetime, datetime | None]]) -> datetime | None:
    """The latest change or window opening among the feed's items (``None`` when empty)."""
    times = [t for _, u, s in versions for t in (u, s) if t is not None]
    return max(times) if times else None


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
