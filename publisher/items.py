"""Items as plain values: what staff write once and every channel publishes.

An :class:`Item` is a notice, an event or an alert, with translations (Japanese required),
target areas, a display window and optional dayparts. Planning, rendering and feeds work on
these frozen values and never on database rows, so they can be tested with plain data.

:func:`parse_item` turns untrusted JSON-like input (API, CLI, demo files, importers) into an
:class:`Item` or raises :class:`~publisher.errors.PublisherError` naming the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from publisher.areas import LANGUAGES, AreaTree
from publisher.errors import PublisherError, did_you_mean

KINDS = ("notice", "event", "alert")
PRIORITIES = ("normal", "high", "emergency")
STATUSES = ("draft", "pending", "approved", "withdrawn", "expired")
CATEGORIES = {
    "general": "お知らせ",
    "disaster": "防災",
    "drill": "訓練",
    "health": "健康・福祉",
    "childcare": "子育て",
    "community": "地域活動",
    "culture": "文化・スポーツ",
    "environment": "環境・ごみ",
    "tax": "税・届出",
}
# CAP statuses whose messages never reach the public (OASIS CAP 1.2 §3.2.1).
CAP_PRIVATE_STATUSES = ("System", "Draft")
CAP_DRILL_STATUSES = ("Exercise", "Test")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TITLE_MAX_CHARS = 120
BODY_MAX_CHARS = 5000
JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Translation:
    lang: str
    title: str
    body: str = ""


@dataclass(frozen=True)
class Daypart:
    """A recurring slot within the display window, in the ward's local time.

    ``end`` before ``start`` runs across midnight (22:00–02:00).
    """

    start: time
    end: time
    weekdays: frozenset[int] = frozenset(range(7))  # Monday is 0

    def as_json(self) -> dict[str, Any]:
        return {
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
            "weekdays": [WEEKDAYS[d] for d in sorted(self.weekdays)],
        }


@dataclass(frozen=True)
class Place:
    name: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class AlertInfo:
    """What a CAP message (or a staff-issued alert) adds to an item."""

    cap_status: str = "Actual"  # Actual | Exercise | System | Test | Draft
    msg_type: str = "Alert"  # Alert | Update | Cancel
    severity: str = "Unknown"
    urgency: str = "Unknown"
    certainty: str = "Unknown"
    identifier: str | None = None
    sender: str | None = None
    sent: datetime | None = None
    references: str | None = None
    warning_level: int | None = None  # 警戒レベル 1–5
    needs_review: bool = False  # its area could not be mapped: staff should check


@dataclass(frozen=True)
class Item:
    kind: str
    translations: tuple[Translation, ...]
    targets: tuple[str, ...]
    id: int | None = None
    status: str = "draft"
    priority: str = "normal"
    category: str | None = None
    starts_at: datetime | None = None  # display window, tz-aware; None = from approval
    ends_at: datetime | None = None  # None = until withdrawn
    dayparts: tuple[Daypart, ...] = ()
    event_starts_at: datetime | None = None
    event_ends_at: datetime | None = None
    all_day: bool = False
    place: Place | None = None
    detail_url: str | None = None
    image: str | None = None
    drill: bool = False
    alert: AlertInfo | None = None
    source: str = "staff"
    external_id: str | None = None
    revision: int = 1
    created_at: datetime | None = None
    updated_at: datetime | None = None
    approved_at: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    # -- reading -----------------------------------------------------------------------------

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(t.lang for t in self.translations)

    def text(self, lang: str = "ja") -> Translation:
        """The translation in ``lang``, falling back to Japanese."""
        for t in self.translations:
            if t.lang == lang:
                return t
        return self.translations[0]

    @property
    def title(self) -> str:
        return self.text("ja").title

    @property
    def is_emergency(self) -> bool:
        """Pre-empts the whole playlist of every screen in its audience."""
        return self.kind == "alert" and self.priority == "emergency"

    @property
    def is_public(self) -> bool:
        return self.alert is None or self.alert.cap_status not in CAP_PRIVATE_STATUSES

    def is_live(self, at: datetime) -> bool:
        """Approved and inside its display window at ``at`` (dayparts aside)."""
        return (
            self.status == "approved"
            and self.is_public
            and (self.starts_at is None or self.starts_at <= at)
            and (self.ends_at is None or at < self.ends_at)
        )

    def with_changes(self, **changes: Any) -> Item:
        return replace(self, **changes)

    def as_json(self) -> dict[str, Any]:
        """The item as the API and ``--json`` show it."""
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "title": {t.lang: t.title for t in self.translations},
            "body": {t.lang: t.body for t in self.translations if t.body},
            "targets": list(self.targets),
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "dayparts": [d.as_json() for d in self.dayparts],
            "priority": self.priority,
            "category": self.category,
            "drill": self.drill,
            "detail_url": self.detail_url,
            "source": self.source,
            "revision": self.revision,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if self.kind == "event" or self.event_starts_at:
            out["event"] = {
                "starts_at": iso(self.event_starts_at),
                "ends_at": iso(self.event_ends_at),
                "all_day": self.all_day,
            }
        if self.place:
            out["place"] = {k: v for k, v in vars(self.place).items() if v not in (None, "")}
        if self.alert:
            out["alert"] = {
                k: (iso(v) if isinstance(v, datetime) else v)
                for k, v in vars(self.alert).items()
                if v is not None
            }
        return out


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in the ward's time (``2026-11-22T09:00:00+09:00``)."""
    return value.astimezone(JST).isoformat() if value else None


# -- parsing untrusted input -------------------------------------------------------------------


def parse_time(value: Any, field_name: str, tz: ZoneInfo = JST) -> datetime | None:
    """An ISO date or date-time; naive values are the ward's local time. ``None``/"" pass."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time())
    elif isinstance(value, str):
        try:
            # "+09:00" typed into a URL arrives as " 09:00": restore the sign
            text = re.sub(r"(T[\d:.]+) (\d{2}:?\d{2})$", r"\1+\2", value.strip())
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise PublisherError(
                f"{value!r} is not a date-time (use ISO 8601, e.g. 2026-12-01T09:00 or "
                "2026-12-01T09:00+09:00)",
                field=field_name,
            ) from None
    else:
        raise PublisherError(
            f"must be an ISO 8601 date-time string, not {type(value).__name__}", field=field_name
        )
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt


def parse_dayparts(value: Any) -> tuple[Daypart, ...]:
    """``[{"start": "07:00", "end": "10:00", "weekdays": ["mon", ...]}, ...]`` or ``"07:00-10:00"``."""
    if not value:
        return ()
    if not isinstance(value, list):
        value = [value]
    out = []
    for i, raw in enumerate(value):
        where = f"dayparts[{i}]"
        if isinstance(raw, str):
            m = re.fullmatch(r"\s*(\d{1,2}:\d{2})\s*[-–〜~]\s*(\d{1,2}:\d{2})\s*", raw)
            if not m:
                raise PublisherError(f'{raw!r} is not a time range like "07:00-10:00"', field=where)
            raw = {"start": m[1], "end": m[2]}
        if not isinstance(raw, dict):
            raise PublisherError('must be {"start": "HH:MM", "end": "HH:MM"}', field=where)
        try:
            start = time.fromisoformat(str(raw.get("start", "")).zfill(5))
            end = time.fromisoformat(str(raw.get("end", "")).zfill(5))
        except ValueError:
            raise PublisherError("start and end must be HH:MM times", field=where) from None
        if start == end:
            raise PublisherError("start and end are the same time", field=where)
        days = raw.get("weekdays") or list(WEEKDAYS)
        bad = [d for d in days if d not in WEEKDAYS]
        if bad:
            raise PublisherError(
                f"unknown weekday {bad[0]!r} (use {', '.join(WEEKDAYS)})", field=where
            )
        out.append(Daypart(start, end, frozenset(WEEKDAYS.index(d) for d in days)))
    return tuple(out)


def _choice(
    value: Any,
    choices: tuple[str, ...] | Mapping[str, str],
    field_name: str,
    default: str | None = None,
) -> str | None:
    if value in (None, ""):
        return default
    if value not in choices:
        raise PublisherError(
            f"{value!r} is not one of {', '.join(choices)}{did_you_mean(str(value), choices)}",
            field=field_name,
        )
    return str(value)


def parse_translations(title: Any, body: Any = None) -> tuple[Translation, ...]:
    """``title``/``body`` as ``{"ja": ..., "en": ...}`` (or a plain string for Japanese)."""
    if isinstance(title, str):
        title = {"ja": title}
    if body is None:
        body = {}
    if isinstance(body, str):
        body = {"ja": body}
    if not isinstance(title, dict):
        raise PublisherError('must be {"ja": "..."} with Japanese required', field="title")
    if not isinstance(body, dict):
        raise PublisherError('must be {"ja": "...", "en": "..."}', field="body")
    for lang in (*title, *body):
        if lang not in LANGUAGES:
            raise PublisherError(
                f"unknown language {lang!r} (use {', '.join(LANGUAGES)})"
                f"{did_you_mean(str(lang), LANGUAGES)}",
                field=f"title.{lang}",
            )
    if not isinstance(title.get("ja"), str) or not title["ja"].strip():
        raise PublisherError("a Japanese title is required (title.ja)", field="title.ja")
    out = []
    for lang in LANGUAGES:  # canonical order: ja first
        t, b = title.get(lang), body.get(lang, "")
        if t is None and b:
            raise PublisherError(
                f"has a body in {lang} but no title in {lang}", field=f"title.{lang}"
            )
        if t is None:
            continue
        if not isinstance(t, str) or not isinstance(b, str):
            raise PublisherError("must be text", field=f"title.{lang}")
        t, b = t.strip(), b.strip()
        if not t:
            raise PublisherError("is empty", field=f"title.{lang}")
        if len(t) > TITLE_MAX_CHARS:
            raise PublisherError(
                f"is {len(t)} characters; at most {TITLE_MAX_CHARS}", field=f"title.{lang}"
            )
        if len(b) > BODY_MAX_CHARS:
            raise PublisherError(
                f"is {len(b)} characters; at most {BODY_MAX_CHARS}", field=f"body.{lang}"
            )
        out.append(Translation(lang, t, b))
    return tuple(out)


def parse_item(data: Mapping[str, Any], tree: AreaTree, *, base: Item | None = None) -> Item:
    """Validate API-shaped input into an :class:`Item`.

    With ``base``, ``data`` is a partial update (PATCH): fields it leaves out keep their value.
    Raises :class:`PublisherError` with ``field`` set to the first field at fault.
    """
    if not isinstance(data, Mapping):
        raise PublisherError("the item must be a JSON object")
    known = {
        "kind",
        "title",
        "body",
        "targets",
        "starts_at",
        "ends_at",
        "dayparts",
        "priority",
        "category",
        "event",
        "place",
        "detail_url",
        "drill",
        "status",
        "image",
        "warning_level",
    }
    for key in data:
        if key not in known:
            raise PublisherError(f"unknown field{did_you_mean(key, known)}", field=key)
    b = base
    kind = _choice(data.get("kind", b.kind if b else None), KINDS, "kind")
    if kind is None:
        raise PublisherError(f"kind is required ({', '.join(KINDS)})", field="kind")

    if "title" in data or "body" in data or b is None:
        old_title = {t.lang: t.title for t in b.translations} if b else None
        old_body = {t.lang: t.body for t in b.translations} if b else None
        translations = parse_translations(data.get("title", old_title), data.get("body", old_body))
    else:
        translations = b.translations

    raw_targets = data.get("targets", list(b.targets) if b else None)
    if isinstance(raw_targets, str):
        raw_targets = [raw_targets]
    if not raw_targets or not isinstance(raw_targets, list):
        raise PublisherError(
            "at least one target area code is required, e.g. " f'["{tree.ward_code}"]',
            field="targets",
        )
    for code in raw_targets:
        if code not in tree:
            raise PublisherError(
                f"unknown area '{code}'{did_you_mean(str(code), tree.areas)}", field="targets"
            )
    targets = tuple(dict.fromkeys(raw_targets))

    def pick(name: str, current: Any) -> Any:
        return data.get(name, current)

    starts_at = parse_time(pick("starts_at", b.starts_at if b else None), "starts_at")
    ends_at = parse_time(pick("ends_at", b.ends_at if b else None), "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise PublisherError(
            "ends before it starts (ends_at must be after starts_at)", field="ends_at"
        )
    dayparts = parse_dayparts(data["dayparts"]) if "dayparts" in data else (b.dayparts if b else ())

    priority = _choice(
        pick("priority", b.priority if b else None), PRIORITIES, "priority", "normal"
    )
    if priority == "emergency" and kind != "alert":
        raise PublisherError("only an alert can have emergency priority", field="priority")
    category = _choice(pick("category", b.category if b else None), CATEGORIES, "category")

    event_start = b.event_starts_at if b else None
    event_end = b.event_ends_at if b else None
    all_day = b.all_day if b else False
    if "event" in data:
        ev = data["event"] or {}
        if not isinstance(ev, Mapping):
            raise PublisherError('must be {"starts_at": ..., "ends_at": ...}', field="event")
        event_start = parse_time(ev.get("starts_at"), "event.starts_at")
        event_end = parse_time(ev.get("ends_at"), "event.ends_at")
        all_day = bool(ev.get("all_day", False))
    if kind == "event" and event_start is None:
        raise PublisherError("an event needs event.starts_at", field="event.starts_at")
    if event_start and event_end and event_end < event_start:
        raise PublisherError("the event ends before it starts", field="event.ends_at")

    place = b.place if b else None
    if "place" in data:
        place = _parse_place(data["place"])

    detail_url = pick("detail_url", b.detail_url if b else None) or None
    if detail_url is not None and not (
        isinstance(detail_url, str) and detail_url.startswith(("https://", "http://"))
    ):
        raise PublisherError("must be an http(s) URL", field="detail_url")
    drill = pick("drill", b.drill if b else False)
    if not isinstance(drill, bool):
        raise PublisherError("must be true or false", field="drill")
    image = pick("image", b.image if b else None)

    alert = b.alert if b else None
    if kind == "alert":
        level = data.get("warning_level", alert.warning_level if alert else None)
        if level is not None and (
            not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5
        ):
            raise PublisherError("警戒レベル is a whole number from 1 to 5", field="warning_level")
        alert = alert or AlertInfo(
            severity="Severe" if priority == "emergency" else "Moderate",
            urgency="Immediate" if priority == "emergency" else "Expected",
        )
        # A staff-issued drill is a CAP Exercise, so every channel marks it 訓練.
        if alert.cap_status in ("Actual", "Exercise"):
            alert = replace(alert, cap_status="Exercise" if drill else "Actual")
        alert = replace(alert, warning_level=level)
    elif "warning_level" in data:
        raise PublisherError("only an alert has a 警戒レベル", field="warning_level")
    else:
        alert = None

    base_item = b or Item(kind=kind, translations=translations, targets=targets)
    return base_item.with_changes(
        kind=kind,
        translations=translations,
        targets=targets,
        starts_at=starts_at,
        ends_at=ends_at,
        dayparts=dayparts,
        priority=priority,
        category=category,
        event_starts_at=event_start,
        event_ends_at=event_end,
        all_day=all_day,
        place=place,
        detail_url=detail_url,
        drill=drill,
        image=image,
        alert=alert,
    )


def _parse_place(raw: Any) -> Place | None:
    if not raw:
        return None
    if isinstance(raw, str):
        return Place(raw.strip())
    if not isinstance(raw, Mapping) or not str(raw.get("name", "")).strip():
        raise PublisherError(
            'must be {"name": ..., "address": ..., "lat": ..., "lon": ...}', field="place"
        )
    coords: list[float | None] = []
    for key, limit in (("lat", 90), ("lon", 180)):
        v: Any = raw.get(key)
        if v in (None, ""):
            coords.append(None)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise PublisherError("must be a number", field=f"place.{key}") from None
        if not -limit <= f <= limit:
            raise PublisherError(f"must be between -{limit} and {limit}", field=f"place.{key}")
        coords.append(f)
    return Place(
        str(raw["name"]).strip(), str(raw.get("address", "")).strip(), coords[0], coords[1]
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day_start(at: datetime, days: int = 0) -> datetime:
    """Midnight in the ward's time, ``days`` from the day of ``at``."""
    d = at.astimezone(JST).date() + timedelta(days=days)
    return datetime.combine(d, time(), JST)
