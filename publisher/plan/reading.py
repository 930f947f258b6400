"""Reading time: how long a slide stays up so people in a lobby can read all of it.

Pure arithmetic on text. Rates are for reading a screen from a few metres, slower than a page
at a desk: ``CJK_CHARS_PER_S`` characters a second in Japanese and Chinese (every character
shown: title, date, place, body), ``LATIN_WORDS_PER_S`` words a second in other languages, after
``GLANCE_S`` to notice a new slide. Durations are rounded up, so a slide never asks for faster
reading than these rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from publisher.items import Item

SLIDE_MIN_DURATION_S = 8
# A page holds at most what can be read in this long (the renderer starts a new page before).
PAGE_MAX_DURATION_S = 45
SLIDE_MAX_DURATION_S = PAGE_MAX_DURATION_S
# Reading on a lobby screen from a few metres: slower than reading a page at a desk.
CJK_CHARS_PER_S = 7.0
LATIN_WORDS_PER_S = 2.5
GLANCE_S = 2.0  # time to notice a new slide before reading starts
# Without a renderer's pages (plain planning): what one slide holds at most, roughly.
READ_CHARS_CAP = 220
READ_WORDS_CAP = 70
CJK_LANGS = ("ja", "ja-x-easy", "zh-Hans", "zh-Hant")

# What each page of an item's slide in a language shows, as the text read there (title, date,
# place and that page's body): the renderer's measure, passed in so planning stays pure.
Pages = Callable[[Item, str], Sequence[str]]


def reading_seconds(text: str, lang: str) -> float:
    """Seconds to notice a slide and read ``text`` in ``lang`` at the planner's rates (on a
    slide in another language, Japanese place names are read by characters)."""
    if lang in CJK_LANGS:
        return GLANCE_S + sum(1 for c in text if not c.isspace()) / CJK_CHARS_PER_S
    cjk = sum(1 for c in text if _is_cjk(c))
    words = len("".join(" " if _is_cjk(c) else c for c in text).split())
    return GLANCE_S + words / LATIN_WORDS_PER_S + cjk / CJK_CHARS_PER_S


def _is_cjk(c: str) -> bool:
    """Kanji, kana and CJK punctuation (not Hangul: Korean is read by words)."""
    return "\u3000" <= c <= "\u30ff" or "\u3400" <= c <= "\u9fff" or "\uff00" <= c <= "\uff60"


def page_duration_s(text: str, lang: str) -> int:
    """A page's duration: its reading time rounded up, never below ``SLIDE_MIN_DURATION_S``."""
    return max(SLIDE_MIN_DURATION_S, math.ceil(reading_seconds(text, lang) - 1e-9))


def plain_pages(item: Item, lang: str) -> list[str]:
    """One page, its text as far as a slide holds it (planning without a renderer)."""
    t = item.text(lang)
    lines = [t.title, item.place.name if item.place else "", t.body]
    text = " ".join(x for x in lines if x)
    if t.lang in CJK_LANGS:
        kept, n = [], 0
        for ch in text:
            n += not ch.isspace()
            if n > READ_CHARS_CAP:
                break
            kept.append(ch)
        return ["".join(kept)]
    return [" ".join(text.split()[:READ_WORDS_CAP])]


def reading_time_s(item: Item, lang: str) -> int:
    """Seconds to notice and read the item's slide in ``lang`` (one page, plain planning)."""
    return min(
        PAGE_MAX_DURATION_S, page_duration_s(plain_pages(item, lang)[0], item.text(lang).lang)
    )
