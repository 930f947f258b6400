"""Items as plain values: what staff write once and every channel publishes.

An :class:`Item` is a notice, an event or an alert, with translations (Japanese required),
target areas, a display window and optional dayparts. Planning, rendering and feeds work on
these frozen values and never on database rows, so they can be tested with plain data.

:mod:`publisher.item_input` turns untrusted JSON-like input (API, CLI, demo files, importers)
into an :class:`Item`, or an error naming the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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
# What an alert is, said in words on every channel (render/labels.py has the six languages).
ALERT_KINDS = (
    "warning",  # 警報
    "advisory",  # 注意報
    "early_warning",  # 早期注意情報
    "elderly_evacuation",  # 高齢者等避難 (警戒レベル3)
    "evacuation_order",  # 避難指示 (警戒レベル4)
    "emergency_safety",  # 緊急安全確保 (警戒レベル5)
    "shelter_open",  # 避難所開設
    "earthquake",  # 地震情報
    "heavy_rain",  # 大雨情報
    "power_outage",  # 停電情報
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# An uploaded image as the admin stores it: named by its content's SHA-256 (web/admin/images.py)
IMAGE_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")
TITLE_MAX_CHARS = 120
BODY_MAX_CHARS = 5000
JST = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True)
class Translation:
    lang: str
    title: str
    body: str = ""
    # furigana staff fixed for this text (base → hiragana), used on やさしい日本語 slides/pages
    readings: tuple[tuple[str, str], ...] = ()


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
    kind: str | None = None  # what it is in words (ALERT_KINDS): 避難指示, 地震情報 …
    needs_review: bool = False  # held for review: staff must check before it is shown
    held_reason: str | None = None  # why it was held (no area in the ward, unknown sender, …)


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
    image: str | None = None  # an uploaded picture's stored name (IMAGE_NAME)
    image_alt: Mapping[str, str] = field(default_factory=dict)  # language → what it shows
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

    def alt(self, lang: str = "ja") -> str:
        """The picture's alternative text in ``lang``, falling back to Japanese."""
        return self.image_alt.get(lang) or self.image_alt.get("ja", "")

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
            **(
                {"readings": {t.lang: dict(t.readings) for t in self.translations if t.readings}}
                if any(t.readings for t in self.translations)
                else {}
            ),
            "targets": list(self.targets),
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "dayparts": [d.as_json() for d in self.dayparts],
            "priority": self.priority,
            "category": self.category,
            "drill": self.drill,
            "detail_url": self.detail_url,
            **({"image": self.image} if self.image else {}),
            **({"image_alt": dict(self.image_alt)} if self.image and self.image_alt else {}),
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


# Characters XML 1.0 forbids (C0 controls but tab and newlines, surrogates, U+FFFE/U+FFFF) plus
# the C1 controls and every Unicode noncharacter: none of them is text a resident can read, and
# one of them in a title would break every RSS/Atom feed that carries it.
_NOT_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
    )
    + "]"
)


def clean_text(text: str) -> str:
    """``text`` without the characters no XML document may carry (NUL, U+000B, U+FFFE, lone
    surrogates, ...). Used once where text enters the store and again by every XML writer."""
    return _NOT_TEXT.sub("", text)


def clean_json(value: Any) -> Any:
    """:func:`clean_text` applied to every string (keys too) of JSON-like ``value``."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, Mapping):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in the ward's time (``2026-11-22T09:00:00+09:00``)."""
    return value.astimezone(JST).isoformat() if value else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day_start(at: datetime, days: int = 0) -> datetime:
    """Midnight in the ward's time, ``days`` from the day of ``at``."""
    d = at.astimezone(JST).date() + timedelta(days=days)
    return datetime.combine(d, time(), JST)
