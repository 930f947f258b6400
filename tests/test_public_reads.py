"""What is not published now stays unseen: embargoed items, withdrawn drafts, other areas' drafts.

Pages, feeds, QR codes and the API give one answer, 404, whether an id was never used, is a
draft or is embargoed; 410 only for an item that was once public.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from publisher.store import workflow
from publisher.store.staff import operator
from tests.factories import DAIZAWA, KITAZAWA, UMEGAOKA, WARD, api_item, make_item
from tests.residents_helpers import frozen, store


def bearer(token):  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def public(app, now):  # type: ignore[no-untyped-def]
    return frozen(app, now).test_client()


def test_an_item_opening_in_three_days_is_not_found_anywhere_anonymous(rt, public, now):
    (embargoed,) = store(rt, make_item("3日後に公開の人事", starts_at=now + timedelta(days=3)))
    for url in (
        f"/api/items/{embargoed.id}",
        f"/items/{embargoed.id}",
        f"/q/i{embargoed.id}",
        f"/qr/items/{embargoed.id}.png",
    ):
        r = public.get(url)
        assert r.status_code == 404, url
        assert "人事" not in r.get_data(as_text=True), url
        unused = public.get(url.replace(str(embargoed.id), "99999")).get_data(as_text=True)
        assert r.get_data(as_text=True).replace(f"item {embargoed.id}", "item N") == (
            unused.replace("item 99999", "item N")
        )
    future = (now + timedelta(days=4)).isoformat()
    r = public.get(f"/api/items?area={DAIZAWA}&at={future}")
    assert r.status_code == 401 and r.get_json()["field"] == "at"


def test_anonymous_callers_list_only_what_is_published_now(rt, public, now, token_for):
    """A past window is not public either: an item approved after its window, or one whose
    targets changed, was never public there; staff with a token may look back within scope."""
    ended, ward_ended, live = store(
        rt,
        make_item(
            "先週の代沢の会合", starts_at=now - timedelta(days=8), ends_at=now - timedelta(days=6)
        ),
        make_item(
            "先週の区の発表",
            targets=(WARD,),
            starts_at=now - timedelta(days=8),
            ends_at=now - timedelta(days=6),
        ),
        make_item("代沢の今日のお知らせ"),
    )
    last_week = (now - timedelta(days=7)).isoformat()
    r = public.get("/api/items", query_string={"area": DAIZAWA, "at": last_week})
    assert r.status_code == 401 and r.get_json()["field"] == "at"
    assert "先週" not in r.get_data(as_text=True)
    # a caller's clock a little off is read as now
    nearly_now = (now - timedelta(seconds=30)).isoformat()
    listed = public.get("/api/items", query_string={"area": DAIZAWA, "at": nearly_now})
    assert [i["id"] for i in listed.get_json()["items"]] == [live.id]
    assert [i["id"] for i in public.get(f"/api/items?area={DAIZAWA}").get_json()["items"]] == [
        live.id
    ]
    token = token_for("editor", DAIZAWA)
    looked_back = public.get(
        "/api/items", query_string={"area": DAIZAWA, "at": last_week}, headers=bearer(token)
    )
    assert [i["id"] for i in looked_back.get_json()["items"]] == [ended.id]


def test_staff_look_ahead_only_at_items_within_their_scope(rt, public, now, token_for):
    mine, ward_wide = store(
        rt,
        make_item("代沢の来週の行事", starts_at=now + timedelta(days=3)),
        make_item("区の来週の発表", targets=(WARD,), starts_at=now + timedelta(days=3)),
    )
    future = (now + timedelta(days=4)).isoformat()
    token = token_for("editor", DAIZAWA)
    listed = public.get(f"/api/items?area={DAIZAWA}&at={future}", headers=bearer(token))
    assert [i["id"] for i in listed.get_json()["items"]] == [mine.id]
    assert public.get(f"/api/items/{mine.id}", headers=bearer(token)).status_code == 200
    assert public.get(f"/api/items/{ward_wide.id}", headers=bearer(token)).status_code == 404


def test_a_withdrawn_draft_leaves_no_trace_a_withdrawn_notice_is_gone(rt, public, now):
    draft, live = store(
        rt,
        make_item("未公開の人事異動案", status="draft"),
        make_item("公開済みのお知らせ"),
    )
    with rt.session() as session:
        for item in (draft, live):
            workflow.transition(session, rt.tree, operator(rt.tree), item.id, "withdraw")
    for url in (f"/items/{draft.id}", f"/q/i{draft.id}", f"/qr/items/{draft.id}.png"):
        r = public.get(url)
        assert r.status_code == 404, url
        assert "人事" not in r.get_data(as_text=True)
    assert public.get(f"/api/items/{draft.id}").status_code == 404
    assert public.get(f"/items/{live.id}").status_code == 410
    assert public.get(f"/api/items/{live.id}").status_code == 410


@pytest.mark.parametrize("bad", ["99999999999999999999", "9223372036854775808", "2147483648"])
def test_ids_too_large_for_the_database_are_simply_not_found(public, bad):
    for url in (f"/items/{bad}", f"/api/items/{bad}", f"/q/i{bad}", f"/qr/items/{bad}.png"):
        assert public.get(url).status_code == 404, url


def test_the_api_lists_drafts_only_when_every_target_is_in_the_callers_scope(rt, client, token_for):
    with rt.session() as session:
        own = workflow.create(session, rt.tree, operator(rt.tree), api_item(status="draft"))
        shared = workflow.create(
            session,
            rt.tree,
            operator(rt.tree),
            api_item(status="draft", targets=[DAIZAWA, UMEGAOKA], title={"ja": "梅丘と共同の案"}),
        )
    token = token_for("editor", DAIZAWA)
    listed = client.get(f"/api/items?status=draft&area={DAIZAWA}", headers=bearer(token))
    assert [i["id"] for i in listed.get_json()["items"]] == [own.id]
    assert "梅丘と共同の案" not in listed.get_data(as_text=True)
    region = client.get(
        f"/api/items?status=draft&area={KITAZAWA}", headers=bearer(token_for("editor", KITAZAWA))
    )
    assert {i["id"] for i in region.get_json()["items"]} == {own.id, shared.id}


def test_public_pages_and_feeds_forbid_sniffing_and_foreign_code(rt, public):
    (item,) = store(rt, make_item())
    for url in ("/", f"/items/{item.id}", "/items/99999"):
        r = public.get(url)
        assert r.headers["X-Content-Type-Options"] == "nosniff", url
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp, url
    # an area page runs one script of ours (the notifications sign-up), nothing inline
    csp = public.get(f"/areas/{DAIZAWA}").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp
    for url in (f"/feeds/{DAIZAWA}.rss", f"/qr/items/{item.id}.png"):
        assert public.get(url).headers["X-Content-Type-Options"] == "nosniff", url
