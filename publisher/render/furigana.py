"""Furigana drawn over a line of a slide (やさしい日本語): the readings of
:func:`publisher.render.ruby.ruby_segments`, each centred over its kanji, half their size,
squeezed when a reading is wider than its kanji and never over its neighbour's."""

from __future__ import annotations

from collections.abc import Mapping

from PIL import ImageDraw

from publisher.render.fonts import FontSet, text_length
from publisher.render.ruby import ruby_segments

RUBY_EM = 0.5  # furigana size, of the text's size
RUBY_RAISE_EM = 0.95  # the furigana's baseline above the text's (a kanji's ink is ~0.88 em)
RUBY_MIN_PX = 8


def draw_furigana(
    draw: ImageDraw.ImageDraw,
    fonts: FontSet,
    text: str,
    x: float,
    baseline: float,
    size: int,
    colour: str,
    bold: bool,
    readings: Mapping[str, str],
) -> None:
    """Readings over each run of kanji of ``text``, drawn from ``x`` on ``baseline``."""
    font = fonts.get(size, "ja", bold=bold)
    small_px = max(RUBY_MIN_PX, round(size * RUBY_EM))
    at, right = 0, -1.0e9
    for base, reading in ruby_segments(text, readings):
        if reading:
            left = x + text_length(font, text[:at])
            width = text_length(font, base)
            small = fonts.get(small_px, "ja", bold=bold)
            if small.getlength(reading) > width:  # a long reading: a smaller size
                fitted = int(small_px * width / small.getlength(reading))
                small = fonts.get(max(RUBY_MIN_PX, fitted), "ja", bold=bold)
            rx = max(left + (width - small.getlength(reading)) / 2, right)
            y = baseline - size * RUBY_RAISE_EM
            draw.text((rx, y), reading, font=small, fill=colour, anchor="ls")
            right = rx + small.getlength(reading)
        at += len(base)
