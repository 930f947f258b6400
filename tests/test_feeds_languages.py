"""A resident subscribes to their district in their own language: ``?lang=`` on RSS and Atom
gives the feed's title and labels in that language, each item in it when staff translated it
(else in Japanese, as the pages do), links to the pages in that language, and its own ETag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from publisher.items import Place, Translation
from tests.factories import DAIZAWA, KITAZAWA, make_item
from tests.residents_helpers import frozen, parse, store

BASE = "https://signage.example.jp"


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def _items(rt: Any, now: Any) -> tuple[Any, Any]:
    translated = make_item(
        "代沢地区 落ち葉清掃",
        kind="event",
        category="community",
        event_starts_at=now + timedelta(days=3),
        event_ends_at=now + timedelta(days=3, hours=2),
        place=Place("代沢小学校 校庭", "世田谷区代沢5-8-1"),
        translations=(
            Translation("ja", "代沢地区 落ち葉清掃", "軍手をお持ちください。"),
            Translation("en", "Fallen-leaf clean-up in Daizawa", "Please bring gloves."),
            Translation("ko", "다이자와 낙엽 청소", "장갑을 가져오세요."),
        ),
    )
    japanese_only = make_item("区からのお知らせ", category="general")
    return tuple(store(rt, translated, japanese_only))  # type: ignore[return-value]


def test_an_english_feed_reads_in_english_and_falls_back_to_japanese_per_item(
    rt: Any, public: Any, now: Any
) -> None:
    translated, japanese_only = _items(rt, now)
    for fmt in ("rss", "atom"):
        r = public.get(f"/feeds/{DAIZAWA}.{fmt}?lang=en")
        assert r.status_code == 200 and r.mimetype == f"application/{fmt}+xml", fmt
        feed = parse(r.data)
        assert feed.feed.title == "Daizawa District: news", fmt
        assert feed.feed.language == "en", fmt
        assert "Daizawa District Center" in feed.feed.subtitle, fmt
        entries = {e.link: e for e in feed.entries}
        en = entries[f"{BASE}/items/{translated.id}?lang=en"]
        assert en.title == "Fallen-leaf clean-up in Daizawa"
        assert "When: " in en.summary and "Please bring gloves." in en.summary
        assert "Where: 代沢小学校 校庭" in en.summary
        assert "日時" not in en.summary and "軍手" not in en.summary
        assert {t.get("label") or t.term for t in en.tags} == {"Community"}
        assert en.id == f"{BASE}/items/{translated.id}"  # the same entry in every language
        ja = entries[f"{BASE}/items/{japanese_only.id}?lang=en"]
        assert ja.title == "区からのお知らせ"  # no English words: the Japanese ones
        if fmt == "rss":
            assert b"<language>en</language>" in r.data
            assert b"<dc:language>ja</dc:language>" in r.data  # that entry is in Japanese
            assert b"<dc:language>en</dc:language>" in r.data
        else:
            assert b'xml:lang="en"' in r.data


def test_korean_and_chinese_feeds_name_the_area_in_their_own_script(
    rt: Any, public: Any, now: Any
) -> None:
    _items(rt, now)
    titles = {
        f"/feeds/{DAIZAWA}.rss?lang=ko": "다이자와 지구 안내",
        f"/feeds/{DAIZAWA}.atom?lang=zh-Hant": "代澤地區的通知",
        f"/feeds/{KITAZAWA}/all.rss?lang=zh-Hans": "北泽地域及其所有地区的通知",
        f"/feeds/{DAIZAWA}/community.rss?lang=ko": "다이자와 지구 안내: 지역 활동",
        f"/feeds/{DAIZAWA}.rss?lang=ja-x-easy": "代沢地区の おしらせ",
        f"/feeds/{DAIZAWA}.rss": "代沢地区のお知らせ",
    }
    for url, title in titles.items():
        assert parse(public.get(url).data).feed.title == title, url
    korean = parse(public.get(f"/feeds/{DAIZAWA}.rss?lang=ko").data)
    assert "다이자와 낙엽 청소" in {e.title for e in korean.entries}
    assert korean.feed.language == "ko"


def test_an_unknown_feed_language_is_a_400_page_that_lists_the_six(public: Any) -> None:
    for url in (f"/feeds/{DAIZAWA}.rss?lang=xx", f"/feeds/{KITAZAWA}/all.atom?lang=fr"):
        r = public.get(url)
        assert r.status_code == 400, url
        assert r.mimetype == "text/html"
        body = r.get_data(as_text=True)
        assert "lang" in body and "zh-Hant" in body and "ja-x-easy" in body, body


def test_lang_ja_is_the_japanese_feed_and_each_language_has_its_own_etag(
    rt: Any, public: Any, now: Any
) -> None:
    _items(rt, now)
    plain = public.get(f"/feeds/{DAIZAWA}.rss")
    assert public.get(f"/feeds/{DAIZAWA}.rss?lang=ja").data == plain.data
    en = public.get(f"/feeds/{DAIZAWA}.rss?lang=en")
    assert en.headers["ETag"] != plain.headers["ETag"]
    assert en.headers["Cache-Control"] == "public, max-age=60"
    again = public.get(
        f"/feeds/{DAIZAWA}.rss?lang=en", headers={"If-None-Match": en.headers["ETag"]}
    )
    assert again.status_code == 304
    crossed = public.get(f"/feeds/{DAIZAWA}.rss", headers={"If-None-Match": en.headers["ETag"]})
    assert crossed.status_code == 200 and crossed.data == plain.data


def test_held_feeds_are_kept_per_language(rt: Any, app: Any) -> None:
    """The real clock: feeds are held in memory; an English reader never gets the Japanese."""
    from sqlalchemy import event

    from publisher.items import utcnow

    real_now = utcnow()
    window = {"starts_at": real_now - timedelta(days=1), "ends_at": real_now + timedelta(days=1)}
    store(rt, make_item("掲載中のお知らせ", **window))
    client = app.test_client()
    ja = client.get(f"/feeds/{DAIZAWA}.rss")
    en = client.get(f"/feeds/{DAIZAWA}.rss?lang=en")
    assert b"<language>en</language>" in en.data and b"<language>ja</language>" in ja.data
    queries: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        queries.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        assert client.get(f"/feeds/{DAIZAWA}.rss?lang=en").data == en.data
        assert client.get(f"/feeds/{DAIZAWA}.rss").data == ja.data
        held = client.get(
            f"/feeds/{DAIZAWA}.rss?lang=en", headers={"If-None-Match": en.headers["ETag"]}
        )
        assert held.status_code == 304
        assert queries == []
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)
    assert client.get(f"/feeds/{DAIZAWA}.rss?lang=xx").status_code == 400


def test_the_area_page_links_to_the_feeds_in_the_readers_language(public: Any, app: Any) -> None:
    korean = public.get(f"/areas/{DAIZAWA}?lang=ko").get_data(as_text=True)
    assert f'href="/feeds/{DAIZAWA}.rss?lang=ko"' in korean
    assert f'href="/feeds/{DAIZAWA}.atom?lang=ko"' in korean
    assert f'href="/feeds/{DAIZAWA}/health.rss?lang=ko"' in korean
    assert f'href="/feeds/{DAIZAWA}.ics"' in korean  # the calendar stays Japanese
    region = public.get(f"/areas/{KITAZAWA}?lang=en").get_data(as_text=True)
    assert f'href="/feeds/{KITAZAWA}/all.rss?lang=en"' in region
    japanese = app.test_client().get(f"/areas/{DAIZAWA}").get_data(as_text=True)  # no cookie
    assert f'href="/feeds/{DAIZAWA}.rss"' in japanese and ".rss?lang=" not in japanese
