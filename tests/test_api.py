"""The machine API: what a token may do, where, and the errors a caller gets."""

import pytest

from tests.factories import DAIZAWA, KITAZAWA, SEIJO, UMEGAOKA, WARD, api_item
from tests.residents_helpers import frozen


@pytest.fixture
def client(app, now):  # type: ignore[no-untyped-def]
    """The API as seen on the tests' frozen Sunday morning (what is live depends on it)."""
    return frozen(app, now).test_client()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_areas_lists_the_tree(client):
    tree = client.get("/api/areas").get_json()
    assert tree["display_name"] == "世田谷区"
    assert sum(len(r["children"]) for r in tree["children"]) == 28


def test_an_approvers_item_is_published_at_once_and_seen_below_it(client, token_for):
    token = token_for("approver", KITAZAWA)
    r = client.post("/api/items", json=api_item(targets=[KITAZAWA]), headers=bearer(token))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["status"] == "approved"
    listed = client.get(
        f"/api/items?area={DAIZAWA}&at=2026-11-21T12:00:00+09:00", headers=bearer(token)
    ).get_json()
    assert [i["id"] for i in listed["items"]] == [r.get_json()["id"]]
    assert (
        client.get(
            f"/api/items?area={SEIJO}&at=2026-11-21T12:00:00+09:00", headers=bearer(token)
        ).get_json()["items"]
        == []
    )


def test_an_editors_item_is_a_draft_and_not_public(client, token_for):
    token = token_for("editor", DAIZAWA)
    r = client.post("/api/items", json=api_item(), headers=bearer(token))
    assert r.status_code == 201 and r.get_json()["status"] == "draft"
    item_id = r.get_json()["id"]
    assert client.get(f"/api/items/{item_id}").status_code == 404
    assert client.get(f"/api/items/{item_id}", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "role, scope, targets, status",
    [
        ("editor", DAIZAWA, [DAIZAWA], 201),
        ("editor", DAIZAWA, [WARD], 403),
        ("editor", DAIZAWA, [KITAZAWA], 403),
        ("editor", DAIZAWA, [UMEGAOKA], 403),
        ("approver", KITAZAWA, [DAIZAWA, UMEGAOKA], 201),
        ("approver", KITAZAWA, [SEIJO], 403),
        ("admin", WARD, [SEIJO, DAIZAWA], 201),
    ],
)
def test_nobody_writes_outside_their_scope(client, token_for, role, scope, targets, status):
    r = client.post(
        "/api/items", json=api_item(targets=targets), headers=bearer(token_for(role, scope))
    )
    assert r.status_code == status, r.get_json()


def test_an_editor_submits_and_a_region_approver_approves(client, token_for):
    editor, approver = token_for("editor", DAIZAWA), token_for("approver", KITAZAWA)
    item_id = client.post("/api/items", json=api_item(), headers=bearer(editor)).get_json()["id"]
    assert client.post(f"/api/items/{item_id}/approve", headers=bearer(editor)).status_code == 403
    assert (
        client.post(f"/api/items/{item_id}/submit", headers=bearer(editor)).get_json()["status"]
        == "pending"
    )
    other = token_for("approver", "setagaya/kinuta")
    assert client.post(f"/api/items/{item_id}/approve", headers=bearer(other)).status_code == 403
    r = client.post(f"/api/items/{item_id}/approve", headers=bearer(approver))
    assert r.get_json()["status"] == "approved"
    assert client.get(f"/api/items/{item_id}").status_code == 200


def test_an_editors_edit_of_a_live_item_sends_it_back_to_draft(client, token_for):
    approver, editor = token_for("approver", KITAZAWA), token_for("editor", DAIZAWA)
    item_id = client.post("/api/items", json=api_item(), headers=bearer(approver)).get_json()["id"]
    r = client.patch(
        f"/api/items/{item_id}",
        json={"title": {"ja": "題名を修正"}},
        headers={**bearer(editor), "If-Match": '"1"'},
    )
    assert r.get_json()["status"] == "draft" and r.get_json()["revision"] == 2
    r = client.patch(
        f"/api/items/{item_id}",
        json={"targets": [WARD], "revision": 2},
        headers=bearer(editor),
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),
        ({"Authorization": "Bearer pub_not-a-real-token"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_a_missing_or_bad_token_is_refused(client, headers, status):
    r = client.post("/api/items", json=api_item(), headers=headers)
    assert r.status_code == status
    assert "error" in r.get_json()


def test_bad_input_gets_a_json_error_naming_the_field(client, token_for):
    token = token_for("admin", WARD)
    r = client.post("/api/items", json=api_item(title={"en": "x"}), headers=bearer(token))
    assert r.status_code == 400
    assert r.get_json()["field"] == "title.ja"
    r = client.post("/api/items", data="not json", headers=bearer(token))
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
    assert client.get("/api/items?area=setagaya/nowhere").status_code == 404
    assert client.get("/api/items/99999").status_code == 404
