"""The words of posters and bulletins in six languages, their dates, and their furigana.

- :data:`WORDS`, :data:`BULLETIN_WORDS`: a poster's and a bulletin's fixed words per language
  (machine-drafted like the pages' catalogues: they need a native speaker's review);
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


# Fixed words of a weekly bulletin, per language ({area}: the district; {n}: a count).
BULLETIN_WORDS: dict[str, dict[str, str]] = {
    "ja": {"heading": "{area}だより", "events": "今週の行事", "notices": "お知らせ",
           "no_events": "今週の行事はありません。", "no_notices": "今週のお知らせはありません。",
           "more_events": "ほか{n}件の行事は、ウェブサイトをご覧ください。",
           "more_notices": "ほか{n}件のお知らせは、ウェブサイトをご覧ください。",
           "venue": "会場：", "since": "{date}から", "current": "掲載中",
           "week": "{start}〜{end}",
           "footer": "最新の情報・詳しい内容は{area}のページへ（QRコード）",
           "issued": "発行：{office}　{date}発行"},
    "ja-x-easy": {"heading": "{area}の おしらせ（この しゅう）", "events": "この しゅうの 行事",
                  "notices": "おしらせ", "no_events": "この しゅうの 行事は ありません。",
                  "no_notices": "この しゅうの おしらせは ありません。",
                  "more_events": "ほかに {n}この 行事が あります。ウェブサイトを みて ください。",
                  "more_notices": "ほかに {n}この おしらせが あります。ウェブサイトを みて ください。",
                  "venue": "どこ：", "since": "{date}から", "current": "いま のせて います",
                  "week": "{start}から {end}まで",
                  "footer": "あたらしい ことや くわしい ことは {area}の ページを みて ください（QRコード）",
                  "issued": "だしたところ：{office}　{date}"},
    "en": {"heading": "{area}: this week", "events": "Events this week", "notices": "News",
           "no_events": "No events this week.", "no_notices": "No news this week.",
           "more_events": "{n} more events: see the website.",
           "more_notices": "{n} more news items: see the website.",
           "venue": "Where: ", "since": "From {date}", "current": "Current",
           "week": "{start} – {end}",
           "footer": "The latest news and details: the page of {area} (QR code)",
           "issued": "Issued by {office}, {date}"},
    "zh-Hans": {"heading": "{area} 本周信息", "events": "本周活动", "notices": "通知",
                "no_events": "本周没有活动。", "no_notices": "本周没有通知。",
                "more_events": "另有{n}项活动，请访问网站。",
                "more_notices": "另有{n}条通知，请访问网站。",
                "venue": "地点：", "since": "{date}起", "current": "发布中",
                "week": "{start} – {end}",
                "footer": "最新信息和详细内容请访问{area}的网页（二维码）",
                "issued": "发布：{office}　{date}"},
    "zh-Hant": {"heading": "{area} 本週資訊", "events": "本週活動", "notices": "通知",
                "no_events": "本週沒有活動。", "no_notices": "本週沒有通知。",
                "more_events": "另有{n}項活動，請瀏覽網站。",
                "more_notices": "另有{n}則通知，請瀏覽網站。",
                "venue": "地點：", "since": "{date}起", "current": "刊登中",
                "week": "{start} – {end}",
                "footer": "最新資訊與詳細內容請瀏覽{area}的網頁（QR碼）",
                "issued": "發布：{office}　{date}"},
    "ko": {"heading": "{area} 이번 주 소식", "events": "이번 주 행사", "notices": "알림",
           "no_events": "이번 주 행사는 없습니다.", "no_notices": "이번 주 알림은 없습니다.",
           "more_events": "그 밖의 행사 {n}건은 웹사이트를 보십시오.",
           "more_notices": "그 밖의 알림 {n}건은 웹사이트를 보십시오.",
           "venue": "장소: ", "since": "{date}부터", "current": "게시 중",
           "week": "{start} ~ {end}",
           "footer": "최신 정보와 자세한 내용은 {area} 페이지에서 (QR 코드)",
           "issued": "발행: {office}  {date}"},
}  # fmt: skip
