"""Residents subscribe to their district: RSS 2.0, Atom 1.0 and iCal with inherited items."""

from __future__ import annotations

from datetime import timedelta

import icalendar
import pytest
from lxml import etree

from publisher.areas import Area
from publisher.items import CATEGORIES, JST, AlertInfo, Place
from publisher.plan.residents import AGGREGATE, FeedSpec, in_calendar, marked_title, resolve_feed
from publisher.render.feeds import render_feed
from publisher.render.ical import render_calendar
from tests.factories import DAIZAWA, KITAZAWA, SEIJO, UMEGAOKA, WARD, make_item
from tests.residents_helpers import frozen, links, parse, store

BASE = "https://signage.example.jp"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def test_every_kind_of_feed_is_well_formed(rt, public, tree):
    """Ward, region, district, category and aggregate feeds all parse cleanly (bozo false)."""
    store(
        rt,
        make_item("区からのお知らせ", targets=(WARD,), category="general"),
        make_item("北沢地域の健康相談", targets=(KITAZAWA,), category="health"),
        make_item("代沢の落ち葉清掃", targets=(DAIZAWA,), category="community"),
    )
    for stem in (WARD, KITAZAWA, DAIZAWA, f"{DAIZAWA}/health", f"{KITAZAWA}/{AGGREGATE}"):
        for fmt in ("rss", "atom"):
            r = public.get(f"/feeds/{stem}.{fmt}")
            assert r.status_code == 200, (stem, fmt)
            assert r.mimetype == f"application/{fmt}+xml"
            parsed = parse(r.data)
            assert parsed.entries, (stem, fmt)
            assert parsed.feed.get("language", "ja").startswith("ja")


def test_ward_notice_reaches_every_district_and_a_district_notice_stays_home(rt, public, tree):
    ward_item, daizawa_item = store(
        rt,
        make_item("年末年始のごみ収集", targets=(WARD,)),
        make_item("代沢だけのお知らせ", targets=(DAIZAWA,)),
    )
    ward_url, daizawa_url = f"{BASE}/items/{ward_item.id}", f"{BASE}/items/{daizawa_item.id}"
    districts = tree.tier("district")
    assert len(districts) == 28
    for district in districts:
        got = links(parse(public.get(f"/feeds/{district.code}.rss").data))
        assert ward_url in got, district.code
        assert (daizawa_url in got) == (district.code == DAIZAWA), district.code
    aggregate = links(parse(public.get(f"/feeds/{KITAZAWA}/all.atom").data))
    assert {ward_url, daizawa_url} <= aggregate
    region_own = links(parse(public.get(f"/feeds/{KITAZAWA}.rss").data))
    assert daizawa_url not in region_own  # targeting inherits downwards, never up
    assert daizawa_url not in links(parse(public.get(f"/feeds/{UMEGAOKA}.rss").data))
    assert daizawa_url not in links(parse(public.get("/feeds/setagaya/kinuta/all.rss").data))


def test_category_feed_carries_only_its_category(rt, public):
    health, other = store(
        rt,
        make_item("健康相談", category="health"),
        make_item("ごみの出し方", category="environment"),
    )
    got = links(parse(public.get(f"/feeds/{DAIZAWA}/health.rss").data))
    assert got == {f"{BASE}/items/{health.id}"}


def test_feed_paths_with_slashes_resolve_unambiguously(tree):
    assert resolve_feed(tree, DAIZAWA).area.code == DAIZAWA
    health = resolve_feed(tree, f"{DAIZAWA}/health")
    assert (health.area.code, health.category) == (DAIZAWA, "health")
    assert resolve_feed(tree, f"{KITAZAWA}/all").aggregate
    # no area's last segment may read as a category or the aggregate
    segments = {code.rsplit("/", 1)[-1] for code in tree.areas}
    assert not segments & {*CATEGORIES, AGGREGATE}


def test_unknown_feed_is_a_404_page(public):
    r = public.get("/feeds/setagaya/kitazwa/daizawa.rss")
    assert r.status_code == 404
    assert "見つかりません" in r.get_data(as_text=True)


def test_drafts_future_and_private_alerts_stay_out_of_feeds(rt, public, now):
    live, *hidden = store(
        rt,
        make_item("掲載中"),
        make_item("下書き", status="draft"),
        make_item("来週から", starts_at=now + timedelta(days=7)),
        make_item(
            "システム試験",
            kind="alert",
            alert=AlertInfo(cap_status="System"),
        ),
    )
    got = links(parse(public.get(f"/feeds/{DAIZAWA}.atom").data))
    assert got == {f"{BASE}/items/{live.id}"}


def test_entries_carry_marks_times_language_and_categories(now, tree):
    drill = make_item(
        "避難所開設訓練のお知らせ",
        id=7,
        kind="alert",
        drill=True,
        alert=AlertInfo(cap_status="Exercise"),
        category="drill",
        updated_at=now,
    )
    emergency = make_item(
        "避難指示",
        id=8,
        kind="alert",
        priority="emergency",
        alert=AlertInfo(),
        category="disaster",
        updated_at=now,
    )
    spec = FeedSpec(tree.get(DAIZAWA))
    atom = render_feed([drill, emergency], spec, BASE, "atom")
    parsed = parse(atom)
    titles = {e.link: e.title for e in parsed.entries}
    assert titles[f"{BASE}/items/7"] == "【訓練】避難所開設訓練のお知らせ"
    assert titles[f"{BASE}/items/8"] == "【緊急】避難指示"
    entry = parsed.entries[0]
    assert entry.published.endswith("+09:00") and entry.updated.endswith("+09:00")
    assert entry.tags[0].term in ("drill", "disaster")
    assert entry.tags[0].label in ("訓練", "防災")
    assert entry.id == entry.link  # stable across revisions
    root = etree.fromstring(atom)
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ja"
    rss = parse(render_feed([drill], spec, BASE, "rss"))
    assert rss.feed.language == "ja"
    assert rss.entries[0].published.endswith("+0900")
    assert rss.entries[0].language == "ja"  # dc:language


def test_a_title_already_marked_is_not_marked_twice():
    item = make_item("【訓練】代沢地区に高齢者等避難", kind="alert", drill=True, alert=AlertInfo())
    assert marked_title(item) == "【訓練】代沢地区に高齢者等避難"


def test_atom_entry_links_keep_rel_and_type(tree, now):
    """feedgen 1.0.0 drops them (its issue #135); the publisher puts them back."""
    atom = render_feed([make_item(id=3, updated_at=now)], FeedSpec(tree.get(DAIZAWA)), BASE, "atom")
    root = etree.fromstring(atom)
    (link,) = root.find(f"{ATOM}entry").findall(f"{ATOM}link")
    assert link.get("rel") == "alternate"
    assert link.get("type") == "text/html"
    assert link.get("hreflang") == "ja"
    assert link.get("href") == f"{BASE}/items/3"


def test_same_items_same_bytes(tree, now):
    """Feeds never stamp 'now' into themselves, so ETags and caches hold."""
    spec = FeedSpec(tree.get(DAIZAWA))
    items = [make_item(id=1, updated_at=now)]
    assert render_feed(items, spec, BASE, "rss") == render_feed(items, spec, BASE, "rss")


def test_repeated_feed_request_with_etag_is_a_304(rt, public):
    store(rt, make_item())
    first = public.get(f"/feeds/{DAIZAWA}.rss")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=60"
    assert first.headers["Last-Modified"]
    again = public.get(f"/feeds/{DAIZAWA}.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    since = public.get(
        f"/feeds/{DAIZAWA}.rss", headers={"If-Modified-Since": first.headers["Last-Modified"]}
    )
    assert since.status_code == 304
    store(rt, make_item("新しいお知らせ"))
    changed = public.get(f"/feeds/{DAIZAWA}.rss", headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    ics = public.get(f"/feeds/{DAIZAWA}.ics")
    assert (
        public.get(
            f"/feeds/{DAIZAWA}.ics", headers={"If-None-Match": ics.headers["ETag"]}
        ).status_code
        == 304
    )


# -- iCal -------------------------------------------------------------------------------------


def _event(now, **overrides):  # type: ignore[no-untyped-def]
    fields = {
        "kind": "event",
        "event_starts_at": now + timedelta(days=3),
        "event_ends_at": now + timedelta(days=3, hours=2),
        "place": Place("代沢小学校 体育館", "世田谷区代沢3-2-1", 35.6555, 139.6740),
        "category": "drill",
    }
    fields.update(overrides)
    return make_item(fields.pop("title", "代沢地区 避難所運営訓練"), **fields)


def test_calendar_round_trips_with_tokyo_times_and_stable_uids(rt, public, now):
    timed, all_day, _umegaoka = store(
        rt,
        _event(now, drill=True),
        _event(
            now,
            title="区民まつり",
            targets=(WARD,),
            all_day=True,
            place=None,
            event_starts_at=now.replace(hour=0) + timedelta(days=5),
            event_ends_at=now.replace(hour=0) + timedelta(days=7),
        ),
        _event(now, title="梅丘の行事", targets=(UMEGAOKA,)),
    )
    r = public.get(f"/feeds/{DAIZAWA}.ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = icalendar.Calendar.from_ical(r.data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Asia/Tokyo"]
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {
        f"item-{timed.id}@signage.example.jp",
        f"item-{all_day.id}@signage.example.jp",
    }
    ev = events[f"item-{timed.id}@signage.example.jp"]
    start = ev.decoded("DTSTART")
    assert start.tzinfo is not None and start.utcoffset() == timedelta(hours=9)
    assert start == now + timedelta(days=3)
    assert str(ev["SUMMARY"]).startswith("【訓練】")
    assert "代沢小学校" in str(ev["LOCATION"])
    assert str(ev["URL"]) == f"{BASE}/items/{timed.id}"
    assert ev.decoded("DTSTAMP").tzinfo is not None
    day = events[f"item-{all_day.id}@signage.example.jp"]
    assert day.decoded("DTSTART") == (now + timedelta(days=5)).date()
    assert day.decoded("DTEND") == (now + timedelta(days=7)).date()
    # the same request twice gives the same UIDs and bytes: calendars update in place
    assert public.get(f"/feeds/{DAIZAWA}.ics").data == r.data


def test_calendar_keeps_recent_events_and_drops_old_ones(now):
    recent = _event(
        now,
        id=1,
        status="approved",
        ends_at=now - timedelta(days=1),
        event_starts_at=now - timedelta(days=3),
        event_ends_at=now - timedelta(days=3),
    )
    old = _event(now, id=2, event_starts_at=now - timedelta(days=60), event_ends_at=None)
    unpublished = _event(now, id=3, starts_at=now + timedelta(days=1))
    assert [e.id for e in in_calendar([recent, old, unpublished], now)] == [1]


def test_calendar_render_is_pure(now, tree):
    area: Area = tree.get(DAIZAWA)
    data = render_calendar([_event(now, id=5, updated_at=now)], area, BASE)
    (ev,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert ev.decoded("DTSTART").astimezone(JST).hour == 10
    assert ev["GEO"].latitude == pytest.approx(35.6555)
    assert SEIJO not in data.decode()


def test_polling_a_feed_costs_no_query_and_a_change_shows_at_once(rt, app):
    """Feed readers poll far more than staff write: a held feed is answered from memory."""
    from sqlalchemy import event

    from publisher.items import utcnow

    real_now = utcnow()
    window = {"starts_at": real_now - timedelta(days=1), "ends_at": real_now + timedelta(days=1)}
    store(rt, make_item("掲載中のお知らせ", **window))
    client = app.test_client()  # the real clock: feeds are held
    first = client.get(f"/feeds/{DAIZAWA}.rss")
    assert first.status_code == 200
    queries: list[str] = []

    def count(*args):  # type: ignore[no-untyped-def]
        queries.append(args[2])

    event.listen(rt.db.engine, "before_cursor_execute", count)
    try:
        again = client.get(
            f"/feeds/{DAIZAWA}.rss", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
        plain = client.get(f"/feeds/{DAIZAWA}.rss")
        assert plain.status_code == 200 and plain.data == first.data
        assert queries == []
        store(rt, make_item("新着のお知らせ", **window))
        changed = client.get(
            f"/feeds/{DAIZAWA}.rss", headers={"If-None-Match": first.headers["ETag"]}
        )
        assert changed.status_code == 200 and "新着のお知らせ" in changed.get_data(as_text=True)
    finally:
        event.remove(rt.db.engine, "before_cursor_execute", count)
