"""Residents read the ward's, their area's and their district's news on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from publisher.items import AlertInfo, Place, Translation
from publisher.store.content import update_item
from publisher.store.shortlinks import scans
from tests.factories import DAIZAWA, UMEGAOKA, WARD, make_item
from tests.residents_helpers import frozen, store


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def _text(r) -> str:  # type: ignore[no-untyped-def]
    return r.get_data(as_text=True)


def test_home_lists_the_ward_regions_and_districts_with_ward_alerts_on_top(rt, public, tree):
    store(
        rt,
        make_item(
            "区内全域に大雨警報",
            targets=(WARD,),
            kind="alert",
            priority="emergency",
            alert=AlertInfo(),
        ),
        make_item("代沢だけの警報", targets=(DAIZAWA,), kind="alert", alert=AlertInfo()),
    )
    html = _text(public.get("/"))
    assert '<html lang="ja">' in html
    assert html.count("<h1") == 1
    for area in tree:
        assert f'href="/areas/{area.code}"' in html
    assert "【緊急】区内全域に大雨警報" in html
    assert html.index("区内全域に大雨警報") < html.index("地域と地区")
    assert "代沢だけの警報" not in html


def test_area_page_puts_alerts_first_then_notices_events_and_subscriptions(rt, public, now):
    store(
        rt,
        make_item("落ち葉清掃のお知らせ"),
        make_item(
            "避難所運営訓練",
            kind="event",
            event_starts_at=now + timedelta(days=2),
            event_ends_at=now + timedelta(days=2, hours=2),
        ),
        make_item(
            "【訓練】高齢者等避難", kind="alert", drill=True, alert=AlertInfo(cap_status="Exercise")
        ),
        make_item("梅丘の行事", targets=(UMEGAOKA,)),
    )
    r = public.get(f"/areas/{DAIZAWA}")
    html = _text(r)
    assert r.status_code == 200
    order = [html.index(s) for s in ("高齢者等避難", "落ち葉清掃", "避難所運営訓練", "購読")]
    assert order == sorted(order)
    assert "梅丘の行事" not in html
    for fmt in ("rss", "atom", "ics"):
        assert f'href="/feeds/{DAIZAWA}.{fmt}"' in html
        assert f'src="/qr/feeds/{DAIZAWA}.{fmt}.png"' in html
    assert all(re.search(r'alt="[^"]+"', tag) for tag in re.findall(r"<img[^>]*>", html))
    assert public.get("/areas/setagaya/kitazwa").status_code == 404


def test_item_page_has_full_text_languages_place_map_and_qr(rt, public):
    (item,) = store(
        rt,
        make_item(
            "避難所運営訓練",
            kind="event",
            translations=(
                Translation(
                    "ja",
                    "避難所運営訓練",
                    "地域の皆さんと訓練を行います。\n上履きをお持ちください。",
                ),
                Translation("ja-x-easy", "ひなんじょの くんれん", "くんれんを します。"),
                Translation("en", "Shelter drill", "A drill with the neighbourhood."),
            ),
            event_starts_at=make_item().starts_at + timedelta(days=3),
            place=Place("代沢小学校", "世田谷区代沢3-2-1", 35.6555, 139.674),
        ),
    )
    html = _text(public.get(f"/items/{item.id}"))
    assert "<title>避難所運営訓練 | 世田谷区 地区情報</title>" in html
    assert "上履きをお持ちください。" in html
    assert f'href="/items/{item.id}?lang=en" hreflang="en" lang="en"' in html
    assert "https://www.openstreetmap.org/?mlat=35.65550&amp;mlon=139.67400" in html
    assert "代沢まちづくりセンター" in html
    assert f'src="/qr/items/{item.id}.png"' in html
    english = _text(public.get(f"/items/{item.id}?lang=en"))
    assert '<article lang="en"' in english and "A drill with the neighbourhood." in english
    easy = _text(public.get(f"/items/{item.id}?lang=ja-x-easy"))
    assert '<article lang="ja"' in easy and "くんれんを します。" in easy
    assert '<article lang="ja"' in _text(public.get(f"/items/{item.id}?lang=xx"))


def test_drafts_unpublished_and_system_messages_are_not_found_withdrawn_is_gone(rt, public, now):
    draft, future, system, withdrawn, ended = store(
        rt,
        make_item("下書き", status="draft"),
        make_item("来週から", starts_at=now + timedelta(days=7)),
        make_item("システム", kind="alert", alert=AlertInfo(cap_status="System")),
        make_item("取り下げ"),
        make_item("掲載終了", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=1)),
    )
    with rt.session() as session:
        update_item(session, withdrawn, actor="test", action="withdraw", status="withdrawn")
    for item in (draft, future, system):
        r = public.get(f"/items/{item.id}")
        assert r.status_code == 404 and "見つかりません" in _text(r)
        assert "下書き" not in _text(r)
    gone = public.get(f"/items/{withdrawn.id}")
    assert gone.status_code == 410 and "取り下げられました" in _text(gone)
    old = public.get(f"/items/{ended.id}")
    assert old.status_code == 200 and "掲載期間は終了しました" in _text(old)
    assert public.get("/items/99999").status_code == 404


def test_pages_answer_304_to_a_reader_who_has_them(rt, public):
    (item,) = store(rt, make_item())
    for url in ("/", f"/areas/{DAIZAWA}", f"/items/{item.id}"):
        first = public.get(url)
        assert first.headers["Cache-Control"] == "public, max-age=60"
        again = public.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url


def test_short_link_counts_the_scan_and_redirects(rt, public, now):
    (item,) = store(rt, make_item())
    code = f"i{item.id}"
    r = public.get(f"/q/{code}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/items/{item.id}")
    public.get(f"/q/{code}")
    feed = public.get("/q/rss~setagaya~kitazawa~daizawa")
    assert feed.headers["Location"].endswith(f"/feeds/{DAIZAWA}.rss")
    with rt.session() as session:
        assert scans(session, code) == {now.date().isoformat(): 2}
        assert scans(session, "rss~setagaya~kitazawa~daizawa") == {now.date().isoformat(): 1}
    for bad in ("i99999", "zz", "a~setagaya~nowhere", "rss~setagaya~kitazawa~daizawa~nope"):
        r = public.get(f"/q/{bad}")
        assert r.status_code == 404 and "見つかりません" in _text(r), bad
