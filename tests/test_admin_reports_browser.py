"""効果の測定 in Chromium: the charts are there with JavaScript off, and axe finds nothing."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.items import utcnow
from publisher.store.plays import Play, record_plays
from publisher.store.reach import count_scan
from publisher.store.report_view import above
from tests.admin_helpers import PASSWORD, cheap_hashes, make_user
from tests.browser import launch
from tests.factories import KITAZAWA, make_item
from tests.residents_helpers import store

SHOTS_DIR = os.environ.get("PUBLISHER_SCREENSHOTS")  # keep screenshots here when set


def _seed(rt: Any) -> None:
    """A week of plays on two of Kitazawa's screens, in three languages, and some scans."""
    now = utcnow()
    items = store(
        rt,
        make_item(
            "代沢まつりのお知らせ",
            category="community",
            starts_at=now - timedelta(days=10),
            ends_at=now + timedelta(days=10),
        ),
        make_item(
            "防災訓練のお知らせ",
            category="disaster",
            targets=(KITAZAWA,),
            starts_at=now - timedelta(days=10),
            ends_at=now + timedelta(days=10),
        ),
    )
    seq = 0
    with rt.session() as session:
        for screen in ("daizawa-1", "daizawa-2"):
            area = above(rt.tree, rt.tree.screen(screen).area)
            plays = []
            for day in range(7):
                for n in range(40 + 10 * day):
                    seq += 1
                    item = items[n % 2]
                    lang = ("ja", "en", "ja-x-easy")[n % 3]
                    at = now - timedelta(days=day, minutes=n)
                    plays.append(Play(seq, item.id, 1, lang, at, 12_000))
            record_plays(session, screen, area, plays, now, 90)
            for lang in ("en", "en", "ja", "ko"):
                count_scan(session, items[0].id, lang, screen, now)


@pytest.mark.browser
def test_reports_show_their_charts_without_javascript_and_pass_axe(
    rt, server, tmp_path, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    cheap_hashes(monkeypatch)
    make_user(rt, "kitazawa-approver", "approver", KITAZAWA)
    _seed(rt)
    shots = Path(SHOTS_DIR) if SHOTS_DIR else tmp_path
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        for javascript in (False, True):
            context = browser.new_context(
                viewport={"width": 1280, "height": 900},
                locale="ja-JP",
                java_script_enabled=javascript,
            )
            page = context.new_page()
            page.goto(f"{server}/admin/login")
            page.get_by_label("ユーザー名").fill("kitazawa-approver")
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            page.wait_for_url("**/admin/items")
            page.get_by_role("link", name="効果の測定").click()
            page.wait_for_url("**/admin/reports")
            charts = page.locator("svg.chart")
            assert charts.count() >= 8
            box = charts.first.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
            assert page.locator("svg.chart rect").count() > 20  # bars drawn by the server
            if not javascript:
                page.screenshot(path=str(shots / "issue-18-reports.png"), full_page=True)
                continue
            results = axe_module.Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            page.get_by_role("link", name="#", exact=False).first.click()
            page.wait_for_url("**/admin/reports/items/**")
            assert "このお知らせは" in page.locator(".report-sentence").inner_text()
            page.screenshot(path=str(shots / "issue-18-report-item.png"), full_page=True)
            results = axe_module.Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            context.close()
        browser.close()
