"""Posters and bulletins for residents who read English, Chinese, Korean or やさしい日本語: dates
written as they write them, furigana over the kanji of an easy-Japanese poster, and a QR code
that is counted as the poster's and opens the page in the poster's language."""

from __future__ import annotations

import re
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

from sqlalchemy import select

from publisher.runtime import Runtime
from publisher.store.models import ReachDailyRow
from tests.factories import DAIZAWA
from tests.test_printed import BASE, clocked, create, fonts_of, pages_of, qr_urls, text_of

__all__ = ["clocked"]  # the fixture, shared with test_printed

EVENT = {
    "kind": "event",
    "starts_at": "2026-11-20T00:00:00+09:00",
    "event": {"starts_at": "2026-12-06T10:00:00+09:00", "ends_at": "2026-12-06T12:00:00+09:00"},
    "place": {"name": "代沢小学校 校庭", "address": "世田谷区代沢5-8-1"},
}


def flat(text: str) -> str:
    return "".join(text.split())


def test_english_chinese_and_korean_posters_write_dates_as_their_readers_do(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    item_id = create(
        rt,
        title={"ja": "防災訓練", "en": "Disaster drill", "zh-Hans": "防灾演练", "ko": "방재 훈련"},
        body={"ja": "参加してください。", "en": "Come.", "zh-Hans": "欢迎。", "ko": "오세요."},
        **EVENT,
    )
    expected = {
        "en": ("Sunday 6 December 2026, 10:00–12:00", "Thursday 31 December 2026"),
        "zh-Hans": ("2026年12月6日 星期日 10:00–12:00", "2026年12月31日 星期四"),
        "ko": ("2026년 12월 6일 일요일 10:00~12:00", "2026년 12월 31일 목요일"),
        "ja": ("2026年12月6日（日）10:00〜12:00", "2026年12月31日（木）"),
    }
    for lang, (when, posted_until) in expected.items():
        pdf = clocked.get(f"/items/{item_id}/poster.pdf?lang={lang}").data
        text = flat(text_of(pdf, tmp_path))
        assert flat(when) in text, (lang, text)
        assert flat(posted_until) in text, (lang, text)
        if lang != "ja":
            assert "（日）" not in text and "2026-12-31" not in text, (lang, text)
        pages_of(pdf, tmp_path, save_as=f"poster-dates-{lang}")


def test_an_easy_japanese_poster_carries_furigana_above_its_kanji(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    """The readings sit above their kanji (pdftotext's boxes), and the title's own text still
    reads in order on its line: a reader's tool, or a test, finds 「代沢で 防災訓練」 whole."""
    item_id = create(
        rt,
        title={"ja": "代沢で防災訓練", "ja-x-easy": "代沢で 防災訓練"},
        body={"ja": "参加してください。", "ja-x-easy": "12月6日に 学校に きて ください。"},
        **EVENT,
    )
    pdf = clocked.get(f"/items/{item_id}/poster.pdf?lang=ja-x-easy").data
    pages_of(pdf, tmp_path, save_as="poster-easy")
    lines = text_of(pdf, tmp_path).splitlines()
    assert any(flat(line) == "代沢で防災訓練" for line in lines), lines  # the base, whole
    text = flat("".join(lines))
    for reading in ("だいざわ", "ぼうさい", "くんれん", "がっこう"):
        assert reading in text, (reading, text)
    assert "むいか" in text  # 6日 read as a date, not ろくにち
    # each reading is above its kanji: centred over it, on the line just above
    boxes: dict[str, list[float]] = {}
    for word, *box in words_of(pdf, tmp_path):
        boxes.setdefault(word, box)  # the first: the title's
    for base, reading in (("代沢", "だいざわ"), ("防災", "ぼうさい"), ("訓練", "くんれん")):
        x0, y0, x1, y1 = boxes[base]  # font boxes (ascent to descent), not ink
        rx0, ry0, rx1, ry1 = boxes[reading]
        assert x0 <= (rx0 + rx1) / 2 <= x1, (base, boxes[base], boxes[reading])
        assert (ry0 + ry1) / 2 < y0 and ry1 < (y0 + y1) / 2, (base, boxes[base], boxes[reading])
        assert y0 - ry0 < 40, (base, boxes[base], boxes[reading])  # just above, not far


def words_of(pdf: bytes, tmp_path: Path) -> list[tuple[str, float, float, float, float]]:
    """(word, x min, y min, x max, y max) of every word pdftotext finds, y growing down."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [
        (m[5], float(m[1]), float(m[2]), float(m[3]), float(m[4]))
        for m in re.finditer(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            html,
        )
    ]


def test_a_posters_qr_code_is_counted_as_the_posters_and_opens_the_page_in_its_language(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    item_id = create(rt, **EVENT)
    pdf = clocked.get(f"/items/{item_id}/poster.pdf?lang=en").data
    (page,) = pages_of(pdf, tmp_path)
    (url,) = qr_urls(page)
    assert url == f"{BASE}/q/p{item_id}~en"
    assert f"{BASE}/items/{item_id}?lang=en" in text_of(pdf, tmp_path)  # printed for typing

    scanned = clocked.get(url.removeprefix(BASE))
    assert scanned.status_code == 302
    assert scanned.headers["Location"] == f"/items/{item_id}?lang=en"
    page_html = clocked.get(scanned.headers["Location"]).get_data(as_text=True)
    assert '<html lang="en"' in page_html and "Fallen-leaf clean-up in Daizawa" in page_html
    clocked.get(url.removeprefix(BASE))
    with rt.session() as session:
        rows = session.execute(
            select(ReachDailyRow.lang, ReachDailyRow.screen_id, ReachDailyRow.format,
                   ReachDailyRow.count).where(
                ReachDailyRow.kind == "scan", ReachDailyRow.item_id == item_id
            )
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [("en", "", "poster", 2)]
    # a poster's code names a language the site has; anything else is the residents' 404
    assert clocked.get(f"/q/p{item_id}~fr").status_code == 404
    assert clocked.get(f"/q/p{item_id}").status_code == 404


BULLETIN_HEADINGS = {  # the week of the tests' "now", Sunday 22 November 2026
    "ja": ("代沢地区だより", "2026年11月16日（月）〜11月22日（日）", "今週の行事"),
    "ja-x-easy": ("代沢地区の おしらせ", "2026年11月16日（月曜日）から", "この しゅうの 行事"),
    "en": ("Daizawa District: this week", "Monday 16 November 2026 – Sunday 22 November 2026",
           "Events this week"),
    "zh-Hans": ("代泽地区 本周信息", "2026年11月16日 星期一 – 2026年11月22日 星期日", "本周活动"),
    "zh-Hant": ("代澤地區 本週資訊", "2026年11月16日 星期一 – 2026年11月22日 星期日", "本週活動"),
    "ko": ("다이자와 지구 이번 주 소식", "2026년 11월 16일 월요일 ~ 2026년 11월 22일 일요일",
           "이번 주 행사"),
}  # fmt: skip


def test_a_districts_page_links_to_its_weekly_bulletin_in_the_readers_language(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    item_id = create(
        rt,
        title={"ja": "代沢 もちつき大会", "en": "Daizawa rice-cake festival", "ko": "떡 축제"},
        body={"ja": "どなたでも参加できます。", "en": "Everyone is welcome.", "ko": "환영합니다."},
        starts_at="2026-11-01T00:00:00+09:00",
        kind="event",
        event={"starts_at": "2026-11-22T13:00:00+09:00", "ends_at": "2026-11-22T15:00:00+09:00"},
    )
    link_text = {
        "ja": "今週のお知らせ（印刷用 PDF）",
        "en": "This week's news (PDF for printing)",
        "zh-Hans": "本周信息（打印用 PDF）",
        "zh-Hant": "本週資訊（列印用 PDF）",
        "ko": "이번 주 소식 (인쇄용 PDF)",
        "ja-x-easy": "おしらせ",  # with furigana between the words
    }
    for lang, (heading, week, events) in BULLETIN_HEADINGS.items():
        html = clocked.get(f"/areas/{DAIZAWA}?lang={lang}").get_data(as_text=True)
        m = re.search(r'<p class="bulletin-link"><a href="([^"]+)"[^>]*>(.*?)</a>', html)
        assert m, lang
        assert link_text[lang] in unescape(m[2]), (lang, m[2])
        href = m[1].replace("&amp;", "&")
        assert href == f"/areas/{DAIZAWA}/bulletin.pdf" + ("" if lang == "ja" else f"?lang={lang}")
        r = clocked.get(href)
        assert r.status_code == 200 and r.mimetype == "application/pdf", lang
        text = flat(text_of(r.data, tmp_path))
        for part in (heading, week, events):
            assert flat(part) in text, (lang, part, text)
        pages_of(r.data, tmp_path, save_as=f"bulletin-{lang}")
    en = flat(text_of(clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?lang=en").data, tmp_path))
    assert "Daizawarice-cakefestival" in en
    assert flat("Sunday 22 November 2026, 13:00–15:00") in en
    assert f"{BASE}/items/{item_id}?lang=en" in en
    ko = flat(text_of(clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?lang=ko").data, tmp_path))
    assert flat("떡 축제") in ko and flat("2026년 11월 22일 일요일 13:00~15:00") in ko
    # the ward's and a region's pages have no bulletin; a bad language is a clear 400
    assert "bulletin-link" not in clocked.get("/areas/setagaya").get_data(as_text=True)
    bad = clocked.get(f"/areas/{DAIZAWA}/bulletin.pdf?lang=fr")
    assert bad.status_code == 400 and "lang: one of" in bad.get_data(as_text=True)


def faces(pdf: bytes, tmp_path: Path) -> set[str]:
    """The Noto Sans CJK faces a PDF uses: {"KR", "JP", …} (pdffonts, subset prefix dropped)."""
    return set(re.findall(r"\+Noto-Sans-CJK-([A-Z]{2})", fonts_of(pdf, tmp_path)))


def test_a_place_left_in_japanese_keeps_japanese_glyph_forms_on_korean_and_chinese_posters(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    """「代沢小学校 校庭」 has no Korean or Chinese form: marked lang="ja", it is set in the JP
    face while the poster's own words keep their KR, SC or TC forms."""
    words = {
        "title": {
            "ja": "防災訓練",
            "ko": "방재 훈련",
            "zh-Hans": "防灾演练",
            "zh-Hant": "防災演練",
        },
        "body": {
            "ja": "参加してください。",
            "ko": "오세요.",
            "zh-Hans": "欢迎。",
            "zh-Hant": "歡迎。",
        },
    }
    with_place = create(rt, **words, **EVENT)
    without_place = create(rt, **words, **{k: v for k, v in EVENT.items() if k != "place"})
    for lang, own in (("ko", "KR"), ("zh-Hans", "SC"), ("zh-Hant", "TC")):
        pdf = clocked.get(f"/items/{with_place}/poster.pdf?lang={lang}").data
        assert faces(pdf, tmp_path) == {own, "JP"}, lang
        assert "代沢小学校校庭" in flat(text_of(pdf, tmp_path)), lang
        bare = clocked.get(f"/items/{without_place}/poster.pdf?lang={lang}").data
        assert faces(bare, tmp_path) == {own}, lang
        pages_of(pdf, tmp_path, save_as=f"poster-place-{lang}")
    japanese = clocked.get(f"/items/{with_place}/poster.pdf?lang=ja").data
    assert faces(japanese, tmp_path) == {"JP"}


def test_an_untranslated_item_on_a_korean_bulletin_is_set_in_japanese_glyph_forms(
    rt: Runtime, clocked: Any, tmp_path: Path
) -> None:
    week_event = {
        "kind": "event",
        "starts_at": "2026-11-01T00:00:00+09:00",
        "event": {"starts_at": "2026-11-22T13:00:00+09:00", "ends_at": "2026-11-22T15:00:00+09:00"},
    }
    create(rt, title={"ja": "もちつき大会", "ko": "떡 축제"}, body={"ja": "どうぞ。", "ko": "환영합니다."},
           **week_event)  # fmt: skip
    bulletin = f"/areas/{DAIZAWA}/bulletin.pdf?lang=ko"
    assert faces(clocked.get(bulletin).data, tmp_path) == {"KR"}
    create(rt, title={"ja": "落ち葉清掃"}, body={"ja": "軍手をお持ちください。"}, **week_event)
    pdf = clocked.get(bulletin).data
    assert faces(pdf, tmp_path) == {"KR", "JP"}
    assert "落ち葉清掃" in flat(text_of(pdf, tmp_path))
    pages_of(pdf, tmp_path, save_as="bulletin-fallback-ko")
