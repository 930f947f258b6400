"""A notice from draft to the public API, done in Chromium on a tablet-sized screen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from tests.admin_helpers import PASSWORD, cheap_hashes, make_user
from tests.browser import launch
from tests.factories import DAIZAWA, KITAZAWA, player_token

TABLET = {"width": 820, "height": 1180}
SHOTS_DIR = os.environ.get("PUBLISHER_SCREENSHOTS")  # keep screenshots here when set


@pytest.mark.browser
def test_a_district_editor_and_a_region_approver_take_a_notice_to_the_public(
    rt, server, tmp_path, monkeypatch
):
    sync_api = pytest.importorskip("playwright.sync_api")
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    make_user(rt, "kitazawa-approver", "approver", KITAZAWA)
    shots = Path(SHOTS_DIR) if SHOTS_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []

    with sync_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=TABLET, locale="ja-JP")
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))

        def login(name: str) -> None:
            page.goto(f"{server}/admin/login")
            page.get_by_label("ユーザー名").fill(name)
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            page.wait_for_url("**/admin/items")

        login("daizawa-editor")
        page.get_by_role("link", name="新規作成").click()
        page.get_by_label("タイトル（日本語）").fill("代沢地区 落ち葉清掃のお知らせ")
        page.get_by_label("本文（日本語）").fill(
            "11月29日（日）午前9時から、代沢小学校周辺の落ち葉清掃を行います。軍手をお持ちください。"
        )
        page.get_by_role("tab", name="English").click()
        page.get_by_label("タイトル（English）").fill("Fallen-leaf clean-up in Daizawa")
        assert page.get_by_label("代沢地区").is_checked()  # the editor's own district
        assert page.locator("input[name=targets]").count() == 1
        # the live preview redraws the slide as the form changes (a script file, no inline JS)
        with page.expect_response(lambda r: "preview-landscape" in r.url and r.ok):
            page.get_by_label("分類").select_option("community")
        page.wait_for_function(
            "document.getElementById('preview-landscape').src.startsWith('blob:')"
            " && document.getElementById('preview-landscape').complete"
        )
        page.screenshot(path=str(shots / "admin-form.png"), full_page=True)
        page.get_by_role("button", name="保存して承認を依頼").click()
        assert page.get_by_text("承認待ち", exact=True).first.is_visible()
        page.get_by_role("link", name="お知らせ一覧").click()
        page.screenshot(path=str(shots / "admin-list.png"), full_page=True)
        page.get_by_role("button", name="ログアウト").click()
        page.wait_for_url("**/admin/login")

        login("kitazawa-approver")
        page.get_by_role("link", name="承認待ち").click()
        assert page.get_by_role("link", name="代沢地区 落ち葉清掃のお知らせ").is_visible()
        page.screenshot(path=str(shots / "admin-approvals.png"), full_page=True)
        page.get_by_role("button", name="承認して公開").click()
        page.get_by_text("承認しました。").wait_for()
        assert page.get_by_text("承認待ちのお知らせはありません。").is_visible()
        browser.close()

    listed = requests.get(f"{server}/api/items", params={"area": DAIZAWA}, timeout=10).json()
    titles = [i["title"]["ja"] for i in listed["items"]]
    assert titles == ["代沢地区 落ち葉清掃のお知らせ"]
    assert listed["items"][0]["title"]["en"] == "Fallen-leaf clean-up in Daizawa"
    item_id = listed["items"][0]["id"]

    # ...and on every channel: the district's public page, its feed, and its lobby screen.
    page = requests.get(f"{server}/areas/{DAIZAWA}", timeout=10).text
    assert "代沢地区 落ち葉清掃のお知らせ" in page
    feed = requests.get(f"{server}/feeds/{DAIZAWA}.rss", timeout=10).text
    assert f"/items/{item_id}" in feed
    token = player_token(rt)
    playlist = requests.get(
        f"{server}/api/screens/daizawa-1/playlist", params={"token": token}, timeout=30
    ).json()
    assert item_id in {e["item_id"] for e in playlist["entries"]}
    assert problems == []
