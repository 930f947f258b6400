"""変更履歴, 画面の状態 and 職員アカウント in Chromium at a desk (1280 px) and on a phone (390 px): nothing runs
off the side, the words are Japanese, the copy button copies, and axe finds nothing."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.deliver.playlists import cache_for
from publisher.items import Translation
from publisher.store.content import create_item, update_item
from publisher.store.models import DeliveryRow, ScreenRow
from tests.admin_helpers import PASSWORD, cheap_hashes, staff_accounts
from tests.axe import axe_violations, describe
from tests.browser import launch
from tests.factories import DAIZAWA, SEIJO, WARD, make_item

SHOTS_DIR = os.environ.get("PUBLISHER_SCREENSHOTS")  # keep screenshots here when set
WIDTHS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}

TITLES = {
    "ja": "世田谷区 冬のボランティア募集のお知らせ（高齢者見守り・子育て支援・地域清掃・防災訓練の運営補助）",
    "ja-x-easy": "せたがやくで ふゆの ボランティアを ぼしゅうします（おとしよりの みまもり・こそだての てつだい）",
    "en": "Setagaya City is recruiting winter volunteers: watching over older residents, "
    "supporting families with children, cleaning the neighbourhood and helping run drills",
    "zh-Hans": "世田谷区冬季志愿者招募通知（老年人看护、育儿支援、社区清扫、防灾演练运营协助）",
    "zh-Hant": "世田谷區冬季志工招募通知（高齡者看護、育兒支援、社區清掃、防災演練營運協助）",
    "ko": "세타가야구 겨울 자원봉사자 모집 안내 (고령자 돌봄·육아 지원·지역 청소·방재 훈련 운영 보조)",
}
BODY = (
    "申込は12月15日（火）まで、代沢まちづくりセンター窓口または電話03-0000-0000で受け付けます。"
    "https://www.city.setagaya.lg.jp/mokuji/kusei/001/001/d00000000000000000000000.html\n"
    "活動日：毎週土曜日 午前9時〜正午"
)
ERROR = (
    "POST http://signage-kyodo.local:8080/bundle: ConnectionError: HTTPConnectionPool("
    "host='signage-kyodo.local', port=8080): Max retries exceeded with url: /bundle (Caused by "
    "NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f0c2b1d5e10>: "
    "Failed to establish a new connection: [Errno 111] Connection refused'))"
)


def _translations(suffix: str = "") -> tuple[Translation, ...]:
    return tuple(Translation(lang, t + suffix, BODY) for lang, t in TITLES.items())


@pytest.fixture
def demo(rt, app, now, monkeypatch):
    """Demo-like content: a six-language notice edited twice, screens online, behind, failing."""
    cheap_hashes(monkeypatch)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    staff_accounts(rt, app)
    with rt.session() as session:
        item = create_item(
            session, make_item(translations=_translations(), targets=(DAIZAWA, SEIJO)), actor="test"
        )
        item = update_item(
            session,
            item.with_changes(translations=_translations("（12月20日まで延長）")),
            actor="kitazawa-approver",
        )
        update_item(
            session, item.with_changes(targets=(WARD,)), actor="ward-admin", status="withdrawn"
        )
        live = create_item(session, make_item(TITLES["ja"], targets=(DAIZAWA,)), actor="test")
    planned = cache_for(rt).get("daizawa-1", now)
    slide = next(s for s in planned.slides if s.entry.item_id == live.id)
    with rt.session() as session:
        dz = session.get(ScreenRow, "daizawa-1")
        dz.last_heartbeat_at, dz.last_slide = now - timedelta(seconds=20), slide.key
        dz.version_on_screen = planned.version
        ky = session.get(ScreenRow, "kyodo-1")
        ky.last_heartbeat_at, ky.version_on_screen = now - timedelta(hours=3), "0" * 64
        base = now - timedelta(hours=4)
        session.add_all(
            [
                DeliveryRow(screen_id="kyodo-1", version="0" * 64, method="http",
                            state="delivered", attempts=1, created_at=base, delivered_at=base),
                DeliveryRow(screen_id="kyodo-1", version="1" * 64, method="http", state="failed",
                            attempts=8, created_at=base + timedelta(hours=1), last_error=ERROR,
                            next_attempt_at=now + timedelta(minutes=5)),
            ]
        )  # fmt: skip


def _fits(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.browser
def test_the_audit_and_screens_pages_fit_a_desk_and_a_phone_and_read_in_japanese(
    demo, server, tmp_path
):
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(SHOTS_DIR) if SHOTS_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        for name, viewport in WIDTHS.items():
            context = browser.new_context(viewport=viewport, locale="ja-JP", bypass_csp=True)
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{server}/admin/login")
            page.get_by_label("ユーザー名").fill("ward-admin")
            page.get_by_label("パスワード").fill(PASSWORD)
            page.get_by_role("button", name="ログイン").click()
            page.wait_for_url("**/admin/items")

            page.goto(f"{server}/admin/audit")
            page.screenshot(path=str(shots / f"admin-audit-{name}.png"), full_page=True)
            assert page.get_by_role("rowheader", name="タイトル（English）").first.is_visible()
            assert page.locator("table.diff").get_by_text("取り下げ", exact=True).first.is_visible()
            assert '{"ja"' not in page.content()
            width, viewport_width = _fits(page)
            assert width <= viewport_width, f"audit at {viewport_width} px is {width} px wide"
            if name == "desk":
                assert not (found := axe_violations(page)), describe(found)

            page.goto(f"{server}/admin/screens")
            page.screenshot(path=str(shots / f"admin-screens-{name}.png"), full_page=True)
            kyodo = page.locator("#screen-kyodo-1")
            assert "配信に失敗（8回）：接続できません" in kyodo.inner_text()
            assert TITLES["ja"] in page.locator("#screen-daizawa-1").inner_text()
            width, viewport_width = _fits(page)
            assert width <= viewport_width, f"screens at {viewport_width} px is {width} px wide"
            kyodo.get_by_text("詳細", exact=True).click()
            assert kyodo.get_by_text("Connection refused", exact=False).is_visible()
            kyodo.get_by_role("button", name="コピー").click()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.endswith("/play/kyodo-1") and "token" not in copied
            width, viewport_width = _fits(page)
            kyodo.scroll_into_view_if_needed()
            page.screenshot(path=str(shots / f"admin-screens-details-{name}.png"))
            assert width <= viewport_width, f"open details at {viewport_width} px: {width} px"
            if name == "desk":
                assert not (found := axe_violations(page)), describe(found)
                # an admin issues a new player URL: shown once, at the top, ready to copy
                page.once("dialog", lambda d: d.accept())
                kyodo.get_by_role("button", name="トークンを新しくする").click()
                fresh = page.locator(".fresh-url")
                fresh.wait_for()
                fresh.get_by_role("button", name="コピー").click()
                copied = page.evaluate("navigator.clipboard.readText()")
                assert "/play/kyodo-1?token=" in copied
                page.screenshot(path=str(shots / "admin-screens-rotated-desk.png"))
                assert _fits(page)[0] <= viewport["width"]
            page.goto(f"{server}/admin/users")
            assert page.locator("#f-name").get_attribute("autocomplete") == "off"
            page.screenshot(path=str(shots / f"admin-users-{name}.png"), full_page=True)
            width, viewport_width = _fits(page)
            assert width <= viewport_width, f"users at {viewport_width} px is {width} px wide"
            if name == "desk":
                assert not (found := axe_violations(page)), describe(found)
            context.close()
        # without JavaScript: no dead button; the URL sits in a field staff can select and copy
        context = browser.new_context(viewport=WIDTHS["desk"], java_script_enabled=False)
        page = context.new_page()
        page.goto(f"{server}/admin/login")
        page.get_by_label("ユーザー名").fill("ward-admin")
        page.get_by_label("パスワード").fill(PASSWORD)
        page.get_by_role("button", name="ログイン").click()
        page.goto(f"{server}/admin/screens")
        kyodo = page.locator("#screen-kyodo-1")
        kyodo.get_by_text("詳細", exact=True).click()
        assert kyodo.get_by_label("プレーヤーURL").input_value().endswith("/play/kyodo-1")
        assert not kyodo.get_by_role("button", name="コピー").is_visible()
        context.close()
        browser.close()
    assert problems == []
