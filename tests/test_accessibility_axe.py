"""Every page residents and staff use passes axe-core's WCAG 2.0/2.1 A and AA rules in Chromium
(the JIS X 8341-3:2016 AA target of /accessibility): the public pages in all six languages, the
withdrawn (410) and unknown (404) pages, and the admin pages from login to the audit log.

``PUBLISHER_A11Y_RECORD=1`` also writes the result (date, pages, count) into
``publisher/templates/public/accessibility.toml``, which /accessibility shows."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from publisher.areas import LANGUAGES
from publisher.items import AlertInfo, Place, Translation
from publisher.store.content import update_item
from publisher.web.public import A11Y_RESULTS, accessibility_results
from tests.admin_helpers import PASSWORD, cheap_hashes, make_user
from tests.axe import AXE_VERSION, WCAG_TAGS, axe_violations, describe
from tests.browser import launch
from tests.factories import DAIZAWA, KITAZAWA, WARD, make_item
from tests.residents_helpers import frozen, serving, store

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
# The pages checked, as /accessibility lists them ({item}: an event with all six languages).
PUBLIC_PAGES = [
    "/",
    f"/areas/{WARD}",
    f"/areas/{DAIZAWA}",
    *(f"/items/{{item}}?lang={lang}" for lang in LANGUAGES),
    "/items/{alert}",
    "/items/{withdrawn}",
    "/no-such-page",
    "/accessibility",
    "/accessibility?lang=en",
]
ADMIN_PAGES = [
    "/admin/login",
    "/admin/items",
    "/admin/items/new",
    "/admin/items/{item}",
    "/admin/approvals",
    "/admin/emergency",
    "/admin/users",
    "/admin/screens",
    "/admin/audit",
]


def _content(rt: Any, now: datetime) -> dict[str, int]:
    words = {
        "ja": ("避難所運営訓練", "地域の皆さんと訓練を行います。\n上履きをお持ちください。"),
        "ja-x-easy": ("ひなんじょの くんれん", "くんれんを します。"),
        "en": ("Shelter drill", "A drill with the neighbourhood."),
        "zh-Hans": ("避难所运营演练", "与社区居民一起演练。"),
        "zh-Hant": ("避難所營運演練", "與社區居民一起演練。"),
        "ko": ("대피소 운영 훈련", "지역 주민과 함께 훈련합니다."),
    }
    item, alert, withdrawn, _ = store(
        rt,
        make_item(
            "避難所運営訓練",
            kind="event",
            category="disaster",
            translations=tuple(Translation(lang, *words[lang]) for lang in LANGUAGES),
            event_starts_at=now + timedelta(days=3),
            event_ends_at=now + timedelta(days=3, hours=2),
            place=Place("代沢小学校", "世田谷区代沢3-2-1", 35.6555, 139.674),
            detail_url="https://www.city.setagaya.lg.jp/",
        ),
        make_item(
            "【訓練】代沢地区に高齢者等避難",
            targets=(WARD,),
            kind="alert",
            priority="emergency",
            drill=True,
            alert=AlertInfo(cap_status="Exercise", warning_level=3),
        ),
        make_item("取り下げたお知らせ"),
        make_item("年末年始のごみ収集について", category="environment"),
    )
    with rt.session() as session:
        update_item(session, withdrawn, actor="test", action="withdraw", status="withdrawn")
    return {"item": item.id or 0, "alert": alert.id or 0, "withdrawn": withdrawn.id or 0}


def _check(page: Any, url: str, found: dict[str, list[dict[str, Any]]]) -> None:
    page.wait_for_load_state("load")
    violations = axe_violations(page)
    if violations:
        found[url] = violations


@pytest.mark.browser
def test_axe_finds_no_violation_on_public_and_admin_pages(rt, app, now, monkeypatch):
    from playwright.sync_api import sync_playwright

    ids = _content(rt, now)
    cheap_hashes(monkeypatch)
    make_user(rt, "demo-admin", "admin", WARD)
    make_user(rt, "kitazawa-approver", "approver", KITAZAWA)
    found: dict[str, list[dict[str, Any]]] = {}
    with serving(frozen(app, now)) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport=PHONE, locale="ja-JP")
            for url in PUBLIC_PAGES:
                page.goto(base + url.format(**ids))
                _check(page, url, found)
            staff = browser.new_page(viewport=TABLET, locale="ja-JP")
            staff.goto(base + "/admin/login")
            _check(staff, "/admin/login", found)
            staff.get_by_label("ユーザー名").fill("demo-admin")
            staff.get_by_label("パスワード").fill(PASSWORD)
            staff.get_by_role("button", name="ログイン").click()
            staff.wait_for_url("**/admin/items")
            for url in ADMIN_PAGES[1:]:
                staff.goto(base + url.format(**ids))
                _check(staff, url, found)
        finally:
            browser.close()
    report = "\n".join(f"{url}:\n{describe(v)}" for url, v in found.items())
    if os.environ.get("PUBLISHER_A11Y_RECORD"):
        _record(PUBLIC_PAGES + ADMIN_PAGES, sum(len(v) for v in found.values()))
    assert not found, f"axe {AXE_VERSION} found violations:\n{report}"


def test_the_accessibility_page_states_what_the_suite_checks():
    results = accessibility_results()
    assert results["axe_version"] == AXE_VERSION
    assert tuple(results["rules"]) == WCAG_TAGS
    assert results["standard"] == "JIS X 8341-3:2016 AA"
    assert results["pages"] == PUBLIC_PAGES + ADMIN_PAGES
    assert results["violations"] == 0


def _record(pages: list[str], violations: int) -> None:
    """Write this run's result into the data file /accessibility shows (by hand, on request)."""
    text = A11Y_RESULTS.read_text(encoding="utf-8")
    stamp = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    listed = "[\n" + "".join(f'  "{p}",\n' for p in pages) + "]"
    text = re.sub(r"(?m)^checked_at = .*$", f"checked_at = {stamp}", text)
    text = re.sub(r"(?m)^violations = .*$", f"violations = {violations}", text)
    text = re.sub(r"(?ms)^pages = \[.*?\]", f"pages = {listed}", text)
    A11Y_RESULTS.write_text(text, encoding="utf-8")
    accessibility_results.cache_clear()
