"""The item form as plain data: form fields → API-shaped input for :mod:`publisher.store.workflow`,
and an :class:`~publisher.items.Item` → the values the form shows. No Flask, no database.

Bodies are plain text: the form neither accepts nor produces HTML, templates escape them, and
every channel (slides, feeds, SNS) receives the same words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict

from publisher.areas import LANGUAGES
from publisher.items import JST, WEEKDAYS, Item

FORM_LANGUAGES = ("ja", "en", "zh-Hans", "zh-Hant", "ko", "ja-x-easy")
READING_LANGUAGES = ("ja-x-easy",)  # the languages whose slides and pages carry furigana
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–〜~]\s*(\d{1,2}:\d{2})\s*$")


FormData = MultiDict[str, str]  # what a posted form is (werkzeug's, so tests build one plainly)


def _text(form: FormData, name: str) -> str:
    return str(form.get(name, "") or "").strip()


def form_to_data(form: FormData) -> dict[str, Any]:
    """What the staff member typed, shaped like ``POST /api/items`` (not yet validated)."""
    data: dict[str, Any] = {"kind": _text(form, "kind") or "notice"}
    titles = {lang: _text(form, f"title.{lang}") for lang in FORM_LANGUAGES}
    bodies = {lang: _text(form, f"body.{lang}") for lang in FORM_LANGUAGES}
    data["title"] = {lang: t for lang, t in titles.items() if t or lang == "ja"}
    data["body"] = {lang: b for lang, b in bodies.items() if b}
    alts = {lang: _text(form, f"image_alt.{lang}") for lang in FORM_LANGUAGES}
    data["image_alt"] = {lang: a for lang, a in alts.items() if a}
    # always sent: the form shows the whole table, so an emptied field clears it
    data["readings"] = {lang: _text(form, f"readings.{lang}") for lang in READING_LANGUAGES}
    data["targets"] = [t for t in form.getlist("targets") if t]
    data["starts_at"] = _text(form, "starts_at") or None
    data["ends_at"] = _text(form, "ends_at") or None
    weekdays = [d for d in form.getlist("weekdays") if d in WEEKDAYS] or list(WEEKDAYS)
    dayparts: list[Any] = []
    for line in re.split(r"[\n,、]", _text(form, "dayparts")):
        if not line.strip():
            continue
        m = _RANGE.match(line)
        dayparts.append({"start": m[1], "end": m[2], "weekdays": weekdays} if m else line.strip())
    data["dayparts"] = dayparts
    data["priority"] = _text(form, "priority") or "normal"
    data["category"] = _text(form, "category") or None
    data["detail_url"] = _text(form, "detail_url") or None
    event_start, event_end = _text(form, "event.starts_at"), _text(form, "event.ends_at")
    data["event"] = (
        {
            "starts_at": event_start or None,
            "ends_at": event_end or None,
            "all_day": form.get("event.all_day") == "on",
        }
        if event_start or event_end
        else None
    )
    place_name = _text(form, "place.name")
    data["place"] = (
        {"name": place_name, "address": _text(form, "place.address")} if place_name else None
    )
    if data["kind"] == "alert":
        level = _text(form, "warning_level")
        data["warning_level"] = int(level) if level.isdigit() else (level or None)
    return data


def readings_text(readings: tuple[tuple[str, str], ...]) -> str:
    """A translation's furigana table as the form shows it: one ``漢字=よみ`` a line."""
    return "\n".join(f"{base}={reading}" for base, reading in readings)


def form_revision(form: FormData) -> int | None:
    """The revision the form was opened on (its hidden field); None when the field is missing,
    empty or not a revision number."""
    value = _text(form, "revision")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


_ISO = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?([+-]\d{2}:\d{2})?$")


def shown_value(value: Any, none: str, yes: str, no: str) -> str:
    """A changed field's value as staff read it: times in the ward's clock, lists joined."""
    if value is None or value == "" or value == []:
        return none
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, list):
        return "、".join(shown_value(v, none, yes, no) for v in value)
    if isinstance(value, dict):
        return "、".join(f"{k}: {shown_value(v, none, yes, no)}" for k, v in value.items())
    m = _ISO.match(str(value))
    if m:
        return f"{m[1]} {m[2]}"
    return str(value)


def local_input(value: datetime | None) -> str:
    """A time as ``<input type="datetime-local">`` wants it, in the ward's time."""
    return value.astimezone(JST).strftime("%Y-%m-%dT%H:%M") if value else ""


def item_to_form(item: Item) -> dict[str, Any]:
    """The values the form shows for a stored item."""
    out: dict[str, Any] = {
        "kind": item.kind,
        "targets": set(item.targets),
        "starts_at": local_input(item.starts_at),
        "ends_at": local_input(item.ends_at),
        "dayparts": "\n".join(
            f"{d.start.strftime('%H:%M')}-{d.end.strftime('%H:%M')}" for d in item.dayparts
        ),
        "weekdays": (
            {WEEKDAYS[i] for i in item.dayparts[0].weekdays} if item.dayparts else set(WEEKDAYS)
        ),
        "priority": item.priority,
        "category": item.category or "",
        "detail_url": item.detail_url or "",
        "event.starts_at": local_input(item.event_starts_at),
        "event.ends_at": local_input(item.event_ends_at),
        "event.all_day": item.all_day,
        "place.name": item.place.name if item.place else "",
        "place.address": item.place.address if item.place else "",
        "image": item.image or "",
        "warning_level": str(item.alert.warning_level or "") if item.alert else "",
        "revision": str(item.revision),
    }
    for t in item.translations:
        out[f"title.{t.lang}"] = t.title
        out[f"body.{t.lang}"] = t.body
        if t.lang in READING_LANGUAGES:
            out[f"readings.{t.lang}"] = readings_text(t.readings)
    for lang, alt in item.image_alt.items():
        out[f"image_alt.{lang}"] = alt
    return out


def echo_form(form: FormData) -> dict[str, Any]:
    """The submitted values, to show the form again after an error."""
    out: dict[str, Any] = {
        k: _text(form, k)
        for k in (
            "kind",
            "starts_at",
            "ends_at",
            "dayparts",
            "priority",
            "category",
            "detail_url",
            "event.starts_at",
            "event.ends_at",
            "place.name",
            "place.address",
            "image",
            "warning_level",
            "revision",
        )
    }
    for lang in LANGUAGES:
        out[f"title.{lang}"] = _text(form, f"title.{lang}")
        out[f"body.{lang}"] = _text(form, f"body.{lang}")
        out[f"image_alt.{lang}"] = _text(form, f"image_alt.{lang}")
    for lang in READING_LANGUAGES:
        out[f"readings.{lang}"] = _text(form, f"readings.{lang}")
    out["targets"] = set(form.getlist("targets"))
    out["weekdays"] = set(form.getlist("weekdays")) or set(WEEKDAYS)
    out["event.all_day"] = form.get("event.all_day") == "on"
    return out


def blank_form(default_target: str | None = None) -> dict[str, Any]:
    return {
        "kind": "notice",
        "targets": {default_target} if default_target else set(),
        "weekdays": set(WEEKDAYS),
        "priority": "normal",
    }


__all__ = [
    "FORM_LANGUAGES",
    "READING_LANGUAGES",
    "Mapping",
    "blank_form",
    "echo_form",
    "form_revision",
    "form_to_data",
    "item_to_form",
    "readings_text",
]
