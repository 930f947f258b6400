"""How small text may be on a screen of a given physical size, read from a given distance.

The rule (docs/slides.md): 国土交通省「公共交通機関の旅客施設に関する移動等円滑化整備ガイドライン」
(バリアフリー整備ガイドライン, 旅客施設編) gives the height of characters on signs by viewing
distance. Its table, for 和文 (kanji, kana; used here for Chinese and Korean too) and for Latin
capitals:

    distance   1–2 m   4–5 m   10 m    20 m    30 m
    和文        9 mm    20 mm   40 mm   80 mm   120 mm
    英文        7 mm    15 mm   30 mm   60 mm   90 mm

Between rows the height is interpolated linearly (beyond 30 m it keeps 4 mm / 3 mm per metre);
the 4–5 m row applies from 4 m. Millimetres become pixels with the panel's diagonal and
resolution (square pixels). The height of a kanji is its outer size (国 is 0.876 em in Noto
Sans CJK), of a Latin capital its cap height (0.733 em), so the font size is the required
height over that share. Everything here is pure arithmetic.
"""

from __future__ import annotations

import math
from bisect import bisect_right

from publisher.areas import Screen

MM_PER_INCH = 25.4
# (metres, millimetres): the guideline's rows, 1–2 m read at 2 m and 4–5 m from 4 m on
KANJI_MM = ((2.0, 9.0), (4.0, 20.0), (5.0, 20.0), (10.0, 40.0), (20.0, 80.0), (30.0, 120.0))
LATIN_CAP_MM = ((2.0, 7.0), (4.0, 15.0), (5.0, 15.0), (10.0, 30.0), (20.0, 60.0), (30.0, 90.0))
# Shares of the em that the measured parts take in Noto Sans CJK (JP, KR, SC, TC alike)
KANJI_HEIGHT_EM = 0.876  # 国
CAP_HEIGHT_EM = 0.733  # H
LATIN_LANGS = frozenset({"en"})


def min_char_height_mm(distance_m: float, lang: str) -> float:
    """The guideline's smallest character height at ``distance_m`` for text in ``lang``."""
    table = LATIN_CAP_MM if lang in LATIN_LANGS else KANJI_MM
    if distance_m <= table[0][0]:
        return table[0][1]
    if distance_m >= table[-1][0]:
        return table[-1][1] * distance_m / table[-1][0]
    i = bisect_right([d for d, _ in table], distance_m)
    (d0, h0), (d1, h1) = table[i - 1], table[i]
    return h0 + (h1 - h0) * (distance_m - d0) / (d1 - d0)


def px_per_mm(width_px: int, height_px: int, diagonal_in: float) -> float:
    """Pixels per millimetre of a panel of ``diagonal_in`` inches at that resolution."""
    return math.hypot(width_px, height_px) / (diagonal_in * MM_PER_INCH)


def min_font_px(
    width_px: int, height_px: int, diagonal_in: float, distance_m: float, lang: str
) -> int:
    """The smallest font size (px) whose characters reach the guideline's height."""
    share = CAP_HEIGHT_EM if lang in LATIN_LANGS else KANJI_HEIGHT_EM
    mm = min_char_height_mm(distance_m, lang)
    return math.ceil(mm * px_per_mm(width_px, height_px, diagonal_in) / share)


def screen_min_font_px(screen: Screen, lang: str) -> int:
    return min_font_px(
        screen.width, screen.height, screen.diagonal_in, screen.viewing_distance_m, lang
    )


def char_height_mm(
    font_px: float, width_px: int, height_px: int, diagonal_in: float, lang: str
) -> float:
    """How tall a character set at ``font_px`` is on that panel (for tests and reports)."""
    share = CAP_HEIGHT_EM if lang in LATIN_LANGS else KANJI_HEIGHT_EM
    return font_px * share / px_per_mm(width_px, height_px, diagonal_in)
