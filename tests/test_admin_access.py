"""Who may do what where in the staff admin, tried through HTTP as staff would."""

from __future__ import annotations

import re

import pytest

from publisher.store.content import get_item
from tests.admin_helpers import (
    PASSWORD,
    Staff,
    cheap_hashes,
    created_id,
    notice_form,
    staff_accounts,
)
from tests.factories import DAIZAWA, KITAZAWA, SEIJO, UMEGAOKA, WARD


@pytest.fixture
def staff(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    return staff_accounts(rt, app)


def status_of(rt, item_id):
    with rt.session() as session:
        return get_item(session, item_id).status


def test_admin_pages_need_a_login(client):
    r = client.get("/admin/items")
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]


def test_login_sets_a_secure_httponly_lax_cookie_and_logout_ends_it(app, staff):
    s = Staff(app.test_client())
    r = s.login("daizawa-editor")
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "daizawa-editor" in s.get("/admin/items").text
    assert s.post("/admin/logout").status_code == 302
    assert s.get("/admin/items").status_code == 302


def test_a_form_posted_without_its_csrf_token_is_refused(staff, rt):
    s = staff("daizawa-editor")
    r = s.client.post("/admin/items/new", data=notice_form())
    assert r.status_code == 400
    assert s.get("/admin/items").text.count("落ち葉清掃") == 0
    assert s.client.post("/admin/logout").status_code == 400
    assert s.get("/admin/items").status_code == 200  # still logged in
    bare = s.client.post("/admin/login", data={"name": "daizawa-editor", "password": PASSWORD})
    assert bare.status_code == 400


def test_the_api_and_players_need_no_csrf_token(client):
    assert client.post("/api/items", json={}).status_code == 401  # bearer check, not CSRF


@pytest.mark.parametrize("target", [WARD, KITAZAWA, UMEGAOKA])
def test_a_district_editor_cannot_target_the_ward_its_region_or_another_district(staff, rt, target):
    s = staff("daizawa-editor")
    r = s.post("/admin/items/new", notice_form(targets=[target]))
    assert r.status_code == 403
    assert 'id="err-f-targets"' in r.text  # the error sits by the target picker
    assert s.get("/admin/items?status=all").text.count("落ち葉清掃") == 0


def test_the_target_picker_offers_only_the_editors_own_district(staff):
    page = staff("daizawa-editor").get("/admin/items/new").text
    assert re.findall(r'name="targets" value="([^"]+)"', page) == [DAIZAWA]


def test_a_district_editor_submits_but_cannot_approve(staff, rt):
    s = staff("daizawa-editor")
    item_id = created_id(s.post("/admin/items/new", notice_form()))
    assert status_of(rt, item_id) == "pending"
    assert s.post(f"/admin/items/{item_id}/approve").status_code == 403
    assert s.get("/admin/approvals").status_code == 403
    assert s.get("/admin/emergency").status_code == 403
    assert status_of(rt, item_id) == "pending"


def test_a_region_approver_approves_its_districts_items_and_no_others(staff, rt):
    daizawa = created_id(staff("daizawa-editor").post("/admin/items/new", notice_form()))
    seijo = created_id(
        staff("kinuta-approver").post("/admin/items/new", notice_form(targets=[SEIJO]))
    )
    assert status_of(rt, seijo) == "pending"
    approver = staff("kitazawa-approver")
    queue = approver.get("/admin/approvals").text
    assert "落ち葉清掃" in queue and f"/admin/items/{seijo}" not in queue
    r = approver.post(f"/admin/items/{daizawa}/approve", {"back": "approvals"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/admin/approvals")
    assert status_of(rt, daizawa) == "approved"
    assert approver.post(f"/admin/items/{seijo}/approve").status_code == 403
    assert status_of(rt, seijo) == "pending"


@pytest.mark.parametrize("action", ["submit", "approve", "return", "withdraw"])
def test_nobody_acts_on_a_foreign_item_by_posting_its_id(staff, rt, action):
    item_id = created_id(staff("daizawa-editor").post("/admin/items/new", notice_form()))
    for name in ("umegaoka-editor", "kinuta-approver"):
        s = staff(name)
        assert s.post(f"/admin/items/{item_id}/{action}", {"comment": "x"}).status_code in (
            403,
            404,
        )
        assert s.get(f"/admin/items/{item_id}").status_code == 404
        r = s.post(
            f"/admin/items/{item_id}",
            notice_form(targets=[UMEGAOKA], intent="save", revision="1"),
        )
        assert r.status_code == 404
        assert s.get(f"/admin/items/{item_id}/slide-landscape.png").status_code == 404
    assert status_of(rt, item_id) == "pending"


def test_an_editor_cannot_move_their_item_out_of_scope_by_editing_the_form(staff, rt):
    s = staff("daizawa-editor")
    item_id = created_id(s.post("/admin/items/new", notice_form(intent="draft")))
    r = s.edit(item_id, notice_form(targets=[DAIZAWA, UMEGAOKA], intent="save"))
    assert r.status_code == 403
    with rt.session() as session:
        assert get_item(session, item_id).targets == (DAIZAWA,)


def test_an_approver_returns_an_item_only_with_a_reason(staff, rt):
    item_id = created_id(staff("daizawa-editor").post("/admin/items/new", notice_form()))
    approver = staff("kitazawa-approver")
    r = approver.post(f"/admin/items/{item_id}/return", {"comment": " "})
    assert r.status_code == 400 and 'id="err-f-comment"' in r.text
    assert (
        approver.post(f"/admin/items/{item_id}/return", {"comment": "日付を確認"}).status_code
        == 302
    )
    assert status_of(rt, item_id) == "draft"
    assert "日付を確認" in staff("daizawa-editor").get(f"/admin/items/{item_id}").text


def test_an_editors_change_to_a_live_item_goes_back_for_review(staff, rt):
    item_id = created_id(staff("daizawa-editor").post("/admin/items/new", notice_form()))
    staff("kitazawa-approver").post(f"/admin/items/{item_id}/approve")
    editor = staff("daizawa-editor")
    r = editor.edit(item_id, notice_form(**{"title.ja": "落ち葉清掃（雨天中止）"}, intent="save"))
    assert r.status_code == 302
    assert status_of(rt, item_id) == "draft"


def test_scheduled_items_show_when_they_go_live(staff, rt, app, now):
    app.config["PUBLISHER_CLOCK"] = lambda: now
    s = staff("kitazawa-approver")
    created_id(
        s.post("/admin/items/new", notice_form(starts_at="2026-11-25T09:00", intent="publish"))
    )
    assert "公開予定 11/25 09:00" in s.get("/admin/items").text


def test_list_filters_by_search_and_date(staff):
    s = staff("daizawa-editor")
    created_id(s.post("/admin/items/new", notice_form()))
    created_id(
        s.post(
            "/admin/items/new",
            notice_form(
                **{"title.ja": "防災訓練のお知らせ"},
                starts_at="2027-01-10T00:00",
                ends_at="2027-01-20T00:00",
            ),
        )
    )
    assert "防災訓練" in s.get("/admin/items?q=防災").text
    assert "落ち葉清掃" not in s.get("/admin/items?q=防災").text
    on_day = s.get("/admin/items?date=2026-12-01").text
    assert "落ち葉清掃" in on_day and "防災訓練" not in on_day


def test_admin_pages_carry_a_csp_and_no_inline_script(staff):
    s = staff("daizawa-editor")
    for path in ("/admin/items", "/admin/items/new", "/admin/screens", "/admin/audit"):
        r = s.get(path)
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", r.text) == []
        assert " on" not in re.sub(
            r'"[^"]*"', "", " ".join(re.findall(r"<[a-z][^>]*>", r.text))
        ).replace(" only", "")


def test_player_tokens_are_shown_to_admins_only(staff, rt):
    # a token is shown once, to the admin who rotates it; the listing never carries one
    assert "?token=" not in staff("ward-admin").get("/admin/screens").text
    rotated = staff("ward-admin").post("/admin/screens/daizawa-1/rotate-token")
    assert "/play/daizawa-1?token=" in rotated.text
    assert (
        staff("kitazawa-approver").post("/admin/screens/daizawa-1/rotate-token").status_code == 403
    )


def test_users_page_creates_accounts_only_within_the_admins_scope(staff, rt):
    admin = staff("ward-admin")
    r = admin.post(
        "/admin/users",
        {"name": "seijo-editor", "role": "editor", "scope": SEIJO, "password": PASSWORD},
    )
    assert r.status_code == 302
    assert staff("seijo-editor").get("/admin/items").status_code == 200
    assert staff("kitazawa-approver").get("/admin/users").status_code == 403


def test_a_missing_japanese_title_is_reported_next_to_that_field(staff):
    r = staff("daizawa-editor").post("/admin/items/new", notice_form(**{"title.ja": ""}))
    assert r.status_code == 400
    assert 'id="err-f-title-ja"' in r.text
    assert 'aria-describedby="err-f-title-ja"' in r.text
    assert "Fallen-leaf clean-up in Daizawa" in r.text  # the other languages are kept
