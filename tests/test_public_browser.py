"""An elderly resident opens the Daizawa page and an item on a phone: the pages must be
readable (base text ≥ 16 px), structured (one h1, headings in order, landmarks), described
(lang, alt text) and the QR code must actually load."""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.items import Place, Translation
from tests.browser import launch
from tests.factories import DAIZAWA, WARD, make_item
from tests.residents_helpers import frozen, serving, store

CHECKS = """() => {
  const headings = [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')].map(h => +h.tagName[1]);
  const imgs = [...document.querySelectorAll('img')];
  return {
    lang: document.documentElement.lang,
    h1: document.querySelectorAll('h1').length,
    headings,
    missingAlt: imgs.filter(i => !(i.getAttribute('alt') || '').trim()).length,
    imgs: imgs.length,
    loaded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    fontPx: parseFloat(getComputedStyle(document.body).fontSize),
    landmarks: ['header', 'nav', 'main', 'footer'].filter(t => document.querySelector(t)).length,
    blockLangs: [...document.querySelectorAll('article[lang]')].map(a => a.lang),
  };
}"""


@pytest.mark.browser
def test_area_and_item_pages_read_well_on_a_phone(rt, app, now):
    from playwright.sync_api import sync_playwright

    (_, event) = store(
        rt,
        make_item("年末年始のごみ収集について", targets=(WARD,), category="environment"),
        make_item(
            "代沢地区 避難所運営訓練",
            kind="event",
            category="drill",
            translations=(
                Translation(
                    "ja", "代沢地区 避難所運営訓練", "避難所を開設・運営する訓練を行います。"
                ),
                Translation("en", "Daizawa shelter drill", "A shelter drill for everyone."),
            ),
            event_starts_at=now + timedelta(days=5),
            event_ends_at=now + timedelta(days=5, hours=2),
            place=Place("代沢小学校 体育館", "世田谷区代沢3-2-1", 35.6555, 139.674),
        ),
    )
    with serving(frozen(app, now)) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="ja-JP")
            for url in (
                "/",
                f"/areas/{DAIZAWA}",
                f"/items/{event.id}",
                f"/items/{event.id}?lang=en",
            ):
                page.goto(base + url)
                page.wait_for_load_state("load")
                got = page.evaluate(CHECKS)
                assert got["lang"] == ("en" if url.endswith("lang=en") else "ja"), url
                assert got["h1"] == 1, url
                assert got["headings"][0] == 1, url
                steps = zip(got["headings"], got["headings"][1:], strict=False)
                assert all(b <= a + 1 for a, b in steps), (url, got["headings"])
                assert got["missingAlt"] == 0, url
                assert got["loaded"] == got["imgs"], url  # every QR image arrived and decoded
                assert got["fontPx"] >= 16, url
                assert got["landmarks"] == 4, url
            assert got["imgs"] == 1 and got["blockLangs"] == ["en"]
            page.goto(f"{base}/items/{event.id}?lang=ja")  # the switch back: English stuck
            assert page.evaluate(CHECKS)["blockLangs"] == ["ja"]
            assert page.locator("a[hreflang=en]").first.get_attribute("lang") == "en"
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "skip"
        finally:
            browser.close()
