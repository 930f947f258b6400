"""Post text for X, Mastodon, Bluesky and LINE: one item, in each network's form and length.

Pure: an :class:`~publisher.items.Item`, the area tree and the item page's link in, a
:class:`Post` (text, Bluesky facets, length figure) out. No database, clock or network.

A post reads: the drill or emergency marker (【訓練】 / 【緊急】), the title, the key facts
(date and place), a short body, the link to the item page, and hashtags for the area
(#世田谷区 plus the issuing region or district). When it is too long for the network, the body
is cut at a phrase boundary (budoux for Japanese, words for Latin text) with "…", then
dropped, then the hashtags go, then the title is cut the same way. The marker and the link are
never cut.

Each network counts differently (reference/standards.md, "SNS length rules"):

- X: twitter-text weighting, 280; CJK weighs 2, any URL 23 (``twitter-text-parser``).
- Mastodon: the instance's limit (default 500) in grapheme clusters, each URL counting
  ``characters_reserved_per_url`` (23).
- Bluesky: 300 grapheme clusters; the link and hashtags are facets with UTF-8 byte offsets.
- LINE: 5,000 UTF-16 code units.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import regex
from twitter_text import parse_tweet

from publisher.areas import AreaTree
from publisher.items import CAP_DRILL_STATUSES, Item

NETWORKS = ("x", "mastodon", "bluesky", "line")
X_MAX_WEIGHT = 280
MASTODON_DEFAULT_MAX_CHARS = 500
MASTODON_DEFAULT_URL_CHARS = 23
BLUESKY_MAX_GRAPHEMES = 300
LINE_MAX_UTF16_UNITS = 5000
ELLIPSIS = "…"
JST = ZoneInfo("Asia/Tokyo")
_WEEKDAYS_JA = "月火水木金土日"
_URL = re.compile(r"https?://[^\s]+")
_HASHTAG = re.compile(r"(?<!\S)#[^\s#]+")


@dataclass(frozen=True)
class Limits:
    """How one network (or one Mastodon instance) measures a post."""

    network: str
    max_length: int
    url_length: int = 23  # Mastodon's characters_reserved_per_url

    @classmethod
    def for_network(cls, network: str, **instance: Any) -> Limits:
        if network == "x":
            return cls("x", X_MAX_WEIGHT)
        if network == "mastodon":
            return cls(
                "mastodon",
                int(instance.get("max_characters") or MASTODON_DEFAULT_MAX_CHARS),
                int(instance.get("characters_reserved_per_url") or MASTODON_DEFAULT_URL_CHARS),
            )
        if network == "bluesky":
            return cls("bluesky", BLUESKY_MAX_GRAPHEMES)
        if network == "line":
            return cls("line", LINE_MAX_UTF16_UNITS)
        raise ValueError(f"unknown network '{network}' (use {', '.join(NETWORKS)})")

    @property
    def unit(self) -> str:
        return {
            "x": "weighted",
            "mastodon": "characters",
            "bluesky": "graphemes",
            "line": "UTF-16 units",
        }[self.network]

    def measure(self, text: str) -> int:
        return measure(text, self)


@dataclass(frozen=True)
class Post:
    """What goes out: the text, Bluesky's facets (empty elsewhere) and its measured length."""

    network: str
    lang: str
    text: str
    length: int
    limit: int
    facets: list[dict[str, Any]] = field(default_factory=list)
    cut: bool = False  # the body or title had to be shortened


# -- counting ------------------------------------------------------------------------------------


def graphemes(text: str) -> int:
    """User-perceived characters: 👨‍👩‍👧 is one, か+゛ is one."""
    return len(regex.findall(r"\X", text))


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def measure(text: str, limits: Limits) -> int:
    """The length of ``text`` as ``limits.network`` counts it."""
    if limits.network == "x":
        return int(parse_tweet(text).weightedLength)
    if limits.network == "mastodon":
        return graphemes(_URL.sub("x" * limits.url_length, text))
    if limits.network == "bluesky":
        return graphemes(text)
    return utf16_units(text)


# -- cutting -------------------------------------------------------------------------------------


@cache
def _budoux() -> Any:
    import budoux

    return budoux.load_default_japanese_parser()


def phrases(text: str) -> list[str]:
    """Pieces a cut may fall between: budoux phrases for Japanese, words for Latin text."""
    if not text:
        return []
    if regex.search(r"[\p{Han}\p{Hiragana}\p{Katakana}]", text):
        out: list[str] = []
        for line in text.splitlines(keepends=True):
            out.extend(_budoux().parse(line) if line.strip() else [line])
        return out
    return re.findall(r"\S+\s*|\s+", text)


def shorten(text: str, fits: Callable[[str], bool]) -> str | None:
    """The longest phrase-boundary prefix of ``text`` plus "…" that ``fits``, or None.

    Trailing spaces and a dangling 、 are dropped before the ellipsis. A text that is a single
    phrase (a run budoux cannot split) is cut between grapheme clusters, never inside one.
    """
    pieces = phrases(text)
    if len(pieces) == 1:  # one unbreakable run (no phrase or word inside): whole graphemes
        pieces = regex.findall(r"\X", text)
    best = None
    lo, hi = 1, len(pieces) - 1  # fewer than all pieces: something must be cut
    while lo <= hi:  # fits() is monotone in the prefix length
        mid = (lo + hi) // 2
        candidate = "".join(pieces[:mid]).rstrip().rstrip("、,") + ELLIPSIS
        if fits(candidate):
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


# -- composing -----------------------------------------------------------------------------------


def is_drill(item: Item) -> bool:
    return item.drill or bool(item.alert and item.alert.cap_status in CAP_DRILL_STATUSES)


def marker(item: Item, lang: str) -> str:
    """【訓練】 on every drill, 【緊急】 on a real emergency; nothing otherwise."""
    ja = not lang.startswith("en")
    if is_drill(item):
        return "【訓練】" if ja else "[DRILL] "
    if item.is_emergency:
        return "【緊急】" if ja else "[EMERGENCY] "
    return ""


def when_text(item: Item, lang: str, tz: ZoneInfo = JST) -> str:
    """12月6日（土）10:00〜12:00 (ja) or Sat 6 Dec 10:00–12:00 (other languages)."""
    start, end = item.event_starts_at, item.event_ends_at
    if start is None:
        return ""
    s = start.astimezone(tz)
    e = end.astimezone(tz) if end else None
    if lang.startswith("ja"):
        out = _ja_date(s)
        if not item.all_day:
            out += f"{s:%H:%M}〜"
        if e and e.date() != s.date():
            out += ("〜" if item.all_day else "") + _ja_date(e)
            if not item.all_day:
                out += f"{e:%H:%M}"
        elif e and not item.all_day:
            out += f"{e:%H:%M}"
        return out
    out = f"{s:%a} {s.day} {s:%b}"
    if not item.all_day:
        out += f" {s:%H:%M}"
    if e and e.date() != s.date():
        out += f" – {e:%a} {e.day} {e:%b}" + ("" if item.all_day else f" {e:%H:%M}")
    elif e and not item.all_day:
        out += f"–{e:%H:%M}"
    return out


def _ja_date(d: datetime) -> str:
    return f"{d.month}月{d.day}日（{_WEEKDAYS_JA[d.weekday()]}）"


def hashtags(item: Item, tree: AreaTree, lang: str) -> list[str]:
    """#世田谷区 and the issuing region or district (#北沢地域, #代沢地区); a ward-wide item
    carries the ward's tag alone."""
    issuer = tree.issuer(item.targets)
    ja = lang.startswith("ja")
    tags = ["#" + (tree.ward.short_name if ja else (tree.ward.name_en or tree.ward.name))]
    if issuer.tier != "ward":
        tags.append("#" + (issuer.short_name if ja else (issuer.name_en or issuer.short_name)))
    return tags


def compose(
    item: Item, tree: AreaTree, link: str, limits: Limits, lang: str = "ja", tz: ZoneInfo = JST
) -> Post:
    """The post for one network and language, cut to fit."""
    t = item.text(lang)
    ja = lang.startswith("ja")
    facts = []
    when = when_text(item, lang, tz)
    if when:
        facts.append(("日時：" if ja else "When: ") + when)
    if item.place and item.place.name:
        facts.append(("場所：" if ja else "Where: ") + item.place.name)
    head = marker(item, lang)
    title = t.title
    if head and title.startswith(head.strip()):
        head = ""  # the title already carries it (CAP drills often do)
    body = "\n".join(line.strip() for line in t.body.splitlines() if line.strip())
    tags = " ".join(hashtags(item, tree, lang))

    def build(title: str, body: str, tags: str) -> str:
        lines = [head + title, *facts]
        if body:
            lines.append(body)
        lines.append(link)
        if tags:
            lines.append(tags)
        return "\n".join(lines)

    def fits(text: str) -> bool:
        return measure(text, limits) <= limits.max_length

    text, cut = build(title, body, tags), False
    if not fits(text) and body:
        cut = True
        short = shorten(body, lambda b: fits(build(title, b, tags)))
        text = build(title, short or "", tags)
    if not fits(text):
        text = build(title, "", "")
    if not fits(text):
        short = shorten(title, lambda x: fits(build(x, "", "")))
        text = build(short or ELLIPSIS, "", "")
    facets = bluesky_facets(text, link) if limits.network == "bluesky" else []
    return Post(limits.network, lang, text, measure(text, limits), limits.max_length, facets, cut)


def bluesky_facets(text: str, link: str) -> list[dict[str, Any]]:
    """The link and hashtags as ``app.bsky.richtext.facet`` entries (UTF-8 byte offsets)."""
    facets: list[dict[str, Any]] = []

    def span(start: int, end: int) -> dict[str, int]:
        return {
            "byteStart": len(text[:start].encode("utf-8")),
            "byteEnd": len(text[:end].encode("utf-8")),
        }

    at = text.find(link)
    if at >= 0:
        facets.append(
            {
                "index": span(at, at + len(link)),
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": link}],
            }
        )
    for m in _HASHTAG.finditer(text):
        facets.append(
            {
                "index": span(m.start(), m.end()),
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": m.group()[1:]}],
            }
        )
    return facets
