"""Furigana (ruby) for やさしい日本語: which kanji get which reading.

The national guideline for やさしい日本語 (出入国在留管理庁・文化庁「在留支援のためのやさしい
日本語ガイドライン」, 2020) asks for readings over kanji. The readings come from a morphological
analyser whose dictionary ships as a Python package (fugashi with unidic-lite): nothing is
downloaded at run time. Staff can fix a reading the analyser gets wrong (place names above all:
「代沢」, 「烏山」) with a per-item table, ``readings`` (base text → hiragana).

- :func:`ruby_segments` splits a text into ``(base, reading)`` pairs; ``reading`` is hiragana
  for a run of kanji and ``None`` for kana, Latin letters, digits and punctuation. Okurigana
  stay outside the ruby (「行い」 → 「行(おこな)」「い」).
- :func:`parse_readings` reads staff's table (``漢字=かんじ`` lines; it lives with the other
  input checks in :mod:`publisher.item_input`, and an item keeps it per translation);
- :func:`ruby_html` is the same as HTML (``<ruby>基<rp>(</rp><rt>き</rt><rp>)</rp></ruby>``),
  escaped, for public pages;
- :func:`easy_segments` and :func:`easy_ruby` also read dates as people say them (「1日」
  ついたち, 「25日」 にじゅうごにち, 「水曜日」 すいようび), for pages and posters.

Slides draw the same segments (:mod:`publisher.render.layout`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from publisher.item_input import parse_readings

Segment = tuple[str, str | None]
__all__ = [
    "COMMON_READINGS",
    "easy_ruby",
    "easy_segments",
    "parse_readings",
    "ruby_html",
    "ruby_segments",
]

# CJK ideographs (with 々 〆 ヶ, which take readings like kanji)
_KANJI = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f々〆ヶ"
_HAS_KANJI = re.compile(f"[{_KANJI}]")
_KANJI_RUNS = re.compile(f"([{_KANJI}]+)")
_DIGITS = re.compile(r"[0-9０-９]+$")
# 分 after a number: いっぷん, さんぷん, よんぷん, ろっぷん, はっぷん, じゅっぷん; else ふん
_PUN_AFTER = frozenset("134680１３４６８０")

# Words the dictionary reads wrongly on ward notices (rendaku it does not know, e.g. 避難所 is
# ひなんじょ, not ひなんしょ); an item's own readings come first, then these.
COMMON_READINGS = {
    "避難所": "ひなんじょ",
    "避難場所": "ひなんばしょ",
    "給水所": "きゅうすいじょ",
    "救護所": "きゅうごじょ",
    "集会所": "しゅうかいじょ",
    "出張所": "しゅっちょうじょ",
}

_tagger_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tagger() -> Any:
    import fugashi  # imported here: only easy-Japanese text pays for the dictionary

    return fugashi.Tagger()


def hiragana(kana: str) -> str:
    """Katakana → hiragana (ー and other marks unchanged)."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in kana)


def has_kanji(text: str) -> bool:
    return bool(_HAS_KANJI.search(text))


def ruby_segments(text: str, readings: Mapping[str, str] | None = None) -> list[Segment]:
    """``text`` as ``(base, reading)`` pairs whose bases join back to ``text`` exactly."""
    mine = sorted((readings or {}).items(), key=lambda kv: (-len(kv[0]), kv[0]))
    common = [kv for kv in COMMON_READINGS.items() if kv[0] not in dict(mine)]
    fixed = (*mine, *sorted(common, key=lambda kv: (-len(kv[0]), kv[0])))
    return list(_segments(text, fixed))


def ruby_html(text: str, readings: Mapping[str, str] | None = None) -> Markup:
    """``text`` as escaped HTML with ``<ruby>`` over every run of kanji."""
    return _html(ruby_segments(text, readings))


def _html(segments: list[Segment]) -> Markup:
    out = []
    for base, reading in segments:
        if reading:
            out.append(f"<ruby>{escape(base)}<rp>(</rp><rt>{escape(reading)}</rt><rp>)</rp></ruby>")
        else:
            out.append(str(escape(base)))
    return Markup("".join(out))


# Dates get furigana as a person reads them, not as the analyser guesses (it reads 「25日」's
# 日 as か): 日 after a number is にち, except the days read as a whole (1日 ついたち …
# 24日 にじゅうよっか); 月 after a number is がつ; 水曜日 is すいようび.
_WHOLE_DAYS = {
    1: "ついたち",
    2: "ふつか",
    3: "みっか",
    4: "よっか",
    5: "いつか",
    6: "むいか",
    7: "なのか",
    8: "ようか",
    9: "ここのか",
    10: "とおか",
    14: "じゅうよっか",
    20: "はつか",
    24: "にじゅうよっか",
}
_WEEKDAYS = dict(
    zip("月火水木金土日", ("げつ", "か", "すい", "もく", "きん", "ど", "にち"), strict=True)
)
_DATE_PARTS = re.compile(r"(?<![0-9])([0-9]{1,2})([月日])|([月火水木金土日])曜日")


def easy_segments(text: str, readings: Mapping[str, str] | None = None) -> list[Segment]:
    """:func:`ruby_segments` with dates read right (see above); ``readings``: staff's own
    readings for the item's words (they win over the analyser)."""
    out: list[Segment] = []
    at = 0
    for m in _DATE_PARTS.finditer(text):
        out.extend(ruby_segments(text[at : m.start()], readings))
        number, unit, weekday = m.groups()
        if weekday:
            out.append((m.group(0), _WEEKDAYS[weekday] + "ようび"))
        elif unit == "日" and int(number) in _WHOLE_DAYS:
            out.append((m.group(0), _WHOLE_DAYS[int(number)]))
        else:
            out.extend([(number, None), (unit, "がつ" if unit == "月" else "にち")])
        at = m.end()
    out.extend(ruby_segments(text[at:], readings))
    return out


def easy_ruby(text: str, readings: Mapping[str, str] | None = None) -> Markup:
    """``text`` as HTML with furigana over its kanji, dates read right."""
    return _html(easy_segments(text, readings))


@lru_cache(maxsize=4096)
def _segments(text: str, fixed: tuple[tuple[str, str], ...]) -> tuple[Segment, ...]:
    if not has_kanji(text):
        return ((text, None),) if text else ()
    for base, reading in fixed:  # staff's readings first, longest first
        at = text.find(base)
        if at >= 0 and base:
            return (
                *_segments(text[:at], fixed),
                (base, reading),
                *_segments(text[at + len(base) :], fixed),
            )
    return tuple(_merge(_analyse(text)))


def _analyse(text: str) -> list[Segment]:
    core = text.rstrip()
    if core != text:  # the analyser reports whitespace before a word, never after the last
        return [*_analyse(core), (text[len(core) :], None)]
    with _tagger_lock:
        words = [(w.surface, w.feature.kana, w.white_space) for w in _tagger()(text)]
    out: list[Segment] = []
    for surface, kana, space in words:
        if space:
            out.append((space, None))
        reading = hiragana(kana) if isinstance(kana, str) and kana != "*" else None
        if surface == "分" and out and _DIGITS.search(out[-1][0] or ""):
            reading = "ぷん" if out[-1][0][-1] in _PUN_AFTER else "ふん"
        out.extend(_align(surface, reading))
    # the analyser drops nothing but whitespace it reports; keep the text exact regardless
    if "".join(b for b, _ in out) != text:
        return [(text, None)]
    return out


def _align(surface: str, reading: str | None) -> list[Segment]:
    """One word's reading spread over its kanji runs, its kana left bare (okurigana)."""
    if not has_kanji(surface) or not reading:
        return [(surface, None)]
    parts = [p for p in _KANJI_RUNS.split(surface) if p]
    pattern = "".join(
        "(.+?)" if _HAS_KANJI.match(p) else f"({re.escape(hiragana(p))})" for p in parts
    )
    m = re.fullmatch(pattern, reading)
    if not m:
        return [(surface, reading)]
    return [(p, r if _HAS_KANJI.match(p) else None) for p, r in zip(parts, m.groups(), strict=True)]


def _merge(segments: list[Segment]) -> list[Segment]:
    """Adjacent bare runs joined, so callers get few pieces."""
    out: list[Segment] = []
    for base, reading in segments:
        if out and reading is None and out[-1][1] is None:
            out[-1] = (out[-1][0] + base, None)
        else:
            out.append((base, reading))
    return out
