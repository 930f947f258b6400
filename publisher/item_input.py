"""Untrusted input into items: what the API, the admin, the command line, demo files and
importers submit, checked field by field.

:func:`parse_item` turns JSON-like input into an :class:`~publisher.items.Item` or raises
:class:`~publisher.errors.PublisherError` naming the field at fault (``translations.en.title``,
``dayparts[2].from``), so every route answers bad input with where and why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from publisher.areas import LANGUAGES, AreaTree
from publisher.errors import PublisherError, did_you_mean
from publisher.item_fields import (
    ADDRESS_MAX_CHARS,
    ALT_MAX_CHARS,
    PLACE_NAME_MAX_CHARS,
    YEAR_MAX,
    YEAR_MIN,
    choice,
    parse_alt,
    parse_dayparts,
    parse_place,
    parse_time,
)
from publisher.items import (
    ALERT_KINDS,
    BODY_MAX_CHARS,
    CATEGORIES,
    IMAGE_NAME,
    KINDS,
    PRIORITIES,
    TITLE_MAX_CHARS,
    AlertInfo,
    Item,
    Translation,
    clean_json,
)

# What the store's columns hold (longer text is refused here, with the field, not by the database)
URL_MAX_CHARS = 1000


def parse_translations(title: Any, body: Any = None) -> tuple[Translation, ...]:
    """``title``/``body`` as ``{"ja": ..., "en": ...}`` (or a plain string for Japanese)."""
    if isinstance(title, str):
        title = {"ja": title}
    if body is None:
        body = {}
    if isinstance(body, str):
        body = {"ja": body}
    if not isinstance(title, dict):
        raise PublisherError(
            'must be {"ja": "..."} with Japanese required',
            field="title",
            ja="日本語のタイトルを入力してください",
        )
    if not isinstance(body, dict):
        raise PublisherError(
            'must be {"ja": "...", "en": "..."}', field="body", ja="本文を入力し直してください"
        )
    for lang in (*title, *body):
        if lang not in LANGUAGES:
            raise PublisherError(
                f"unknown language {lang!r} (use {', '.join(LANGUAGES)})"
                f"{did_you_mean(str(lang), LANGUAGES)}",
                field=f"title.{lang}",
                ja="この言語には対応していません",
            )
    if not isinstance(title.get("ja"), str) or not title["ja"].strip():
        raise PublisherError(
            "a Japanese title is required (title.ja)",
            field="title.ja",
            ja="日本語のタイトルは必須です。入力してください",
        )
    out = []
    for lang in LANGUAGES:  # canonical order: ja first
        t, b = title.get(lang), body.get(lang, "")
        if t is None and b:
            raise PublisherError(
                f"has a body in {lang} but no title in {lang}",
                field=f"title.{lang}",
                ja="本文があるのにタイトルがありません。タイトルも入力してください",
            )
        if t is None:
            continue
        if not isinstance(t, str) or not isinstance(b, str):
            raise PublisherError("must be text", field=f"title.{lang}", ja="文字で入力してください")
        t, b = t.strip(), b.strip()
        if not t:
            raise PublisherError("is empty", field=f"title.{lang}", ja="空欄です")
        if len(t) > TITLE_MAX_CHARS:
            raise PublisherError(
                f"is {len(t)} characters; at most {TITLE_MAX_CHARS}",
                field=f"title.{lang}",
                ja=f"{len(t)}文字あります。{TITLE_MAX_CHARS}文字以内にしてください",
            )
        if len(b) > BODY_MAX_CHARS:
            raise PublisherError(
                f"is {len(b)} characters; at most {BODY_MAX_CHARS}",
                field=f"body.{lang}",
                ja=f"{len(b)}文字あります。{BODY_MAX_CHARS}文字以内にしてください",
            )
        out.append(Translation(lang, t, b))
    return tuple(out)


class ReadingError(ValueError):
    """A line of staff's furigana table that cannot be read; ``ja`` says it for staff."""

    def __init__(self, message: str, ja: str):
        super().__init__(message)
        self.ja = ja


def parse_readings(text: str) -> dict[str, str]:
    """Staff's furigana table, one ``漢字=かんじ`` a line, into a mapping (blank lines skipped).

    Raises :class:`ReadingError` (a ``ValueError``) saying which line is wrong and why."""
    table: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        base, sep, reading = (part.strip() for part in line.replace("＝", "=").partition("="))
        if not sep or not base or not reading:
            raise ReadingError(
                f"line {n}: write 漢字=かんじ (got {line!r})",
                f"{n}行目「{line[:40]}」：「漢字=よみ」の形で書いてください（例：代沢=だいざわ）",
            )
        if not _KANJI.search(base):
            raise ReadingError(
                f"line {n}: {base!r} has no kanji to read",
                f"{n}行目：「{base}」に漢字がありません。ふりがなは漢字に付けます",
            )
        reading = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in reading)
        if not re.fullmatch(r"[\u3041-\u309fー・ ]+", reading):
            raise ReadingError(
                f"line {n}: the reading {reading!r} must be hiragana",
                f"{n}行目：よみ「{reading}」はひらがなで書いてください",
            )
        table[base] = reading
    return table


_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f々〆ヶ]")


def with_readings(translations: tuple[Translation, ...], raw: Any) -> tuple[Translation, ...]:
    """``translations`` with staff's furigana: ``{"ja-x-easy": "代沢=だいざわ\n…"}`` (or a
    mapping per language), for the languages the item has."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise PublisherError(
            'must be {"ja-x-easy": "漢字=かんじ lines"}',
            field="readings",
            ja="「漢字=よみ」を1行に1つずつ書いてください",
        )
    have = {t.lang for t in translations}
    tables: dict[str, tuple[tuple[str, str], ...]] = {}
    for lang, value in raw.items():
        if lang not in have:
            if value:
                raise PublisherError(
                    f"the item has no {lang} text to read",
                    field=f"readings.{lang}",
                    ja="この言語のタイトルがありません。先にタイトル（と本文）を書いてください",
                )
            continue
        if isinstance(value, Mapping):
            value = "\n".join(f"{k}={v}" for k, v in value.items())
        if isinstance(value, str):
            try:
                value = parse_readings(value)
            except ReadingError as e:
                raise PublisherError(str(e), field=f"readings.{lang}", ja=e.ja) from None
        elif isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
            value = dict(value)  # an item's own table, kept through a partial update
        else:
            raise PublisherError(
                "must be 漢字=かんじ lines",
                field=f"readings.{lang}",
                ja="「漢字=よみ」を1行に1つずつ書いてください",
            )
        tables[lang] = tuple(sorted(value.items()))
    return tuple(replace(t, readings=tables.get(t.lang, ())) for t in translations)


def parse_item(data: Mapping[str, Any], tree: AreaTree, *, base: Item | None = None) -> Item:
    """Validate API-shaped input into an :class:`Item`.

    With ``base``, ``data`` is a partial update (PATCH): fields it leaves out keep their value.
    Raises :class:`PublisherError` with ``field`` set to the first field at fault.
    """
    if not isinstance(data, Mapping):
        raise PublisherError("the item must be a JSON object", ja="入力内容を読み取れません")
    data = clean_json(data)  # the one place text enters the store: no character XML forbids
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
        "image_alt",
        "warning_level",
        "alert_kind",
        "readings",
    }
    for key in data:
        if key not in known:
            raise PublisherError(
                f"unknown field{did_you_mean(key, known)}", field=key, ja="この項目は使えません"
            )
    b = base
    kind = choice(data.get("kind", b.kind if b else None), KINDS, "kind")
    if kind is None:
        raise PublisherError(
            f"kind is required ({', '.join(KINDS)})", field="kind", ja="種類を選んでください"
        )

    if "title" in data or "body" in data or b is None:
        old_title = {t.lang: t.title for t in b.translations} if b else None
        old_body = {t.lang: t.body for t in b.translations} if b else None
        translations = parse_translations(data.get("title", old_title), data.get("body", old_body))
    else:
        translations = b.translations
    old_readings = {t.lang: t.readings for t in b.translations} if b else {}
    translations = with_readings(translations, data.get("readings", old_readings))

    raw_targets = data.get("targets", list(b.targets) if b else None)
    if isinstance(raw_targets, str):
        raw_targets = [raw_targets]
    if not raw_targets or not isinstance(raw_targets, list):
        raise PublisherError(
            "at least one target area code is required, e.g. " f'["{tree.ward_code}"]',
            field="targets",
            ja="対象地域を1つ以上選んでください",
        )
    for code in raw_targets:
        if not isinstance(code, str):
            raise PublisherError(
                f"area codes are text, not {type(code).__name__}",
                field="targets",
                ja="対象地域を選び直してください",
            )
        if code not in tree:
            raise PublisherError(
                f"unknown area '{code}'{did_you_mean(str(code), tree.areas)}",
                field="targets",
                ja=f"「{code}」という地域はありません",
            )
    targets = tuple(dict.fromkeys(raw_targets))

    def pick(name: str, current: Any) -> Any:
        return data.get(name, current)

    starts_at = parse_time(pick("starts_at", b.starts_at if b else None), "starts_at")
    ends_at = parse_time(pick("ends_at", b.ends_at if b else None), "ends_at")
    if starts_at and ends_at and ends_at <= starts_at:
        raise PublisherError(
            "ends before it starts (ends_at must be after starts_at)",
            field="ends_at",
            ja="表示終了が表示開始より前になっています。表示開始より後の日時にしてください",
        )
    dayparts = parse_dayparts(data["dayparts"]) if "dayparts" in data else (b.dayparts if b else ())

    priority = choice(pick("priority", b.priority if b else None), PRIORITIES, "priority", "normal")
    if priority == "emergency" and kind != "alert":
        raise PublisherError(
            "only an alert can have emergency priority",
            field="priority",
            ja="「緊急」にできるのは種類が緊急情報のときだけです",
        )
    category = choice(pick("category", b.category if b else None), CATEGORIES, "category")

    event_start = b.event_starts_at if b else None
    event_end = b.event_ends_at if b else None
    all_day = b.all_day if b else False
    if "event" in data:
        ev = data["event"] or {}
        if not isinstance(ev, Mapping):
            raise PublisherError(
                'must be {"starts_at": ..., "ends_at": ...}',
                field="event",
                ja="イベントの開始と終了を入力してください",
            )
        event_start = parse_time(ev.get("starts_at"), "event.starts_at")
        event_end = parse_time(ev.get("ends_at"), "event.ends_at")
        all_day = bool(ev.get("all_day", False))
    if kind == "event" and event_start is None:
        raise PublisherError(
            "an event needs event.starts_at",
            field="event.starts_at",
            ja="イベントには開始日時が必要です",
        )
    if event_start and event_end and event_end < event_start:
        raise PublisherError(
            "the event ends before it starts",
            field="event.ends_at",
            ja="イベントの終了が開始より前になっています",
        )

    place = b.place if b else None
    if "place" in data:
        place = parse_place(data["place"])

    detail_url = pick("detail_url", b.detail_url if b else None) or None
    if detail_url is not None and not (
        isinstance(detail_url, str) and detail_url.startswith(("https://", "http://"))
    ):
        raise PublisherError(
            "must be an http(s) URL",
            field="detail_url",
            ja="https:// で始まるURLを入力してください",
        )
    if detail_url is not None and len(detail_url) > URL_MAX_CHARS:
        raise PublisherError(
            f"is longer than {URL_MAX_CHARS} characters",
            field="detail_url",
            ja=f"URLは{URL_MAX_CHARS}文字以内にしてください",
        )
    drill = pick("drill", b.drill if b else False)
    if not isinstance(drill, bool):
        raise PublisherError(
            "must be true or false", field="drill", ja="訓練か実際かを選んでください"
        )
    image = pick("image", b.image if b else None) or None
    if image is not None and not (isinstance(image, str) and IMAGE_NAME.match(image)):
        raise PublisherError(
            "must be the name of an image uploaded in the admin (e.g. 3f…a9.jpg)",
            field="image",
            ja="画像をもう一度選んでください",
        )

    image_alt = b.image_alt if b else {}
    if "image_alt" in data:
        image_alt = parse_alt(data["image_alt"])
    if image is not None and not image_alt.get("ja") and ("image" in data or "image_alt" in data):
        raise PublisherError(
            "an image needs a Japanese alternative text saying what it shows (image_alt.ja)",
            field="image_alt.ja",
            ja="画像があるときは、画像に何が写っているかの説明（日本語）が必要です",
        )

    alert = b.alert if b else None
    if kind == "alert":
        level = data.get("warning_level", alert.warning_level if alert else None)
        if level is not None and (
            not isinstance(level, int) or isinstance(level, bool) or not 1 <= level <= 5
        ):
            raise PublisherError(
                "警戒レベル is a whole number from 1 to 5",
                field="warning_level",
                ja="1から5までの数字を選んでください",
            )
        alert = alert or AlertInfo(
            severity="Severe" if priority == "emergency" else "Moderate",
            urgency="Immediate" if priority == "emergency" else "Expected",
        )
        # A staff-issued drill is a CAP Exercise, so every channel marks it 訓練.
        if alert.cap_status in ("Actual", "Exercise"):
            alert = replace(alert, cap_status="Exercise" if drill else "Actual")
        alert = replace(alert, warning_level=level)
        if "alert_kind" in data:
            alert = replace(alert, kind=choice(data["alert_kind"], ALERT_KINDS, "alert_kind"))
    elif "warning_level" in data:
        raise PublisherError(
            "only an alert has a 警戒レベル",
            field="warning_level",
            ja="警戒レベルは種類が緊急情報のときだけ選べます",
        )
    elif data.get("alert_kind"):
        raise PublisherError(
            "only an alert has an alert_kind",
            field="alert_kind",
            ja="情報の種類は種類が緊急情報のときだけ選べます",
        )
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
        image_alt=image_alt if image else {},
        alert=alert,
    )


__all__ = [
    "ADDRESS_MAX_CHARS",
    "ALT_MAX_CHARS",
    "PLACE_NAME_MAX_CHARS",
    "URL_MAX_CHARS",
    "YEAR_MAX",
    "YEAR_MIN",
    "parse_alt",
    "parse_dayparts",
    "parse_item",
    "parse_place",
    "parse_time",
    "parse_translations",
]
