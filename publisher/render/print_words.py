"""The words of posters and bulletins in six languages, their dates, and their furigana.

- :data:`WORDS`: a poster's fixed words per language;
- :class:`Calendar`: how the caller writes a day and an event's time in the paper's language
  (the residents' pages' :class:`publisher.web.i18n.Messages` is one: Babel's dates with each
  language's pattern, so a poster says "Saturday 5 December 2026, 10:00–12:00",
  「2026年12月5日 星期六 10:00–12:00」 or 「2026년 12월 5일 토요일 10:00~12:00」 as the page
  its QR code opens does, and Japanese keeps 「2026年12月5日（土）10:00〜12:00」);
- :func:`ruby_markup`: やさしい日本語 with furigana over its kanji (dates read as people say
  them, :func:`publisher.render.ruby.easy_segments`) as ``<ruby>`` the print stylesheet sets
  above the line; a reading wider than its kanji widens the ruby, as a browser does, so
  readings never run into each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from markupsafe import Markup, escape

from publisher.items import Item
from publisher.render.ruby import easy_segments

RUBY_EM = 0.5  # furigana size, of the text's (print.css sets rt to the same)


class Calendar(Protocol):
    """Dates in the paper's language."""

    def date(self, value: datetime) -> str:
        """A day in the ward's time."""
        ...

    def when(self, item: Item) -> str:
        """When an event happens (its day or days and times), ``""`` without a date."""
        ...


# Fixed words of a poster, per language.
WORDS: dict[str, dict[str, str]] = {
    "ja": {"when": "日時", "where": "場所", "more": "詳しくはこちら", "from": "発行",
           "drill": "訓練　これは訓練です", "emergency": "緊急", "alert": "警報", "posted": "掲示期限"},
    "ja-x-easy": {"when": "いつ", "where": "どこ", "more": "くわしくは こちら", "from": "だしたところ",
                  "drill": "訓練（くんれん）　ほんとうでは ありません", "emergency": "緊急（きんきゅう）",
                  "alert": "警報（けいほう）", "posted": "けいじ きげん"},
    "en": {"when": "When", "where": "Where", "more": "More information", "from": "Issued by",
           "drill": "訓練 DRILL — this is a drill", "emergency": "EMERGENCY", "alert": "ALERT",
           "posted": "Posted until"},
    "zh-Hans": {"when": "时间", "where": "地点", "more": "详细信息", "from": "发布",
                "drill": "訓練 演习（DRILL）", "emergency": "紧急", "alert": "警报", "posted": "张贴至"},
    "zh-Hant": {"when": "時間", "where": "地點", "more": "詳細資訊", "from": "發布",
                "drill": "訓練 演習（DRILL）", "emergency": "緊急", "alert": "警報", "posted": "張貼至"},
    "ko": {"when": "일시", "where": "장소", "more": "자세한 내용", "from": "발행",
           "drill": "訓練 훈련（DRILL）", "emergency": "긴급", "alert": "경보", "posted": "게시 기한"},
}  # fmt: skip


def ruby_markup(text: str, readings: Mapping[str, str] | None = None) -> Markup:
    """``text`` with ``<ruby>`` over its kanji, each as wide as the wider of base and reading."""
    out = []
    for base, reading in easy_segments(text, readings):
        if not reading:
            out.append(str(escape(base)))
            continue
        spill = (len(reading) * RUBY_EM - len(base)) / 2  # em on each side
        style = f' style="margin: 0 {spill:.2f}em"' if spill > 0 else ""
        out.append(
            f"<ruby{style}>{escape(base)}<rp>(</rp><rt>{escape(reading)}</rt><rp>)</rp></ruby>"
        )
    return Markup("".join(out))
