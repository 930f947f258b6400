"""Reach: scans per item × language × screen, page views, distinct feed readers — no one's
address or browser is stored."""

from __future__ import annotations

import dataclasses
import io
from urllib.parse import urlsplit

import zxingcpp
from PIL import Image
from sqlalchemy import select

from publisher.deliver.playlists import build, cache_for, like, load_items, render_slide
from publisher.items import Translation
from publisher.store import reports
from publisher.store.models import QrScanRow, ReachDailyRow
from publisher.web.reach import flush
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import frozen, store


def _decode(png: bytes) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def test_scanning_an_english_slide_on_daizawa_1_counts_an_english_scan_from_that_screen(
    rt, app, now
):
    english_text = Translation("en", "Fallen-leaf clean-up", "From 9 a.m. at Daizawa school.")
    (item,) = store(rt, make_item(translations=(*make_item().translations, english_text)))
    sp = cache_for(rt).get("daizawa-1", now)
    english = next(s for s in sp.slides if s.entry.lang == "en" and s.entry.item_id == item.id)
    url = _decode(render_slide(rt, english).read_bytes())
    assert url == f"https://signage.example.jp/q/i{item.id}~en~daizawa-1"
    client = frozen(app, now).test_client()
    hop = client.get(urlsplit(url).path)
    assert hop.status_code == 302
    assert hop.headers["Location"].endswith(f"/items/{item.id}?lang=en")
    page = client.get(hop.headers["Location"])
    assert page.status_code == 200
    with rt.session() as session:
        rows = reports.reach(session, ["daizawa-1"], [DAIZAWA], None, "2026-11-22", "2026-11-22")
    scans = [r for r in rows if r["kind"] == "scan"]
    assert [(r["item_id"], r["lang"], r["screen"], r["count"]) for r in scans] == [
        (item.id, "en", "daizawa-1", 1)
    ]


def test_screens_alike_get_slides_whose_qr_names_each_screen_but_emergencies_are_shared(rt, now):
    store(rt, make_item())
    one = rt.tree.screen("daizawa-1")
    twin = dataclasses.replace(one, id="daizawa-9")
    sp = build(rt, one, load_items_now(rt, now), now)
    other = like(rt, sp, twin)
    assert {s.spec.qr_url.rsplit("~", 1)[-1] for s in sp.slides} == {"daizawa-1"}
    assert {s.spec.qr_url.rsplit("~", 1)[-1] for s in other.slides} == {"daizawa-9"}
    assert other.version != sp.version
    store(rt, make_item(kind="alert", priority="emergency", targets=("setagaya",)))
    sp = build(rt, one, load_items_now(rt, now), now)
    assert sp.plan.override and like(rt, sp, twin).slides is sp.slides
    assert all("daizawa" not in s.spec.qr_url for s in sp.slides)


def load_items_now(rt, now):  # type: ignore[no-untyped-def]
    with rt.session() as session:
        return load_items(session, now)


def test_short_links_with_an_unknown_language_or_screen_are_404_and_not_counted(rt, app, now):
    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    for code in (f"i{item.id}~xx~daizawa-1", f"i{item.id}~en~nowhere-9"):
        resp = client.get(f"/q/{code}")
        assert resp.status_code == 404
    with rt.session() as session:
        assert session.scalars(select(QrScanRow)).all() == []
        assert session.scalars(select(ReachDailyRow)).all() == []


def test_page_views_and_distinct_feed_readers_are_counted_per_day_without_who(rt, app, now):
    (item,) = store(rt, make_item())
    client = frozen(app, now).test_client()
    for lang in ("en", "en", "ja"):
        assert client.get(f"/items/{item.id}?lang={lang}").status_code == 200
    # three requests from two readers (address + browser), one of them a conditional GET
    alice = {"User-Agent": "FeedReader/1.0"}
    first = client.get(
        f"/feeds/{DAIZAWA}.rss",
        headers={"User-Agent": alice["User-Agent"]},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    client.get(
        f"/feeds/{DAIZAWA}.rss",
        headers={"User-Agent": alice["User-Agent"], "If-None-Match": first.headers["ETag"]},
        environ_base={"REMOTE_ADDR": "192.0.2.1"},
    )
    client.get(
        f"/feeds/{DAIZAWA}.rss",
        headers={"User-Agent": "Other/2"},
        environ_base={"REMOTE_ADDR": "192.0.2.2"},
    )
    flush(rt)
    with rt.session() as session:
        rows = reports.reach(session, [], [DAIZAWA], None, "2026-11-22", "2026-11-22")
        stored = session.scalars(select(ReachDailyRow)).all()
    views = {(r["lang"], r["count"]) for r in rows if r["kind"] == "view"}
    assert views == {("en", 2), ("ja", 1)}
    feeds = [(r["area"], r["format"], r["count"]) for r in rows if r["kind"] == "feed"]
    assert feeds == [(DAIZAWA, "rss", 2)]
    text = repr([(r.__dict__) for r in stored])
    assert "192.0.2" not in text and "FeedReader" not in text


def test_a_feed_reader_counts_once_a_day_and_the_salt_changes_each_day(rt, now):
    from datetime import timedelta

    from publisher.store.reach import Counters

    counters = Counters()
    for _ in range(3):
        counters.reader(DAIZAWA, "atom", "192.0.2.9", "Reader/1", now)
    counters.reader(DAIZAWA, "atom", "192.0.2.9", "Reader/2", now)  # another browser
    salt = counters._salt
    counters.flush(rt.session)
    counters.reader(DAIZAWA, "atom", "192.0.2.9", "Reader/1", now + timedelta(days=1))
    assert counters._salt != salt
    counters.flush(rt.session)
    counters.flush(rt.session)  # nothing new: nothing written twice
    with rt.session() as session:
        rows = reports.reach(session, [], [DAIZAWA], None, "2026-11-22", "2026-11-23")
    assert [(r["day"], r["count"]) for r in rows if r["kind"] == "feed"] == [
        ("2026-11-22", 2),
        ("2026-11-23", 1),
    ]
