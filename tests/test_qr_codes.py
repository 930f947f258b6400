"""A phone pointed at a QR code on a screen or a flyer lands on the right page, and the ward
learns how many scans each code got that day — and nothing about who scanned."""

from __future__ import annotations

import io
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
