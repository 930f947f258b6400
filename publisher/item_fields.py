"""Single fields of untrusted input, checked one by one: times, dayparts, choices, a picture's
alternative text, a place. :mod:`publisher.item_input` puts them together into an item.

Each raises :class:`~publisher.errors.PublisherError` naming the field at fault, with the
same said in Japanese for staff (``ja``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from publisher.areas import LANGUAGES
from publisher.errors import PublisherError, did_you_mean
from publisher.items import JST, WEEKDAYS, Daypart, Place

ALT_MAX_CHARS = 300  # a picture's alternative text: a sentence or two, not a second body
PLACE_NAME_MAX_CHARS = 200
ADDRESS_MAX_CHARS = 300

# Dates a notice can sensibly carry; far years also overflow when converted between zones.
YEAR_MIN, YEAR_MAX = 1970, 2200


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
                ja=f"「{value}」は日時として読めません（例：2026-12-01T09:00）",
            ) from None
    else:
        raise PublisherError(
            f"must be an ISO 8601 date-time string, not {type(value).__name__}",
            field=field_name,
            ja="日時を入力してください（例：2026-12-01T09:00）",
        )
    dt = dt.replace(tzinfo=tz) if dt.tzinfo is None else dt
    try:
        year = dt.astimezone(UTC).year
    except (OverflowError, ValueError):
        year = 0
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise PublisherError(
            f"{value!s} is out of range (years {YEAR_MIN}–{YEAR_MAX})",
            field=field_name,
            ja=f"{YEAR_MIN}年から{YEAR_MAX}年までの日時を入力してください",
        )
    return dt


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
                raise PublisherError(
                    f'{raw!r} is not a time range like "07:00-10:00"',
                    field=where,
                    ja=f"「{raw}」は時間帯として読めません（例：07:00-10:00）",
                )
            raw = {"start": m[1], "end": m[2]}
        if not isinstance(raw, dict):
            raise PublisherError(
                'must be {"start": "HH:MM", "end": "HH:MM"}',
                field=where,
                ja="時間帯は 07:00-10:00 のように入力してください",
            )
        try:
            start = time.fromisoformat(str(raw.get("start", "")).zfill(5))
            end = time.fromisoformat(str(raw.get("end", "")).zfill(5))
        except ValueError:
            raise PublisherError(
                "start and end must be HH:MM times",
                field=where,
                ja="開始と終了は 07:00 のような時刻で入力してください",
            ) from None
        if start == end:
            raise PublisherError(
                "start and end are the same time", field=where, ja="開始と終了が同じ時刻です"
            )
        days = raw.get("weekdays") or list(WEEKDAYS)
        if not isinstance(days, list):
            raise PublisherError(
                'weekdays is a list like ["mon", "tue"]', field=where, ja="曜日を選んでください"
            )
        bad = [d for d in days if not isinstance(d, str) or d not in WEEKDAYS]
        if bad:
            raise PublisherError(
                f"unknown weekday {bad[0]!r} (use {', '.join(WEEKDAYS)})",
                field=where,
                ja="曜日を選び直してください",
            )
        out.append(Daypart(start, end, frozenset(WEEKDAYS.index(d) for d in days)))
    return tuple(out)


def choice(
    value: Any,
    choices: tuple[str, ...] | Mapping[str, str],
    field_name: str,
    default: str | None = None,
) -> str | None:
    if value in (None, ""):
        return default
    if not isinstance(value, str):
        raise PublisherError(
            f"must be one of {', '.join(choices)}, not {type(value).__name__}",
            field=field_name,
            ja="一覧から選んでください",
        )
    if value not in choices:
        raise PublisherError(
            f"{value!r} is not one of {', '.join(choices)}{did_you_mean(str(value), choices)}",
            field=field_name,
            ja="一覧から選んでください",
        )
    return str(value)


def parse_alt(raw: Any) -> dict[str, str]:
    """``{"ja": "...", "en": "..."}`` (or a plain string for Japanese): a picture's
    alternative text per language; empty values are left out."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        raw = {"ja": raw}
    if not isinstance(raw, Mapping):
        raise PublisherError(
            'must be {"ja": "...", "en": "..."}',
            field="image_alt",
            ja="画像の説明を入力し直してください",
        )
    out: dict[str, str] = {}
    for lang in LANGUAGES:
        text = raw.get(lang)
        if text is None:
            continue
        if not isinstance(text, str):
            raise PublisherError(
                "must be text", field=f"image_alt.{lang}", ja="文字で入力してください"
            )
        text = " ".join(text.split())
        if len(text) > ALT_MAX_CHARS:
            raise PublisherError(
                f"is {len(text)} characters; at most {ALT_MAX_CHARS}",
                field=f"image_alt.{lang}",
                ja=f"{len(text)}文字あります。{ALT_MAX_CHARS}文字以内にしてください",
            )
        if text:
            out[lang] = text
    for lang in raw:
        if lang not in LANGUAGES:
            raise PublisherError(
                f"unknown language {lang!r} (use {', '.join(LANGUAGES)})",
                field=f"image_alt.{lang}",
                ja="この言語には対応していません",
            )
    return out


def parse_place(raw: Any) -> Place | None:
    if not raw:
        return None
    if isinstance(raw, str):
        if len(raw.strip()) > PLACE_NAME_MAX_CHARS:
            raise PublisherError(
                f"is longer than {PLACE_NAME_MAX_CHARS} characters",
                field="place",
                ja=f"会場名は{PLACE_NAME_MAX_CHARS}文字以内にしてください",
            )
        return Place(raw.strip())
    if not isinstance(raw, Mapping) or not str(raw.get("name", "")).strip():
        raise PublisherError(
            'must be {"name": ..., "address": ..., "lat": ..., "lon": ...}',
            field="place",
            ja="会場名を入力してください",
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
            raise PublisherError(
                "must be a number", field=f"place.{key}", ja="数字で入力してください"
            ) from None
        if not -limit <= f <= limit:
            raise PublisherError(
                f"must be between -{limit} and {limit}",
                field=f"place.{key}",
                ja=f"-{limit}から{limit}までの数字にしてください",
            )
        coords.append(f)
    name, address = raw["name"], raw.get("address") or ""
    if not isinstance(name, str) or not isinstance(address, str):
        raise PublisherError(
            "name and address are text", field="place", ja="会場名と住所は文字で入力してください"
        )
    if len(name.strip()) > PLACE_NAME_MAX_CHARS or len(address.strip()) > ADDRESS_MAX_CHARS:
        raise PublisherError(
            f"name at most {PLACE_NAME_MAX_CHARS} characters, address at most "
            f"{ADDRESS_MAX_CHARS}",
            field="place",
            ja=f"会場名は{PLACE_NAME_MAX_CHARS}文字以内、住所は{ADDRESS_MAX_CHARS}文字以内にしてください",
        )
    return Place(name.strip(), address.strip(), coords[0], coords[1])
