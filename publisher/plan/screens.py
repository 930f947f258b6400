"""What shows on which screen when: pure planning on plain values.

:func:`playlist` takes a screen, the items that could concern it, the instant and the area tree,
and returns the :class:`Playlist` and ``next_change_at``, the next instant its content changes
(an item's window opening or closing, a daypart starting or ending). Nothing here reads a
database, a clock or the network, so every rule below is tested with plain values.

The rules, in order:

1. **Targeting inherits downwards**: a screen sees items targeted at its area or any area above
   it (``tree.lineage(screen.area)``).
2. **Windows and dayparts** in the ward's time (Asia/Tokyo): an item shows from ``starts_at`` to
   ``ends_at``, and if it has dayparts only inside one of them (a daypart may run across
   midnight; its weekdays are those on which it *starts*).
3. **Emergency override**: an active emergency alert in the screen's lineage replaces the whole
   playlist until it ends; the normal playlist returns after it.
4. **Order**: other alerts and drills (real alerts before drills), then high priority, then
   events by date (soonest first), then notices by recency (newest first); ties by id.
5. **Duration** from reading time: every line the slide shows (title, date, place, body) is
   counted, Japanese and Chinese by characters (``CJK_CHARS_PER_S``), other languages by words
   (``LATIN_WORDS_PER_S``), after ``GLANCE_S`` to notice the slide, rounded up, at least
   ``SLIDE_MIN_DURATION_S``: no slide asks for faster reading than those rates. A body too long
   for one slide at the screen's smallest legible size is shown as pages (1/2, 2/2), one after
   the other, each with its own duration; the renderer says what each page shows (``pages``, a
   pure measuring function passed in by the caller), and keeps each page readable within
   ``PAGE_MAX_DURATION_S``.
6. **Languages**: each item is shown once in every language of ``screen.languages`` it has a
   translation for, in the screen's order, one after the other (interleaved: ``A-ja, A-en,
   B-ja, B-en``), so a foreign resident standing in the lobby sees the same notice in their
   language seconds later instead of waiting a whole cycle. An item with none of the screen's
   languages is shown in Japanese (Japanese is always present), so nothing targeted is lost.
7. **Emergencies speak every language they have**: while an emergency (or drill) pre-empts a
   screen, each of its translations is shown (ja, やさしい日本語, en, zh-Hans, zh-Hant, ko),
   whatever the screen's ``languages``, and a whole cycle lasts at most
   ``EMERGENCY_CYCLE_MAX_S``: a resident of any language sees it within a minute.
8. **All clear**: for ``cleared_s`` seconds after an emergency ends (its window closes or staff
   withdraw it), the screens of its area show 「解除されました」 in each of its languages
   (role ``cleared``) before normal content returns.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from publisher.areas import AreaTree, Screen
from publisher.items import Daypart, Item
from publisher.plan.reading import (
    CJK_LANGS,
    PAGE_MAX_DURATION_S,
    SLIDE_MAX_DURATION_S,
    SLIDE_MIN_DURATION_S,
    Pages,
    page_duration_s,
    plain_pages,
    reading_seconds,
    reading_time_s,
)

WARD_TZ = ZoneInfo("Asia/Tokyo")
# Every language an emergency is shown in, in this order (Japanese first), on every screen.
EMERGENCY_LANGS = ("ja", "ja-x-easy", "en", "zh-Hans", "zh-Hant", "ko")
EMERGENCY_CYCLE_MAX_S = 60
EMERGENCY_SLIDE_MIN_S = 5  # below this a slide cannot be read even once

ROLE_OVERRIDE = "emergency"
ROLE_ALERT = "alert"
ROLE_DRILL = "drill"
ROLE_HIGH = "high"
ROLE_EVENT = "event"
ROLE_NOTICE = "notice"
ROLE_CLEARED = "cleared"  # an emergency has just ended: 解除されました
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One slide in a playlist: an item in one language, shown for ``duration_s``.

    ``item`` and ``issuer`` (the area code of the office that speaks for the item) with the
    playlist's size and ``lang`` are the inputs of the slide (:class:`publisher.render.slides.SlideSpec`).
    """

    item_id: int
    lang: str
    duration_s: int
    role: str  # emergency | alert | drill | high | event | notice | cleared
    issuer: str
    item: Item = field(compare=False, repr=False)
    page: int = 1  # of a body shown in ``pages`` slides, one after the other
    pages: int = 1

    @property
    def drill(self) -> bool:
        return is_drill(self.item)


@dataclass(frozen=True)
class Playlist:
    """What one screen shows, in order, looping. ``version`` changes exactly when it does."""

    screen_id: str
    width: int
    height: int
    entries: tuple[Entry, ...]
    override: bool  # an emergency alert has replaced the normal playlist
    version: str

    def as_json(self) -> dict:
        """The plan without slide files (those depend on the renderer): used by golden tests."""
        return {
            "screen": self.screen_id,
            "size": f"{self.width}x{self.height}",
            "override": self.override,
            "version": self.version,
            "entries": [
                {
                    "order": i,
                    "item_id": e.item_id,
                    "lang": e.lang,
                    "duration_s": e.duration_s,
                    "role": e.role,
                    "drill": e.drill,
                    "issuer": e.issuer,
                    **({"page": e.page, "pages": e.pages} if e.pages > 1 else {}),
                }
                for i, e in enumerate(self.entries, start=1)
            ],
        }


# -- membership ---------------------------------------------------------------------------------


def seen_in(item: Item, area: str, tree: AreaTree) -> bool:
    """Is ``item`` targeted at ``area`` or an area above it? (screens and feeds alike)"""
    lineage = set(tree.lineage(area))
    return any(t in lineage for t in item.targets)


def in_dayparts(item: Item, at: datetime, tz: ZoneInfo = WARD_TZ) -> bool:
    """Inside one of the item's dayparts at ``at`` (always, for an item without dayparts)."""
    if not item.dayparts:
        return True
    local = at.astimezone(tz)
    return any(_in_daypart(d, local) for d in item.dayparts)


def _in_daypart(d: Daypart, local: datetime) -> bool:
    t, day = local.time(), local.weekday()
    if d.start < d.end:
        return day in d.weekdays and d.start <= t < d.end
    # across midnight: the evening part on a listed day, the morning part on the day after one
    return (day in d.weekdays and t >= d.start) or ((day - 1) % 7 in d.weekdays and t < d.end)


def showing(item: Item, at: datetime, tz: ZoneInfo = WARD_TZ) -> bool:
    """Approved, public, inside its window and one of its dayparts at ``at``."""
    return item.id is not None and item.is_live(at) and in_dayparts(item, at, tz)


def is_drill(item: Item) -> bool:
    """A drill or test: always marked 訓練 / TEST (DESIGN rule 4)."""
    return item.drill or (item.alert is not None and item.alert.cap_status in ("Exercise", "Test"))


def items_for_area(
    items: Iterable[Item], area: str, at: datetime, tree: AreaTree, tz: ZoneInfo = WARD_TZ
) -> list[Item]:
    """Items seen in ``area`` and showing at ``at``, by id (feed membership)."""
    return sorted(
        (i for i in items if seen_in(i, area, tree) and showing(i, at, tz)),
        key=lambda i: i.id or 0,
    )


# -- reading time -------------------------------------------------------------------------------


def languages_for(item: Item, screen: Screen, *, override: bool = False) -> list[str]:
    """The screen's languages this item has, in the screen's order (Japanese if none);
    during an emergency override every language the item has, Japanese first."""
    have = set(item.languages)
    if override:
        return [lang for lang in EMERGENCY_LANGS if lang in have] or ["ja"]
    langs = [lang for lang in screen.languages if lang in have]
    return langs or ["ja"]


# -- the playlist -------------------------------------------------------------------------------


def _role(item: Item) -> str:
    if item.is_emergency:
        return ROLE_OVERRIDE
    if item.kind == "alert":
        return ROLE_DRILL if is_drill(item) else ROLE_ALERT
    if is_drill(item):
        return ROLE_DRILL
    if item.priority == "high":
        return ROLE_HIGH
    return ROLE_EVENT if item.kind == "event" else ROLE_NOTICE


def _recency(item: Item) -> datetime:
    return item.starts_at or item.approved_at or item.created_at or _EPOCH


_ROLE_RANK = {ROLE_ALERT: 0, ROLE_DRILL: 1, ROLE_HIGH: 2, ROLE_EVENT: 3, ROLE_NOTICE: 4}


def _order_key(item: Item) -> tuple:
    role = _role(item)
    if role == ROLE_EVENT:
        when = (item.event_starts_at or _EPOCH).timestamp()
    else:
        when = -_recency(item).timestamp()  # newest first
    return (_ROLE_RANK[role], when, item.id or 0)


def _override_key(item: Item) -> tuple:
    level = item.alert.warning_level if item.alert and item.alert.warning_level else 0
    return (is_drill(item), -level, -_recency(item).timestamp(), item.id or 0)


def select(
    screen: Screen, items: Iterable[Item], at: datetime, tree: AreaTree, tz: ZoneInfo = WARD_TZ
) -> tuple[list[Item], bool]:
    """The items the screen shows at ``at``, in order, and whether an emergency overrides."""
    lineage = set(tree.lineage(screen.area))
    live = [i for i in items if any(t in lineage for t in i.targets) and showing(i, at, tz)]
    emergencies = [i for i in live if i.is_emergency]
    if emergencies:
        return sorted(emergencies, key=_override_key), True
    return sorted(live, key=_order_key), False


def ended_at(item: Item) -> datetime | None:
    """When an emergency stopped being shown: withdrawn (its last update) or its window closed."""
    if item.status == "withdrawn":
        end = item.updated_at
        was_live = end is not None and (item.starts_at is None or item.starts_at <= end)
        if item.ends_at is not None and end is not None and item.ends_at <= end:
            return item.ends_at  # it had ended already when it was withdrawn
        return end if was_live else None
    return item.ends_at


def recently_ended(items: Iterable[Item], at: datetime, cleared_s: int) -> list[Item]:
    """Emergencies that ended within ``cleared_s`` before ``at`` (newest first)."""
    if cleared_s <= 0:
        return []
    since = at - timedelta(seconds=cleared_s)
    ended = [
        i
        for i in items
        if i.is_emergency
        and i.status in ("approved", "withdrawn", "expired")
        and (end := ended_at(i)) is not None
        and since < end <= at
    ]
    return sorted(ended, key=lambda i: (-(ended_at(i) or at).timestamp(), i.id or 0))


def playlist(
    screen: Screen,
    items: list[Item],
    now: datetime,
    tree: AreaTree,
    *,
    tz: ZoneInfo = WARD_TZ,
    cleared_s: int = 0,
    pages: Pages | None = None,
) -> tuple[Playlist, datetime | None]:
    """The screen's playlist at ``now`` and the next instant its content changes (or None).

    ``items`` may hold emergencies that have ended (withdrawn ones too): for ``cleared_s``
    seconds after its end an emergency is announced as 解除 instead of normal content.
    ``pages`` says what each page of a slide shows (for this screen's size); without it every
    slide is one page."""
    if now.tzinfo is None:
        raise ValueError("playlist() needs an aware datetime for now")
    lineage = set(tree.lineage(screen.area))
    mine = [i for i in items if i.id is not None and any(t in lineage for t in i.targets)]
    ended = [] if not cleared_s else recently_ended(mine, now, cleared_s)
    mine = [i for i in mine if i.status == "approved"]
    chosen, override = select(screen, mine, now, tree, tz)
    cleared = not override and bool(ended)
    if cleared:
        chosen = ended
    # an emergency is one slide a language, at once: its cycle is cut to a minute anyway, and
    # measuring pages would render before the first slide can show (the QR carries the rest)
    measure = plain_pages if override or cleared or pages is None else pages
    entries = tuple(
        Entry(
            item_id=int(item.id or 0),
            lang=lang,
            duration_s=page_duration_s(text, item.text(lang).lang),
            role=ROLE_CLEARED if cleared else _role(item),
            issuer=tree.issuer(item.targets).code,
            item=item,
            page=n,
            pages=len(texts),
        )
        for item in chosen
        for lang in languages_for(item, screen, override=override or cleared)
        for texts in [list(measure(item, lang)) if not cleared else [item.text(lang).title]]
        for n, text in enumerate(texts, start=1)
    )
    if override or cleared:
        entries = fit_cycle(entries, EMERGENCY_CYCLE_MAX_S)
    plan = Playlist(
        screen.id,
        screen.width,
        screen.height,
        entries,
        override,
        _version(screen, entries, override),
    )
    next_change = _next_change(screen, mine, now, tree, tz, [i.id for i in chosen], cleared_s)
    if cleared:
        clear_done = min((ended_at(i) or now) for i in ended) + timedelta(seconds=cleared_s)
        next_change = min(next_change, clear_done) if next_change else clear_done
    return plan, next_change


def fit_cycle(entries: tuple[Entry, ...], cycle_max_s: int) -> tuple[Entry, ...]:
    """Shorten the slides evenly so the whole loop lasts at most ``cycle_max_s`` (never below
    ``EMERGENCY_SLIDE_MIN_S`` a slide: with very many alerts the cycle grows instead)."""
    total = sum(e.duration_s for e in entries)
    if not entries or total <= cycle_max_s:
        return entries
    cap = max(EMERGENCY_SLIDE_MIN_S, cycle_max_s // len(entries))
    return tuple(replace(e, duration_s=min(e.duration_s, cap)) for e in entries)


def _next_change(
    screen: Screen,
    items: list[Item],
    now: datetime,
    tree: AreaTree,
    tz: ZoneInfo,
    current: list[int | None],
    cleared_s: int = 0,
) -> datetime | None:
    """The first boundary after ``now`` at which the chosen items (or their order) differ;
    an emergency's end always is one when its 解除 is shown."""
    instants: set[datetime] = set()
    for item in items:
        if item.status != "approved" or not item.is_public:
            continue
        if item.ends_at is not None and item.ends_at <= now:
            continue
        for edge in (item.starts_at, item.ends_at):
            if edge is not None and edge > now:
                instants.add(edge)
        instants.update(_daypart_edges(item, now, tz))
    for at in sorted(instants):
        if cleared_s and recently_ended(items, at, cleared_s):
            return at.astimezone(tz)
        chosen, _ = select(screen, items, at, tree, tz)
        if [i.id for i in chosen] != current:
            return at.astimezone(tz)
    return None


def _daypart_edges(item: Item, now: datetime, tz: ZoneInfo) -> list[datetime]:
    """The starts and ends of the item's dayparts in the coming week (local time)."""
    if not item.dayparts:
        return []
    today = now.astimezone(tz).date()
    out: list[datetime] = []
    for offset in range(-1, 8):
        day = today + timedelta(days=offset)
        for d in item.dayparts:
            if day.weekday() not in d.weekdays:
                continue
            start = datetime.combine(day, d.start, tz)
            end_day = day if d.start < d.end else day + timedelta(days=1)
            end = datetime.combine(end_day, d.end, tz)
            out.extend(t for t in (start, end) if t > now)
    return out


def _version(screen: Screen, entries: tuple[Entry, ...], override: bool) -> str:
    """Same content, same version: the ETag players revalidate against."""
    # json.dumps({"entries": …, "override": …, "screen": …, "size": …}, sort_keys=True), with
    # the entries' part (the same for every screen planned alike) worked out once.
    # (the rest written out: json.dumps per screen was a third of re-planning 5,000 screens)
    rest = (
        f'"override": {"true" if override else "false"}, '
        f'"screen": {_json_text(screen.id)}, '
        f'"size": [{int(screen.width)}, {int(screen.height)}]}}'
    )
    blob = '{"entries": ' + _entries_json(entries) + ", " + rest
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


@functools.lru_cache(maxsize=65536)
def _json_text(text: str) -> str:
    """``json.dumps(text, ensure_ascii=False)``, once per screen id (not once per change)."""
    return json.dumps(text, ensure_ascii=False)


def _entries_json(entries: tuple[Entry, ...]) -> str:
    held = _ENTRIES_JSON.get(id(entries))
    if held is not None and held[0] is entries:
        return held[1]
    text = json.dumps(
        [
            [e.item_id, e.lang, e.duration_s, e.role, e.issuer, item_digest(e.item), e.page]
            for e in entries
        ],
        ensure_ascii=False,
    )
    if len(_ENTRIES_JSON) >= _DIGESTS_MAX:
        _ENTRIES_JSON.clear()
    _ENTRIES_JSON[id(entries)] = (entries, text)
    return text


_NOT_CONTENT = {"id", "status", "revision", "created_at", "updated_at", "approved_at", "source"}


def item_digest(item: Item) -> str:
    """What the item says and where and when, without bookkeeping."""
    held = _DIGESTS.get(id(item))
    if held is not None and held[0] is item:  # the same object: items are frozen
        return held[1]
    data = {k: v for k, v in item.as_json().items() if k not in _NOT_CONTENT}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:16]
    if len(_DIGESTS) >= _DIGESTS_MAX:
        _DIGESTS.clear()
    _DIGESTS[id(item)] = (item, digest)
    return digest


# Thousands of screens share the same few items: each item's digest is worked out once.
_DIGESTS: dict[int, tuple[Item, str]] = {}
_ENTRIES_JSON: dict[int, tuple[tuple[Entry, ...], str]] = {}
_DIGESTS_MAX = 20000


def for_screen(plan: Playlist, screen: Screen) -> Playlist:
    """``plan`` on another screen of the same area, size and languages (same entries, its own
    version): thousands of screens in one district are planned once."""
    return replace(plan, screen_id=screen.id, version=_version(screen, plan.entries, plan.override))


__all__ = [
    "CJK_LANGS",
    "EMERGENCY_CYCLE_MAX_S",
    "EMERGENCY_LANGS",
    "PAGE_MAX_DURATION_S",
    "ROLE_CLEARED",
    "SLIDE_MAX_DURATION_S",
    "SLIDE_MIN_DURATION_S",
    "Entry",
    "Pages",
    "Playlist",
    "for_screen",
    "in_dayparts",
    "is_drill",
    "items_for_area",
    "page_duration_s",
    "plain_pages",
    "playlist",
    "reading_seconds",
    "reading_time_s",
    "seen_in",
    "select",
]
