"""A phone pointed at a QR code on a screen or a flyer lands on the right page, and the ward
learns how many scans each code got that day — and nothing about who scanned."""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from publisher.store.models import QrScanRow
from publisher.store.shortlinks import code_for, path_for, scans
from tests.factories import DAIZAWA, make_item
from tests.residents_helpers import frozen, store


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def _decode(png: bytes) -> str:
    (found,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return found.text


def test_item_qr_scans_to_the_short_link_which_leads_to_the_page_and_counts(rt, public, now):
    (item,) = store(rt, make_item())
    r = public.get(f"/qr/items/{item.id}.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    url = _decode(r.data)
    assert url == f"https://signage.example.jp/q/i{item.id}"
    hop = public.get(urlsplit(url).path)
    assert hop.status_code == 302
    page = public.get(urlsplit(hop.headers["Location"]).path)
    assert page.status_code == 200 and item.title in page.get_data(as_text=True)
    with rt.session() as session:
        assert scans(session, f"i{item.id}") == {"2026-11-22": 1}
        assert set(QrScanRow.__table__.columns.keys()) == {"code", "day", "count"}


def test_feed_qr_codes_lead_to_the_feeds(public):
    for fmt in ("rss", "atom", "ics"):
        url = _decode(public.get(f"/qr/feeds/{DAIZAWA}.{fmt}.png").data)
        hop = public.get(urlsplit(url).path)
        assert hop.headers["Location"].endswith(f"/feeds/{DAIZAWA}.{fmt}")
        assert public.get(urlsplit(hop.headers["Location"]).path).status_code == 200


def test_qr_svg_and_caching(rt, public):
    (item,) = store(rt, make_item())
    svg = public.get(f"/qr/items/{item.id}.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    png = public.get(f"/qr/items/{item.id}.png")
    assert "max-age=2592000" in png.headers["Cache-Control"]
    again = public.get(f"/qr/items/{item.id}.png", headers={"If-None-Match": png.headers["ETag"]})
    assert again.status_code == 304


def test_no_qr_for_what_does_not_exist(public):
    assert public.get("/qr/items/424242.png").status_code == 404
    assert public.get("/qr/areas/setagaya/nowhere.png").status_code == 404
    assert public.get("/qr/admin/secret.png").status_code == 404


def test_short_codes_are_short_stable_and_reversible():
    for path in (
        "/items/42",
        f"/areas/{DAIZAWA}",
        f"/feeds/{DAIZAWA}.rss",
        f"/feeds/{DAIZAWA}/health.atom",
        "/feeds/setagaya/kitazawa/all.ics",
    ):
        assert path_for(code_for(path)) == path
    assert code_for("/items/42") == "i42"
    assert code_for(f"/feeds/{DAIZAWA}.rss") == "rss~setagaya~kitazawa~daizawa"


def test_a_feed_qr_code_on_a_page_in_korean_opens_the_korean_feed(rt, public):
    page = public.get(f"/areas/{DAIZAWA}?lang=ko").get_data(as_text=True)
    sources = re.findall(r'<img src="(/qr/feeds/[^"]+)"', page)
    assert sources == [
        f"/qr/feeds/{DAIZAWA}.rss.png?lang=ko",
        f"/qr/feeds/{DAIZAWA}.atom.png?lang=ko",
        f"/qr/feeds/{DAIZAWA}.ics.png",  # calendars are Japanese only
    ]
    for src, fmt in zip(sources[:2], ("rss", "atom"), strict=True):
        url = _decode(public.get(src).data)
        assert url == f"https://signage.example.jp/q/{fmt}~setagaya~kitazawa~daizawa~~ko"
        hop = public.get(urlsplit(url).path)
        assert hop.status_code == 302
        assert hop.headers["Location"] == f"/feeds/{DAIZAWA}.{fmt}?lang=ko"
        feed = public.get(hop.headers["Location"]).get_data(as_text=True)
        assert "다이자와" in feed, fmt
    with rt.session() as session:
        assert scans(session, "rss~setagaya~kitazawa~daizawa~~ko") == {"2026-11-22": 1}
    japanese = public.get(f"/areas/{DAIZAWA}?lang=ja").get_data(as_text=True)
    assert f'<img src="/qr/feeds/{DAIZAWA}.rss.png"' in japanese


def test_a_feed_qr_code_in_an_unknown_language_or_for_a_calendar_is_not_found(public):
    assert public.get(f"/qr/feeds/{DAIZAWA}.rss.png?lang=xx").status_code == 404
    assert public.get(f"/qr/feeds/{DAIZAWA}.ics.png?lang=en").status_code == 404
    assert public.get("/q/rss~setagaya~kitazawa~daizawa~~xx").status_code == 404
    assert public.get("/q/rss~setagaya~kitazawa~nowhere~~en").status_code == 404


def test_a_feed_code_in_another_language_names_the_same_feed():
    code = code_for(f"/feeds/{DAIZAWA}/health.atom", "zh-Hant")
    assert code == "atom~setagaya~kitazawa~daizawa~health~~zh-Hant"
    assert path_for(code) == f"/feeds/{DAIZAWA}/health.atom"
    assert code_for(f"/feeds/{DAIZAWA}.rss", "ja") == "rss~setagaya~kitazawa~daizawa"
