"""Line breaking and fitting for slides, set properly in Japanese (and in the ward's other languages).

How a text becomes lines:

1. **Units.** Japanese and Chinese are cut into phrases by budoux (it keeps 、。 and closing
   brackets with the phrase before); every text is also cut after spaces, so やさしい日本語's
   分かち書き and Latin or Korean words break at spaces.
2. **Kinsoku (禁則).** Adjacent units are merged where a break between them would start a line
   with a character of :data:`NO_LINE_START` or end one with :data:`NO_LINE_END`.
3. **Greedy lines**, measured with the real font (``font.getlength``, shaped by raqm when
   Pillow has it). A unit longer than a whole line is broken between characters, at the last
   place that keeps the kinsoku rules.
4. **Fitting.** :func:`fit_text` picks the largest size between a maximum and a minimum readable
   across a lobby at which the text fits its box; if even the minimum does not fit, it keeps the
   lines that fit and ends the last with … (the slide's QR code carries the rest).

The chosen lines come back in a :class:`TextBlock`, so tests check what was actually set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import budoux
import pyphen
from PIL import ImageFont

from publisher.render.fonts import text_length

# JIS X 4051 行頭禁則: closing brackets, punctuation, prolonged sound mark, small kana, ellipses.
NO_LINE_START = frozenset(
    "、。，．・：；？！ー」』）］｝〕〉》】ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ…‥"
    "々〜～ゝゞヽヾ゛゜〟’”»,.:;?!)]}%％"
)  # ～ (U+FF5E) is what people type for the wave dash 〜: it must not start a line either
# 行末禁則: opening brackets.
NO_LINE_END = frozenset("「『（［｛〔〈《【〝‘“«([{")
ELLIPSIS = "…"
# Characters that never start a piece of their own (they belong to the character before).
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")
# Runs a line never breaks inside, in any language: numbers, times, dates, phone numbers,
# Latin words and codes (8:30, 03-5432-1111, 2026/12/6, 12月6日, 9:30〜12:00, No.5).
_ALNUM = r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ%％&@'’_]"
_UNBREAKABLE = re.compile(rf"{_ALNUM}+(?:[:：\-‐－–/／.,，~〜～年月日時]{_ALNUM}+)*[日時分]?")
HYPHEN = "-"
_HYPHENATE_MIN = 6  # letters: shorter words move to the next line whole

Measure = Callable[[str], float]
FontForSize = Callable[[int], ImageFont.FreeTypeFont]


@dataclass(frozen=True)
class Line:
    text: str
    starts_paragraph: bool  # False: the line continues the one before it (a break we chose)


@dataclass(frozen=True)
class TextBlock:
    """Lines set at one size, ready to draw top-down."""

    lines: tuple[Line, ...]
    size_px: int
    line_height_px: int
    paragraph_gap_px: int
    truncated: bool
    width_px: float  # the widest line

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def height_px(self) -> int:
        return block_height(self.lines, self.line_height_px, self.paragraph_gap_px)

    def positions(self) -> Iterator[tuple[int, Line]]:
        """Each line with its top offset inside the block."""
        y = 0
        for i, line in enumerate(self.lines):
            if i and line.starts_paragraph:
                y += self.paragraph_gap_px
            yield y, line
            y += self.line_height_px


def block_height(lines: tuple[Line, ...] | list[Line], line_h: int, gap: int) -> int:
    paragraphs = sum(1 for i, line in enumerate(lines) if i and line.starts_paragraph)
    return len(lines) * line_h + paragraphs * gap


# -- units -------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _parser(lang: str) -> budoux.Parser | None:
    if lang in ("ja", "ja-x-easy"):
        return budoux.load_default_japanese_parser()
    if lang == "zh-Hans":
        return budoux.load_default_simplified_chinese_parser()
    if lang == "zh-Hant":
        return budoux.load_default_traditional_chinese_parser()
    return None


def paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs, whitespace tidied (blank lines between them collapse)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return [re.sub(r"[ \u3000]{2,}", " ", p.strip()) for p in text.split("\n") if p.strip()]


@lru_cache(maxsize=256)
def units(paragraph: str, lang: str) -> tuple[str, ...]:
    """The pieces a paragraph may break between, kinsoku already respected between them."""
    parser = _parser(lang)
    phrases = parser.parse(paragraph) if parser else [paragraph]
    pieces: list[str] = []
    for phrase in phrases:
        pieces.extend(p for p in re.findall(r"[^ ]+ *| +", phrase) if p)
    inside = _protected(paragraph)
    merged: list[str] = []
    offset = 0
    for piece in pieces:
        if merged and (offset in inside or not _may_break(merged[-1], piece)):
            merged[-1] += piece
        else:
            merged.append(piece)
        offset += len(piece)
    return tuple(merged)


def _protected(text: str) -> frozenset[int]:
    """Offsets a break must not fall at (inside a number, time, phone number or word)."""
    return frozenset(k for m in _UNBREAKABLE.finditer(text) for k in range(m.start() + 1, m.end()))


def _may_break(before: str, after: str) -> bool:
    """May a line end after ``before`` and the next begin with ``after`` (spaces vanish there)?"""
    b, a = before.rstrip(), after.lstrip()
    if not b or not a:
        return False
    return (
        a[0] not in NO_LINE_START
        and b[-1] not in NO_LINE_END
        and a[0] not in _JOINERS
        and not unicodedata.combining(a[0])
        and not ("\ufe00" <= a[0] <= "\ufe0f")
    )


def _may_break_at(s: str, k: int) -> bool:
    """May a line end after ``s[:k]``?"""
    return 0 < k < len(s) and _may_break(s[:k], s[k:])


# -- lines -------------------------------------------------------------------------------------


class NeedsSplit(Exception):
    """A unit (phrase, word, number) is wider than a line and splitting was not allowed."""


def wrap(
    text: str,
    measure: Measure,
    max_width: float,
    lang: str,
    max_lines: int | None = None,
    *,
    split_units: bool = True,
) -> list[Line]:
    """Greedy lines no wider than ``max_width``; stops early after ``max_lines`` + 1 lines.

    With ``split_units=False`` a unit wider than a line raises :class:`NeedsSplit` instead of
    being broken inside (so a title can shrink first)."""
    out: list[Line] = []
    for para in paragraphs(text):
        pieces = units(para, lang)
        lines = list(_wrap_paragraph(pieces, measure, max_width, lang, split_units, True))
        if any(measure(line) > max_width for line in lines):  # shaping across pieces differed
            lines = list(_wrap_paragraph(pieces, measure, max_width, lang, split_units, False))
        for i, line in enumerate(lines):
            out.append(Line(line, i == 0))
            if max_lines is not None and len(out) > max_lines:
                return out
    return out


def _wrap_paragraph(
    pieces: tuple[str, ...],
    measure: Measure,
    max_width: float,
    lang: str,
    split_units: bool,
    additive: bool,
) -> Iterator[str]:
    """Lines of one paragraph. ``additive`` adds the pieces' widths (fast: each piece is shaped
    once per size) instead of shaping every candidate line; :func:`wrap` checks the result."""
    cur, cur_w = "", 0.0  # cur_w: the width of cur including its trailing spaces
    for piece in pieces:
        core = piece.rstrip()
        if cur:
            fits = (
                cur_w + measure(core) <= max_width
                if additive
                else measure((cur + piece).rstrip()) <= max_width
            )
            if fits:
                cur += piece
                cur_w += measure(piece) if additive else 0.0
                continue
            if cur.strip():
                yield cur.rstrip()
        piece = piece.lstrip()
        if measure(piece.rstrip()) <= max_width:
            cur, cur_w = piece, measure(piece) if additive else 0.0
            continue
        if not split_units:
            raise NeedsSplit(piece)
        *full, cur = _split_long(piece, measure, max_width, lang)
        cur_w = measure(cur) if additive else 0.0
        yield from full
    if cur.strip():
        yield cur.rstrip()


def _split_long(s: str, measure: Measure, max_width: float, lang: str = "ja") -> list[str]:
    """Break one unit wider than a line, at the best place that fits: an English word at a
    hyphenation point (with a hyphen), else between characters keeping kinsoku, never inside
    a number or word when another place exists, never before a particle or okurigana."""
    out: list[str] = []
    while s and measure(s.rstrip()) > max_width:
        head = _hyphenated(s, measure, max_width) if lang == "en" else None
        if head is not None:
            out.append(head + HYPHEN)
            s = s[len(head) :]
            continue
        n = _fitting_prefix(s, measure, max_width)
        k = _best_break(s, n)
        out.append(s[:k].rstrip())
        s = s[k:].lstrip()
    out.append(s)
    return out


def _best_break(s: str, n: int) -> int:
    """The last place at or before ``n`` to break ``s``, from the best kind there is."""
    inside = _protected(s)
    tests = (
        lambda k: _may_break_at(s, k)
        and k not in inside
        and not _attaches(s, k)
        and _script(s[k - 1]) != _script(s[k]),  # between words: まちづくり／センター
        lambda k: _may_break_at(s, k) and k not in inside and not _attaches(s, k),
        lambda k: _may_break_at(s, k) and k not in inside,
        lambda k: _may_break_at(s, k),
    )
    for ok in tests:
        for k in range(n, 0, -1):
            if ok(k):
                return k
    return n  # nowhere inside a line's width may break (e.g. a line-long run of ー)


def _attaches(s: str, k: int) -> bool:
    """Would a break at ``k`` start a line with a particle or okurigana (hiragana after a
    kanji or katakana: 「センター／が」)?"""
    return _is_hiragana(s[k]) and not _is_hiragana(s[k - 1]) and not s[k - 1].isspace()


def _script(ch: str) -> str:
    if _is_hiragana(ch):
        return "hiragana"
    if "\u30a0" <= ch <= "\u30ff":
        return "katakana"
    if ch.isascii():
        return "latin"
    return "other"


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def _hyphenated(s: str, measure: Measure, max_width: float) -> str | None:
    """The longest head of an English word in ``s`` that fits with a hyphen, or None."""
    m = re.match(r"[A-Za-z]+", s)
    if not m or len(m.group()) < _HYPHENATE_MIN:
        return None
    word = m.group()
    for head, _tail in _hyphenator().iterate(word):
        if measure(head + HYPHEN) <= max_width:
            return head
    return None


@lru_cache(maxsize=1)
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US", left=3, right=3)


def _fitting_prefix(s: str, measure: Measure, max_width: float) -> int:
    """The most characters of ``s`` that fit (at least one)."""
    lo, hi = 1, len(s)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(s[:mid].rstrip()) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def ellipsize(line: str, measure: Measure, max_width: float) -> str:
    """``line`` cut so that it ends with … within ``max_width`` (one character at least stays)."""
    trail = NO_LINE_END | frozenset(" 　、。，．,.・:：;；")
    text = line.rstrip("".join(trail)) or line[:1]
    while len(text) > 1 and measure(text + ELLIPSIS) > max_width:
        text = text[:-1].rstrip("".join(trail)) or text[:1]
    return text + ELLIPSIS


def kinsoku_violations(lines: list[Line] | tuple[Line, ...]) -> list[str]:
    """Where the chosen breaks start a line with 、。」… or end one with 「（ (empty: none)."""
    found = []
    for i, line in enumerate(lines):
        if i and not line.starts_paragraph and line.text[:1] in NO_LINE_START:
            found.append(f"line {i + 1} starts with {line.text[0]!r}: {line.text!r}")
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if nxt is not None and not nxt.starts_paragraph and line.text[-1:] in NO_LINE_END:
            found.append(f"line {i + 1} ends with {line.text[-1]!r}: {line.text!r}")
    return found


# -- fitting -----------------------------------------------------------------------------------


def fit_text(
    text: str,
    font_for: FontForSize,
    box_width: int,
    box_height: int,
    *,
    max_px: int,
    min_px: int,
    lang: str,
    line_spacing: float = 1.5,
    paragraph_gap: float = 0.5,
    max_lines: int | None = None,
) -> TextBlock:
    """The largest size in ``[min_px, max_px]`` at which ``text`` fits the box, else cut with …"""

    def attempt(
        size: int, limit: int | None, split: bool = True
    ) -> tuple[list[Line], int, int, Measure]:
        font = font_for(size)
        measure = _measurer(font)
        line_h = round(size * line_spacing)
        gap = round(size * paragraph_gap)
        return wrap(text, measure, box_width, lang, limit, split_units=split), line_h, gap, measure

    def capacity(size: int) -> int:
        rows = max(1, box_height // round(size * line_spacing))
        return min(rows, max_lines) if max_lines else rows

    def fits(size: int, split: bool) -> bool:
        try:
            lines, line_h, gap, _ = attempt(size, capacity(size), split)
        except NeedsSplit:
            return False
        too_many = max_lines is not None and len(lines) > max_lines
        return not too_many and block_height(lines, line_h, gap) <= box_height

    # shrink before breaking inside a phrase or word; break inside one only when even the
    # smallest size cannot hold it whole
    for split in (False, True):
        lo, hi = min_px, max(min_px, max_px) if not split else min_px  # splitting: fewest at min
        if not fits(lo, split):
            continue
        while lo < hi:  # the largest size that fits (fitting shrinks monotonically enough)
            mid = (lo + hi + 1) // 2
            if fits(mid, split):
                lo = mid
            else:
                hi = mid - 1
        lines, line_h, gap, measure = attempt(lo, None)
        return _block(lines, lo, line_h, gap, False, measure)

    lines, line_h, gap, measure = attempt(min_px, capacity(min_px))
    kept: list[Line] = []
    for line in lines:
        limit_reached = max_lines is not None and len(kept) >= max_lines
        if limit_reached or block_height([*kept, line], line_h, gap) > box_height:
            break
        kept.append(line)
    if not kept:
        kept = lines[:1]
    last = kept[-1]
    kept[-1] = Line(ellipsize(last.text, measure, box_width), last.starts_paragraph)
    return _block(kept, min_px, line_h, gap, True, measure)


def _block(
    lines: list[Line], size: int, line_h: int, gap: int, truncated: bool, measure: Measure
) -> TextBlock:
    width = max((measure(line.text) for line in lines), default=0.0)
    return TextBlock(tuple(lines), size, line_h, gap, truncated, width)


def _measurer(font: ImageFont.FreeTypeFont) -> Measure:
    return lambda s: _width(font, s)


@lru_cache(maxsize=200_000)
def _width(font: ImageFont.FreeTypeFont, s: str) -> float:
    """Shaped width of ``s`` (shaping with raqm costs ~0.3 ms a call: pieces repeat a lot)."""
    return text_length(font, s)
