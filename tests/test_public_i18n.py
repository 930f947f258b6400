"""A resident reads the ward's pages in their own language: the QR code on an English slide
opens the English page, a Korean phone gets Korean on its first visit, and the choice sticks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from publisher.areas import LANGUAGES
from publisher.items import JST, AlertInfo, Place, Translation
from publisher.render.ruby import easy_ruby
from publisher.store.content import update_item
from publisher.web.caching import ReadCache
from publisher.web.http11 import parse_head
from publisher.web.i18n import (
    Messages,
    catalogue_problems,
    catalogues,
    choose_language,
    from_accept_language,
)
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import frozen, store

# Words that only the Japanese page may carry: fixed labels, breadcrumbs, headings, badges.
JAPANESE_LABELS = ("詳細", "日時", "場所", "発信", "掲載日", "このページのQRコード", "お知らせ")


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def _text(r) -> str:  # type: ignore[no-untyped-def]
    return r.get_data(as_text=True)


def _visible(html: str) -> str:
    """The page's text without tags, attributes, and the language switch's own names."""
    html = re.sub(r'<nav class="languages".*?</nav>', "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _event(now: datetime, *langs: str):  # type: ignore[no-untyped-def]
    words = {
        "ja": ("避難所運営訓練", "地域の皆さんと訓練を行います。"),
        "ja-x-easy": ("ひなんじょの くんれん", "くんれんを します。"),
        "en": ("Shelter drill", "A drill with the neighbourhood."),
        "zh-Hans": ("避难所运营演练", "与社区居民一起演练。"),
        "zh-Hant": ("避難所營運演練", "與社區居民一起演練。"),
        "ko": ("대피소 운영 훈련", "지역 주민과 함께 훈련합니다."),
    }
    return make_item(
        "避難所運営訓練",
        kind="event",
        category="disaster",
        translations=tuple(Translation(lang, *words[lang]) for lang in ("ja", *langs)),
        event_starts_at=now + timedelta(days=3),
        event_ends_at=now + timedelta(days=3, hours=2),
        place=Place("代沢小学校", "世田谷区代沢3-2-1", 35.6555, 139.674),
    )


def test_every_catalogue_has_every_message_with_the_same_placeholders():
    assert set(catalogues()) == set(LANGUAGES)
    assert catalogue_problems() == []


def test_a_catalogue_missing_a_message_is_reported(monkeypatch):
    broken = {lang: dict(cat) for lang, cat in catalogues().items()}
    del broken["ko"]["details"]
    broken["en"]["qr_alt"] = "QR code of this page"
    monkeypatch.setattr("publisher.web.i18n.catalogues", lambda: broken)
    problems = catalogue_problems()
    assert "ko.toml: no message 'details'" in problems
    assert any(p.startswith("en.toml: 'qr_alt' has placeholders []") for p in problems)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("ko", "ko"),
        ("ko-KR,ko;q=0.9,en-US;q=0.8", "ko"),
        ("en-GB,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9", "zh-Hans"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),
        ("de;q=1.0, ko;q=0.2, en;q=0.1", "ko"),
        ("en;q=0, ja;q=0.5", "ja"),
        ("fr", None),
        ("", None),
        (";;;q=abc,,", None),
    ],
)
def test_accept_language_picks_the_readers_best_language_we_have(header, lang):
    assert from_accept_language(header) == lang


def test_query_beats_cookie_beats_browser_beats_japanese():
    assert choose_language("en", "ko", "zh-CN") == "en"
    assert choose_language("xx", "ko", "zh-CN") == "ko"
    assert choose_language(None, None, "zh-CN") == "zh-Hans"
    assert choose_language(None, "bogus", None) == "ja"
    assert choose_language("JA-X-EASY", None, None) == "ja-x-easy"


def test_qr_of_an_english_slide_opens_the_page_with_every_label_in_english(rt, public, now):
    (item,) = store(rt, _event(now, "en"))
    html = _text(public.get(f"/items/{item.id}?lang=en"))
    assert '<html lang="en">' in html
    assert "<title>Shelter drill | Setagaya City District Information</title>" in html
    text = _visible(html)
    for label in ("Details", "When", "Where", "From", "Published", "QR code of this page"):
        assert label in text
    assert re.search(r"Published\s+\w+day \d{1,2} [A-Z][a-z]+ \d{4}", text)
    assert "Wednesday 25 November 2026, 10:00–12:00" in text
    assert "Disaster preparedness" in text
    assert "Kitazawa Area" in text and "Daizawa District Center" in text
    assert '<li aria-current="page">Event</li>' in html  # not 「お知らせ」 for an event
    for label in JAPANESE_LABELS:
        assert label not in text, label
    # the place's own name stays Japanese, marked so
    assert '<span lang="ja">代沢小学校' in html


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("ja", ("詳細", "日時", "場所", "2026年11月25日（水）10:00〜12:00", "行事", "防災")),
        ("ja-x-easy", ("くわしい こと", "いつ", "どこ", "ごぜん10", "から ひる12", "イベント")),
        ("zh-Hans", ("详细信息", "时间", "地点", "2026年11月25日 星期三 10:00–12:00", "活动")),
        ("zh-Hant", ("詳細資訊", "時間", "地點", "2026年11月25日 星期三 10:00–12:00", "活動")),
        ("ko", ("상세 정보", "일시", "장소", "2026년 11월 25일 수요일 10:00~12:00", "행사")),
    ],
)
def test_item_page_speaks_each_language(rt, public, now, lang, words):
    (item,) = store(rt, _event(now, *(lang_ for lang_ in LANGUAGES if lang_ != "ja")))
    html = _text(public.get(f"/items/{item.id}?lang={lang}"))
    text = _visible(html)
    for word in words:
        assert word in text, (lang, word)
    if lang != "ja":
        assert not any(label in text for label in ("対象地区", "掲載日", "このページのQRコード"))


@pytest.mark.parametrize(
    ("lang", "mark"),
    [("en", "[DRILL]"), ("zh-Hans", "【演练】"), ("zh-Hant", "【演練】"), ("ko", "[훈련]")],
)
def test_drill_badge_and_mark_are_in_the_pages_language(rt, public, lang, mark):
    (item,) = store(
        rt,
        make_item(
            "避難所開設",
            kind="alert",
            drill=True,
            alert=AlertInfo(cap_status="Exercise"),
            translations=(Translation("ja", "避難所開設", "訓練"), Translation(lang, "Open", "x")),
        ),
    )
    html = _text(public.get(f"/items/{item.id}?lang={lang}"))
    assert f"<h1>{mark}Open</h1>" in html
    assert Messages(lang)("drill_note") in html
    assert "訓練です" not in html


def test_first_visit_follows_accept_language_and_the_switch_sticks(rt, app, now):
    (item,) = store(rt, _event(now, "en", "ko"))
    browser = frozen(app, now).test_client()
    first = browser.get(f"/areas/{DAIZAWA}", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert '<html lang="ko">' in _text(first)
    assert "다이자와 지구 안내" in _text(first)
    assert "Set-Cookie" not in first.headers  # negotiated, not chosen: nothing to remember
    assert {"Accept-Language", "Cookie"} <= set(first.vary)
    # the reader picks English in the switch: from now on every page is English
    switched = browser.get(f"/areas/{DAIZAWA}?lang=en", headers={"Accept-Language": "ko"})
    assert "lang=en" in switched.headers["Set-Cookie"]
    for url in ("/", f"/areas/{DAIZAWA}", f"/items/{item.id}", "/accessibility", "/nowhere"):
        html = _text(browser.get(url, headers={"Accept-Language": "ko"}))
        assert '<html lang="en">' in html, url
    back = browser.get("/?lang=ja", headers={"Accept-Language": "ko"})
    assert '<html lang="ja">' in _text(back) and "lang=ja" in back.headers["Set-Cookie"]
    assert '<html lang="ja">' in _text(browser.get("/", headers={"Accept-Language": "ko"}))


def test_korean_first_visit_to_an_item_without_korean_explains_and_shows_japanese(rt, public, now):
    (item,) = store(rt, _event(now))
    html = _text(public.get(f"/items/{item.id}", headers={"Accept-Language": "ko"}))
    assert '<html lang="ko">' in html and '<article lang="ja"' in html
    assert "한국어(으)로 번역되어 있지 않아" in html
    assert "상세 정보" in html and "地域の皆さんと訓練を行います。" in html


def test_area_index_error_and_gone_pages_are_localised(rt, public, now):
    (withdrawn,) = store(
        rt, make_item("取り下げ", translations=(Translation("ja", "取り下げ", "x"),))
    )
    with rt.session() as session:
        update_item(session, withdrawn, actor="test", action="withdraw", status="withdrawn")
    for lang in LANGUAGES:
        t = Messages(lang)
        home = _visible(_text(public.get(f"/?lang={lang}")))
        assert t("areas_heading") in home and t("footer_accessibility") in home
        area = _visible(_text(public.get(f"/areas/{DAIZAWA}?lang={lang}")))
        assert t("subscribe") in area and t("no_notices") in area
        missing = public.get(f"/items/99999?lang={lang}")
        assert missing.status_code == 404 and t("not_found_text") in _text(missing)
        gone = public.get(f"/items/{withdrawn.id}?lang={lang}")
        assert gone.status_code == 410 and t("gone_title") in _text(gone)
        if lang not in ("ja", "ja-x-easy"):
            for page in (home, area):
                assert "お知らせ" not in page and "地区の一覧へ" not in page, lang


def test_links_keep_the_readers_language(rt, public, now):
    (item,) = store(rt, _event(now, "en"))
    html = _text(public.get(f"/areas/{DAIZAWA}?lang=zh-Hant"))
    assert f'href="/items/{item.id}?lang=zh-Hant"' in html
    assert 'href="/areas/setagaya/kitazawa?lang=zh-Hant"' in html
    assert 'href="/accessibility?lang=zh-Hant"' in html
    # the English title is used where the item has one, Japanese (marked so) where not
    english = _text(public.get(f"/areas/{DAIZAWA}?lang=en"))
    assert ">Shelter drill</a>" in english
    assert f'href="/items/{item.id}?lang=zh-Hant" lang="ja">避難所運営訓練</a>' in html


def test_easy_japanese_dates_use_gozen_gogo_and_kara(now):
    t = Messages("ja-x-easy")
    event = make_item(
        kind="event",
        event_starts_at=datetime(2026, 12, 5, 9, 30, tzinfo=JST),
        event_ends_at=datetime(2026, 12, 5, 13, 0, tzinfo=JST),
    )
    assert t.when(event) == "2026年12月5日（土曜日） ごぜん9時30分から ごご1時まで"
    assert Messages("ja").when(event) == "2026年12月5日（土）9:30〜13:00"
    assert Messages("en").when(event) == "Saturday 5 December 2026, 9:30–13:00"


def test_easy_japanese_pages_show_furigana_over_kanji_and_plain_pages_do_not(rt, public, now):
    (item,) = store(
        rt,
        make_item(
            "避難所運営訓練",
            kind="event",
            translations=(
                Translation("ja", "避難所運営訓練", "地域の皆さんと訓練を行います。"),
                Translation("ja-x-easy", "ひなんじょの 訓練", "学校で 訓練を します。"),
            ),
            event_starts_at=now + timedelta(days=3),
            place=Place("代沢小学校", "世田谷区代沢3-2-1"),
        ),
    )
    easy = _text(public.get(f"/items/{item.id}?lang=ja-x-easy"))
    assert "<h1>ひなんじょの <ruby>訓練<rp>(</rp><rt>くんれん</rt><rp>)</rp></ruby></h1>" in easy
    assert "<ruby>学校<rp>(</rp><rt>がっこう</rt><rp>)</rp></ruby>で" in easy
    # dates read as a person says them, not as the analyser guesses (25日's 日 is にち)
    assert "25<ruby>日<rp>(</rp><rt>にち</rt><rp>)</rp></ruby>" in easy
    assert "11<ruby>月<rp>(</rp><rt>がつ</rt>" in easy
    assert "<rt>だいざわ</rt>" in easy  # area names and the place too
    assert "<title>ひなんじょの 訓練 |" in easy  # never markup in the title or attributes
    assert not re.search(r'="[^"]*<ruby', easy)
    for lang in ("ja", "en", "zh-Hans"):
        assert "<ruby>" not in _text(public.get(f"/items/{item.id}?lang={lang}")), lang


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "12月1日",
            "12<ruby>月<rp>(</rp><rt>がつ</rt><rp>)</rp></ruby><ruby>1日<rp>(</rp><rt>ついたち</rt><rp>)</rp></ruby>",
        ),
        ("20日", "<ruby>20日<rp>(</rp><rt>はつか</rt><rp>)</rp></ruby>"),
        ("（日曜日）", "（<ruby>日曜日<rp>(</rp><rt>にちようび</rt><rp>)</rp></ruby>）"),
        ("<b>", "&lt;b&gt;"),
    ],
)
def test_easy_japanese_dates_are_read_as_people_say_them(text, html):
    assert str(easy_ruby(text)) == html


def _head(target: str, **headers: str) -> bytes:
    lines = [f"GET {target} HTTP/1.1", "Host: x"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_the_servers_held_reads_never_give_one_readers_language_to_another():
    cache = ReadCache()
    korean = parse_head(_head("/items/1", **{"Accept-Language": "ko"}), ("127.0.0.1", 1), 100)
    english = parse_head(_head("/items/1", **{"Accept-Language": "en"}), ("127.0.0.1", 1), 100)
    chosen = parse_head(_head("/items/1", Cookie="lang=en"), ("127.0.0.1", 1), 100)
    page = b'HTTP/1.1 200 OK\r\nETag: "k"\r\nContent-Length: 2\r\n\r\nko'
    cache.keep(korean, page)
    assert cache.answer(korean) is not None
    assert cache.answer(english) is None  # keyed by Accept-Language
    assert cache.key(chosen) is None  # a reader with a language cookie is never served held
    # an answer that sets the language cookie (the switch, a slide's QR code) is not held
    switched = parse_head(_head("/items/1?lang=en"), ("127.0.0.1", 1), 100)
    cache.keep(switched, page.replace(b"ETag", b"Set-Cookie: lang=en\r\nETag"))
    assert cache.answer(switched) is None


def test_staff_readings_win_over_the_analyser_on_easy_japanese_pages():
    html = str(easy_ruby("烏山で 12月5日に", {"烏山": "からすやま"}))
    assert "<ruby>烏山<rp>(</rp><rt>からすやま</rt><rp>)</rp></ruby>で" in html
    assert "5<ruby>日<rp>(</rp><rt>にち</rt>" not in html  # 5日 is いつか, read as a whole
    assert "<ruby>5日<rp>(</rp><rt>いつか</rt>" in html
