"""An approver sends a prepared evacuation-order drill from a tablet in Chromium: template,
slots, preview of every language on every screen size, send."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from publisher.areas import LANGUAGES
from tests.admin_helpers import PASSWORD, cheap_hashes, make_user
from tests.browser import launch
from tests.factories import DAIZAWA, KITAZAWA
from tests.test_admin_browser import SHOTS_DIR, TABLET


@pytest.mark.browser
def test_an_approver_sends_a_templated_drill_after_seeing_every_language_and_size(
    rt,
    server,
    tmp_path,
    monkeypatch,
):
    sync_api = pytest.importorskip("playwright.sync_api")
    cheap_hashes(monkeypatch)
    make_user(rt, "kitazawa-approver", "approver", KITAZAWA)
    shots = Path(SHOTS_DIR) if SHOTS_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport=TABLET, locale="ja-JP")
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{server}/admin/login")
        page.get_by_label("ユーザー名").fill("kitazawa-approver")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.wait_for_url("**/admin/items")

        started = time.perf_counter()
        page.goto(f"{server}/admin/emergency")
        page.get_by_label("訓練", exact=True).check()
        page.get_by_label("テンプレート", exact=True).select_option(label="警戒レベル4 避難指示")
        page.get_by_label("避難先・避難所").fill("代沢小学校")
        page.get_by_label("発令・発生時刻").fill("14:30")
        page.get_by_label("代沢地区").check()
        page.get_by_role("button", name="プレビュー（6言語・全画面サイズ）").click()
        page.wait_for_load_state()
        if not page.locator(".emergency-previews img").count():
            page.screenshot(path=str(shots / "admin-emergency-failed.png"), full_page=True)
            errors = page.locator(".field-error, .form-error").all_inner_texts()
            raise AssertionError(f"no preview: {errors}")
        images = page.locator(".emergency-previews img")
        assert images.count() == 2 * len(LANGUAGES)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.emergency-previews img')]"
            ".every((i) => i.complete && i.naturalWidth > 0)"
        )
        assert page.get_by_label("タイトル（繁體中文）").input_value().startswith("【演練】")
        page.screenshot(path=str(shots / "admin-emergency-preview.png"), full_page=True)
        page.on("dialog", lambda d: d.accept())
        page.get_by_role("button", name="ただちに発信する").click()
        page.wait_for_selector("text=緊急情報を発信しました。")
        print(f"\ntemplate to sent, driven by a script: {time.perf_counter() - started:.1f} s")
        browser.close()
    assert problems == []
    items = requests.get(f"{server}/api/items?area={DAIZAWA}", timeout=10).json()["items"]
    (alert,) = items
    assert alert["drill"] is True and sorted(alert["title"]) == sorted(LANGUAGES)
