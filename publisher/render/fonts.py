"""Fonts for slides: Noto Sans CJK, with the face that matches the slide's language.

Noto Sans CJK ships as collections (``.ttc``) holding one face per region; the same code point
is drawn differently in each (骨, 直, 角 …), so a Japanese slide must use the JP face and a
Simplified Chinese one the SC face. Face order in Debian's ``fonts-noto-cjk`` (``fc-query``):
0 JP, 1 KR, 2 SC, 3 TC, 4 HK.

Symbols and emoji the CJK face lacks (♿ ✉ ✔ ❗ ⛔ ≒ 😀) are drawn from fallback fonts
(:data:`FALLBACK_FONTS`: Noto Sans Symbols 2, Noto Sans Symbols, Noto Sans Math from
``fonts-noto-core``, then Symbola from ``fonts-symbola`` for emoji, in outline; Pillow can draw
Noto Color Emoji only at one bitmap size), measured and drawn run by run
(:func:`text_length`, :func:`draw_text`); a character no font has is replaced by its name in
words, never a tofu box. Which font has which character is read from its ``cmap`` table.

Discovery: ``PUBLISHER_FONT`` (a file; its ``Bold`` sibling is used for bold when it exists),
else Debian's Noto Sans CJK. A missing font is a :class:`ConfigError` naming the package to
install, never a slide of tofu boxes.
"""

from __future__ import annotations

import os
import struct
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont

from publisher.errors import ConfigError

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
NOTO_CJK_REGULAR = NOTO_DIR / "NotoSansCJK-Regular.ttc"
NOTO_CJK_BOLD = NOTO_DIR / "NotoSansCJK-Bold.ttc"
FONT_PACKAGE = "fonts-noto-cjk"
FALLBACK_FONTS = (
    Path("/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansSymbols-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansMath-Regular.ttf"),
    Path("/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"),
)
FALLBACK_PACKAGES = ("fonts-noto-core", "fonts-symbola")
# Never drawn on their own: variation selectors, joiners (they shape the character before)
_IGNORABLE = frozenset(range(0xFE00, 0xFE10)) | {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF}

# Face index in the Noto Sans CJK collections, by slide language.
FACE_INDEX = {"ja": 0, "ja-x-easy": 0, "en": 0, "ko": 1, "zh-Hans": 2, "zh-Hant": 3}
FACE_FAMILY = {
    0: "Noto Sans CJK JP",
    1: "Noto Sans CJK KR",
    2: "Noto Sans CJK SC",
    3: "Noto Sans CJK TC",
}


@dataclass(frozen=True)
class FontSet:
    """The regular and bold files a slide is set in (same file twice when there is no bold)."""

    regular: Path
    bold: Path

    @property
    def is_collection(self) -> bool:
        return self.regular.suffix.lower() in (".ttc", ".otc")

    def face_index(self, lang: str) -> int:
        return FACE_INDEX.get(lang, 0) if self.is_collection else 0

    def identity(self) -> str:
        """What of the fonts affects pixels (for slide keys)."""
        return f"{self.regular.name}|{self.bold.name}"

    def get(self, size_px: int, lang: str, *, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _load(str(self.bold if bold else self.regular), int(size_px), self.face_index(lang))


def missing_font_error(path: Path | str) -> ConfigError:
    return ConfigError(
        f"the Japanese font {path} is missing: install {FONT_PACKAGE} "
        f"(sudo apt-get install {FONT_PACKAGE}) or set PUBLISHER_FONT to a CJK font file"
    )


def find_fonts(font_path: str | os.PathLike[str] | None = None) -> FontSet:
    """The fonts to set slides in: ``font_path``, else ``PUBLISHER_FONT``, else Noto Sans CJK."""
    chosen = font_path or os.environ.get("PUBLISHER_FONT") or None
    if chosen:
        regular = Path(chosen)
        if not regular.is_file():
            raise missing_font_error(regular)
        bold = regular.with_name(regular.name.replace("Regular", "Bold"))
        return FontSet(regular, bold if bold.is_file() else regular)
    if not NOTO_CJK_REGULAR.is_file():
        raise missing_font_error(NOTO_CJK_REGULAR)
    bold = NOTO_CJK_BOLD if NOTO_CJK_BOLD.is_file() else NOTO_CJK_REGULAR
    return FontSet(NOTO_CJK_REGULAR, bold)


@lru_cache(maxsize=512)
def _load(path: str, size_px: int, index: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(path, size_px, index=index, layout_engine=_layout_engine())
    except OSError as e:
        raise ConfigError(f"cannot read the font {path} (face {index}): {e}") from None


@lru_cache(maxsize=1)
def _layout_engine() -> ImageFont.Layout:
    """raqm (proper shaping, Pillow's wheels bundle it) when present, else Pillow's basic layout."""
    from PIL import features

    return ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC


# -- fallback for symbols and emoji -------------------------------------------------------------

Run = tuple[str, ImageFont.FreeTypeFont]


@lru_cache(maxsize=16)
def _cmap(path: str, index: int) -> Coverage:
    """The code points a font file's face has glyphs for (its Unicode ``cmap``)."""
    try:
        return Coverage(_cmap_ranges(Path(path).read_bytes(), index))
    except (OSError, struct.error, ValueError):  # unreadable: covers nothing, the next is tried
        return Coverage(())


class Coverage:
    """Sorted code point ranges, asked ``cp in coverage``."""

    def __init__(self, ranges: Iterable[tuple[int, int]]):
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(ranges):
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        self._starts = [lo for lo, _ in merged]
        self._ends = [hi for _, hi in merged]

    def __contains__(self, cp: object) -> bool:
        if not isinstance(cp, int):
            return False
        i = bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]


def _cmap_ranges(data: bytes, index: int) -> list[tuple[int, int]]:
    """Code point ranges with a glyph, read from the ``cmap`` table (formats 12 and 4) of face
    ``index`` of a font file or collection. Read directly: fontTools names every glyph, which
    takes a second for a CJK face, for each face and weight."""
    offset = 0
    if data[:4] == b"ttcf":
        offset = struct.unpack_from(">I", data, 12 + 4 * index)[0]
    (num_tables,) = struct.unpack_from(">H", data, offset + 4)
    for t in range(num_tables):
        tag, _, table, _ = struct.unpack_from(">4sIII", data, offset + 12 + 16 * t)
        if tag == b"cmap":
            break
    else:
        return []
    (count,) = struct.unpack_from(">H", data, table + 2)
    subtables = {}
    for k in range(count):
        platform, encoding, sub = struct.unpack_from(">HHI", data, table + 4 + 8 * k)
        subtables[(platform, encoding)] = table + sub
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        at = subtables.get(key)
        if at is None:
            continue
        (fmt,) = struct.unpack_from(">H", data, at)
        if fmt == 12:
            (groups,) = struct.unpack_from(">I", data, at + 12)
            return [
                (lo, hi)
                for lo, hi, _ in struct.iter_unpack(">III", data[at + 16 : at + 16 + 12 * groups])
            ]
        if fmt == 4:
            (seg2,) = struct.unpack_from(">H", data, at + 6)
            ends = struct.unpack_from(f">{seg2 // 2}H", data, at + 14)
            starts = struct.unpack_from(f">{seg2 // 2}H", data, at + 16 + seg2)
            return [(lo, hi) for lo, hi in zip(starts, ends, strict=True) if lo != 0xFFFF]
    return []


def has_glyph(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    return ord(ch) in _coverage(font) or ord(ch) in _IGNORABLE


@lru_cache(maxsize=1024)
def _coverage(font: ImageFont.FreeTypeFont) -> Coverage:
    return _cmap(str(font.path), int(font.index))


def fallback_for(ch: str, size_px: int) -> ImageFont.FreeTypeFont | None:
    """The first fallback font that has ``ch``, at ``size_px``, or None."""
    for path in FALLBACK_FONTS:
        if path.is_file() and ord(ch) in _cmap(str(path), 0):
            return _load(str(path), size_px, 0)
    return None


@lru_cache(maxsize=50_000)
def runs(font: ImageFont.FreeTypeFont, text: str) -> tuple[Run, ...]:
    """``text`` cut into runs, each with the font that draws it (``font`` where it can)."""
    if all(has_glyph(font, ch) for ch in text):
        return ((text, font),)
    out: list[Run] = []
    for ch in text:
        if has_glyph(font, ch):
            piece, used = ch, font
        elif (other := fallback_for(ch, int(font.size))) is not None:
            piece, used = ch, other
        else:  # no font has it: say what it was
            piece, used = f"({unicodedata.name(ch, 'symbol').lower()})", font
        if out and out[-1][1] is used:
            out[-1] = (out[-1][0] + piece, used)
        else:
            out.append((piece, used))
    return tuple(out)


def text_length(font: ImageFont.FreeTypeFont, text: str) -> float:
    """The drawn width of ``text``, symbols from their fallback fonts included."""
    return sum(f.getlength(piece) for piece, f in runs(font, text))


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    font: ImageFont.FreeTypeFont,
    fill: str,
) -> None:
    """Draw ``text`` with its baseline's left end at ``xy``, each run in the font that has it."""
    x, y = xy
    for piece, f in runs(font, text):
        draw.text((x, y), piece, font=f, fill=fill, anchor="ls")
        x += f.getlength(piece)
