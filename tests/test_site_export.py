"""`publisher build --out DIR` writes the residents' side as files any web server can serve."""

from __future__ import annotations

import functools
import http.client
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import zxingcpp
from PIL import Image

from publisher.items import Translation
from publisher.web.links import export_file, relative_href
from publisher.web.site import build_site, site_urls
from tests.factories import DAIZAWA, UMEGAOKA, WARD, make_item
from tests.residents_helpers import links, parse, store


@contextmanager
def static_server(folder: Path) -> Iterator[int]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def test_static_export_serves_pages_and_feeds_from_a_plain_web_server(rt, tmp_path, now):
    ward_item, daizawa_item, umegaoka_item = store(
        rt,
        make_item("年末年始のごみ収集", targets=(WARD,)),
        make_item("代沢の落ち葉清掃"),
        make_item("梅丘のお知らせ", targets=(UMEGAOKA,)),
    )
    out = tmp_path / "site"
    counts = build_site(rt, out, now)
    assert counts["pages"] >= 1 + 34 + 3 and counts["feeds"] > 34 * 2
    assert counts["calendars"] == 34 and counts["qr"] > 0 and counts["skipped"] == 0
    with static_server(out) as port:
        status, html = _get(port, f"/areas/{DAIZAWA}/")
        assert status == 200
        page = html.decode()
        assert "代沢の落ち葉清掃" in page and "梅丘のお知らせ" not in page
        assert 'href="../../../../static/public/site.css"' in page
        assert _get(port, "/static/public/site.css")[0] == 200
        status, feed = _get(port, f"/feeds/{DAIZAWA}.rss")
        assert status == 200
        got = links(parse(feed))
        assert got == {
            f"https://signage.example.jp/items/{ward_item.id}",
            f"https://signage.example.jp/items/{daizawa_item.id}",
        }
        status, item_page = _get(port, f"/items/{daizawa_item.id}/")
        assert status == 200 and "代沢の落ち葉清掃" in item_page.decode()
        assert _get(port, f"/qr/items/{daizawa_item.id}.png")[0] == 200
        assert _get(port, f"/feeds/{DAIZAWA}.ics")[0] == 200
        assert _get(port, f"/feeds/{DAIZAWA}/community.atom")[0] == 200
        assert _get(port, "/feeds/setagaya/kitazawa/all.rss")[0] == 200
        # every page in every language, linking to the others in the same language
        status, korean = _get(port, f"/areas/{DAIZAWA}/ko/")
        assert status == 200 and '<html lang="ko">' in korean.decode()
        assert f'href="../../../../../items/{daizawa_item.id}/ko/"' in korean.decode()
        assert 'href="../"' in korean.decode()  # the switch back to Japanese: the plain page
        status, english = _get(port, "/en/")
        assert status == 200 and "Setagaya City District Information" in english.decode()
        assert _get(port, "/accessibility/zh-Hant/")[0] == 200
    # without the app there is no /q/ short link: the export's QR codes point at the pages
    (found,) = zxingcpp.read_barcodes(Image.open(out / f"qr/items/{daizawa_item.id}.png"))
    assert found.text == f"https://signage.example.jp/items/{daizawa_item.id}"


def test_a_withdrawn_items_page_disappears_from_the_next_export(rt, tmp_path, now):
    from publisher.store.content import update_item

    (item,) = store(rt, make_item())
    build_site(rt, tmp_path, now)
    assert (tmp_path / f"items/{item.id}/index.html").exists()
    with rt.session() as session:
        update_item(session, item, actor="test", action="withdraw", status="withdrawn")
    build_site(rt, tmp_path, now)
    assert not (tmp_path / f"items/{item.id}").exists()


def test_export_layout_mirrors_the_app_urls(tree):
    assert export_file("/") == "index.html"
    assert export_file(f"/areas/{DAIZAWA}") == f"areas/{DAIZAWA}/index.html"
    assert export_file("/items/5?lang=en") == "items/5/en/index.html"
    assert export_file(f"/feeds/{DAIZAWA}.rss") == f"feeds/{DAIZAWA}.rss"
    assert relative_href("/items/5", "/items/5?lang=en") == "../"
    assert relative_href("/", f"/areas/{DAIZAWA}") == "../../../../"
    assert relative_href("/qr/items/5.png", "/items/5") == "../../qr/items/5.png"
    urls = site_urls(
        tree,
        [make_item(id=5, translations=(Translation("ja", "お知らせ"), Translation("en", "News")))],
    )
    assert len(urls) == len(set(urls))
    assert {"/", f"/areas/{DAIZAWA}", "/items/5", "/items/5?lang=en", "/qr/items/5.png"} <= set(
        urls
    )
