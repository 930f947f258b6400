"""Fonts for slides: Noto Sans CJK, with the face that matches the slide's language.

Noto Sans CJK ships as collections (``.ttc``) holding one face per region; the same code point
is drawn differently in each (骨, 直, 角 …), so a Japanese slide must use the JP face and a
Simplified Chinese one the SC face. Face order in Debian's ``fonts-noto-cjk`` (``fc-query``):
0 JP, 1 KR, 2 SC, 3 TC, 4 HK.

Discovery: ``PUBLISHER_FONT`` (a file; its ``Bold`` sibling is used for bold when it exists),
else Debian's Noto Sans CJK. A missing font is a :class:`ConfigError` naming the package to
install, never a slide of tofu boxes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from publisher.errors import ConfigError

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
NOTO_CJK_REGULAR = NOTO_DIR / "NotoSansCJK-Regular.ttc"
NOTO_CJK_BOLD = NOTO_DIR / "NotoSansCJK-Bold.ttc"
FONT_PACKAGE = "fonts-noto-cjk"

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
