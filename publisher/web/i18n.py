"""The residents' pages in the reader's language: message catalogues, the language choice, dates.

Wording lives in one TOML catalogue per language, ``templates/public/messages/<lang>.toml``
(the six of :data:`publisher.areas.LANGUAGES`), read once at start-up
(:func:`publisher.area_names.catalogues`); no compile step. Area and office names are
:mod:`publisher.area_names`'. Every
catalogue has the same keys (a test fails when one is missing); ``{name}`` placeholders are
filled by :func:`Messages.__call__`.

Which language a page is in (:func:`choose_language`): ``?lang=`` wins (a QR code on an English
slide opens ``/items/42?lang=en``; the language switch links the same way), then the
``lang`` cookie the switch left (so the choice sticks), then the browser's
``Accept-Language`` on a first visit, else Japanese.

Dates are Babel's (``format_date`` with each catalogue's pattern) in the ward's time; やさしい日本語
writes times as ごぜん/ごご and ranges as 「〜から 〜まで」 (its furigana, dates read right:
:func:`publisher.render.ruby.easy_ruby`). Posters and bulletins write dates the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Formatter

from babel.dates import format_date

from publisher import area_names
from publisher.area_names import catalogues
from publisher.areas import LANGUAGES, Area
from publisher.items import JST, Item

DEFAULT = "ja"
COOKIE = "lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600
BABEL_LOCALE = {
    "ja": "ja",
    "ja-x-easy": "ja",
    "en": "en",
    "zh-Hans": "zh_Hans",
    "zh-Hant": "zh_Hant",
    "ko": "ko",
}
# Accept-Language tags (lower case, by prefix) → our languages; the first that matches wins.
_TAGS = (
    ("ja-x-easy", "ja-x-easy"),
    ("ja", "ja"),
    ("en", "en"),
    ("zh-hant", "zh-Hant"),
    ("zh-tw", "zh-Hant"),
    ("zh-hk", "zh-Hant"),
    ("zh-mo", "zh-Hant"),
    ("zh", "zh-Hans"),
    ("ko", "ko"),
)


def catalogue_problems() -> list[str]:
    """What is wrong with the catalogues: a key missing in a language, or a placeholder that
    differs from the Japanese one (``[]`` when all is well)."""
    cats = catalogues()
    problems = []
    keys = set().union(*(c.keys() for c in cats.values()))
    for key in sorted(keys):
        wanted = _fields(cats[DEFAULT].get(key, ""))
        for lang, cat in cats.items():
            if key not in cat:
                problems.append(f"{lang}.toml: no message '{key}'")
            elif key not in ("time_format",) and _fields(cat[key]) != wanted:
                problems.append(
                    f"{lang}.toml: '{key}' has placeholders {sorted(_fields(cat[key]))}, "
                    f"ja.toml has {sorted(wanted)}"
                )
    return problems


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def normalise(value: str | None) -> str | None:
    """One of our languages for a ``?lang=`` value or a cookie, or ``None``."""
    if not value:
        return None
    for lang in LANGUAGES:
        if value.lower() == lang.lower():
            return lang
    return None


def from_accept_language(header: str | None) -> str | None:
    """The reader's most wanted language that we have, from an ``Accept-Language`` header."""
    if not header:
        return None
    wanted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality, position, tag.strip().lower().replace("_", "-")))
    for _, _, tag in sorted(wanted):
        for prefix, lang in _TAGS:
            if tag == prefix or tag.startswith(prefix + "-"):
                return lang
    return None


def choose_language(arg: str | None, cookie: str | None, accept: str | None) -> str:
    """``?lang=``, else the switch's cookie, else ``Accept-Language``, else Japanese."""
    return normalise(arg) or normalise(cookie) or from_accept_language(accept) or DEFAULT


def html_lang(lang: str) -> str:
    """The ``lang`` attribute for a language (やさしい日本語 is Japanese to a screen reader)."""
    return "ja" if lang.startswith("ja") else lang


@dataclass(frozen=True)
class Messages:
    """One language's words for a template: ``t("area_title", area=...)``."""

    lang: str

    def __call__(self, key: str, **values: object) -> str:
        text = catalogues()[self.lang][key]
        return text.format(**values) if values else text

    def area(self, area: Area) -> str:
        """The area itself: 代沢地区, Daizawa District, 代澤地區, 다이자와 지구."""
        return area_names.area_name(area, self.lang)

    def office(self, area: Area) -> str:
        """Who issues: 代沢まちづくりセンター, Daizawa District Center, 다이자와 마을만들기센터."""
        return area_names.office_name(area, self.lang)

    def category(self, code: str) -> str:
        """A topic's name (防災, Disaster preparedness, さいがいに そなえる …)."""
        return self(f"category_{code}")

    def date(self, value: datetime) -> str:
        """A day in the ward's time: 2026年12月3日（木）, Thursday 3 December 2026 …"""
        return format_date(
            value.astimezone(JST).date(), self("date_format"), locale=BABEL_LOCALE[self.lang]
        )

    def time(self, value: datetime) -> str:
        """A time of day: 9:30; in やさしい日本語 ごぜん9時30分, ひる12時, ごご1時."""
        t = value.astimezone(JST)
        return self(
            "time_format",
            h=t.hour,
            mm=f"{t.minute:02d}",
            ampm="ごぜん" if t.hour < 12 else ("ひる" if t.hour == 12 else "ごご"),
            h12=t.hour if t.hour == 12 else t.hour % 12,
            min=f"{t.minute}分" if t.minute else "",
        )

    def when(self, item: Item) -> str:
        """When an event happens: its day (or days) and times, or ``""`` without a date."""
        start, end = item.event_starts_at, item.event_ends_at
        if start is None:
            return ""
        if item.all_day:
            last = (end - timedelta(seconds=1)) if end else start
            if last.astimezone(JST).date() > start.astimezone(JST).date():
                days = self("time_range", start=self.date(start), end=self.date(last))
                return self("all_day", date=days)
            return self("all_day", date=self.date(start))
        begins = self("date_time", date=self.date(start), time=self.time(start))
        if end is None:
            return begins
        same_day = end.astimezone(JST).date() == start.astimezone(JST).date()
        finish = (
            self.time(end)
            if same_day
            else self("date_time", date=self.date(end), time=self.time(end))
        )
        return self("time_range", start=begins, end=finish)
