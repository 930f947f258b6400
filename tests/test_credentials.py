"""Credentials can be taken back: disabled accounts, revoked tokens, rotated screen tokens,
logouts that end every copy of a session, password rules, and throttling nobody can abuse to
keep a staff member out."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner

from publisher.cli.main import cli
from publisher.errors import PublisherError
from publisher.store import staff
from tests.admin_helpers import PASSWORD, Staff, cheap_hashes, make_user
from tests.factories import DAIZAWA, JST, player_token

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=JST)


@pytest.fixture
def run(rt, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)

    def invoke(*args, input=None):  # type: ignore[no-untyped-def]
        result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.output

    return invoke


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_disabled_user_loses_tokens_and_sessions_at_once(run, rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    code, token = run("tokens", "create", "daizawa-editor")
    token = token.strip().splitlines()[-1]
    desk = Staff(app.test_client())
    assert desk.login("daizawa-editor").status_code == 302
    client = app.test_client()
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 200
    code, out = run("users", "disable", "daizawa-editor")
    assert code == 0, out
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 401
    assert desk.get("/admin/items").status_code == 302  # back to the login page
    assert desk.login("daizawa-editor").status_code == 401
    code, out = run("users", "list")
    assert "DISABLED" in out
    run("users", "enable", "daizawa-editor")
    assert desk.login("daizawa-editor").status_code == 302


def test_a_revoked_token_stops_working_and_the_list_shows_it(run, rt, client):
    make_user(rt, "kitazawa-approver", "approver", "setagaya/kitazawa")
    token = run("tokens", "create", "kitazawa-approver")[1].strip().splitlines()[-1]
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 200
    code, listed = run("tokens", "list", "kitazawa-approver")
    token_id = listed.split()[0]
    assert "active" in listed and token not in listed
    code, out = run("tokens", "revoke", token_id)
    assert code == 0, out
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 401
    assert "revoked" in run("tokens", "list")[1]
    code, out = run("tokens", "revoke", "999999999999")
    assert code == 1 and "no API token" in out


def test_a_rotated_screen_token_locks_out_the_old_player_url(run, rt, client):
    old = player_token(rt)
    assert client.get(f"/play/daizawa-1?token={old}").status_code == 303
    code, out = run("screens", "rotate-token", "daizawa-1")
    assert code == 0, out
    new_url = out.strip().splitlines()[-1]
    assert client.get(f"/play/daizawa-1?token={old}").status_code == 403
    new = new_url.split("token=")[1]
    assert new != old and client.get(f"/play/daizawa-1?token={new}").status_code == 303
    assert run("screens", "rotate-token", "daizawa-99")[0] == 1


def test_logout_ends_every_copy_of_the_session(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    desk = Staff(app.test_client())
    desk.login("daizawa-editor")
    cookie = desk.client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    assert thief.get("/admin/items").status_code == 200
    desk.post("/admin/logout")
    assert thief.get("/admin/items").status_code == 302


def test_a_password_change_ends_sessions_and_follows_the_rules(run, rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    desk = Staff(app.test_client())
    desk.login("daizawa-editor")
    for weak, why in (
        ("daizawa-editor", "user name"),
        ("Daizawa-Editor-2026", "user name"),
        ("password123", "first a guesser tries"),
        ("aaaaaaaaaaaa", "first a guesser tries"),
        ("short", "at least 10"),
    ):
        code, out = run("users", "password", "daizawa-editor", "--password-stdin", input=weak)
        assert code == 1 and why in out, (weak, out)
    code, out = run(
        "users", "password", "daizawa-editor", "--password-stdin", input="new kettle on the hob"
    )
    assert code == 0, out
    assert desk.get("/admin/items").status_code == 302
    assert desk.login("daizawa-editor", "new kettle on the hob").status_code == 302


def test_a_user_named_like_their_password_cannot_be_created(rt):
    with rt.session() as session, pytest.raises(PublisherError, match="user name"):
        staff.create_user(
            session, rt.tree, "suzuki-hanako", "editor", DAIZAWA, "suzuki-hanako", actor="t"
        )


def test_guessing_slows_an_account_but_never_locks_its_owner_out(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    clock = {"now": NOW}
    app.config["PUBLISHER_CLOCK"] = lambda: clock["now"]

    def attempt(password: str, address: str) -> int:
        desk = Staff(app.test_client())
        desk.client.environ_base["REMOTE_ADDR"] = address
        return int(desk.login("daizawa-editor", password).status_code)

    # attackers from many addresses keep guessing, one guess each 30 s, for an hour
    for i in range(120):
        assert attempt(f"guess number {i}", f"203.0.113.{i % 200}") in (401, 429)
        clock["now"] += timedelta(seconds=30)
    # the owner gets in within a minute of the last guess
    clock["now"] += timedelta(seconds=61)
    assert attempt(PASSWORD, "198.51.100.7") == 302


def test_one_address_guessing_many_accounts_is_throttled_first(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    app.config["PUBLISHER_CLOCK"] = lambda: NOW
    codes = []
    for i in range(25):
        desk = Staff(app.test_client())
        desk.client.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        codes.append(desk.login(f"someone-{i}", "wrong password here").status_code)
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    owner = Staff(app.test_client())
    owner.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert owner.login("daizawa-editor").status_code == 302


def test_a_login_next_with_a_line_break_goes_to_the_item_list(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    make_user(rt, "daizawa-editor", "editor", DAIZAWA)
    desk = Staff(app.test_client())
    page = desk.client.get("/admin/login?next=/admin/items%0d%0aSet-Cookie:%20x=1")
    assert page.status_code == 200
    from tests.admin_helpers import csrf_from

    r = desk.client.post(
        "/admin/login",
        data={
            "name": "daizawa-editor",
            "password": PASSWORD,
            "next": "/admin/items\r\nSet-Cookie: x=1",
            "csrf_token": csrf_from(page.text),
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/admin/items"
    assert "x=1" not in r.headers.get("Set-Cookie", "")


def test_the_access_log_never_carries_a_screen_token():
    from publisher.web.http11 import Request, access_line

    request = Request(
        "GET",
        "/play/daizawa-1?token=SECRET",
        "HTTP/1.1",
        {"referer": "https://signage.example.jp/play/daizawa-1?token=SECRET"},
        ("127.0.0.1", 50000),
    )
    line = access_line(request, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert '"GET /play/daizawa-1 HTTP/1.1" 200' in line and "SECRET" not in line


def test_an_admin_disables_resets_and_revokes_within_scope_in_the_admin(rt, app, monkeypatch):
    cheap_hashes(monkeypatch)
    from tests.admin_helpers import staff_accounts

    login = staff_accounts(rt, app)
    make_user(rt, "kitazawa-admin", "admin", "setagaya/kitazawa")
    with rt.session() as session:
        editor = staff.user_by_name(session, "daizawa-editor")
        token = staff.create_token(session, editor, label="signage script", actor="test")
    editor_desk = login("daizawa-editor")
    admin = Staff(app.test_client())
    admin.login("kitazawa-admin")
    page = admin.get("/admin/users").text
    assert "signage script" in page and "kinuta-approver" not in page
    assert admin.post("/admin/users/daizawa-editor/disable").status_code == 302
    assert editor_desk.get("/admin/items").status_code == 302
    client = app.test_client()
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 401
    assert admin.post("/admin/users/daizawa-editor/enable").status_code == 302
    weak = admin.post("/admin/users/daizawa-editor/password", {"password": "password123"})
    assert weak.status_code == 400
    reset = admin.post("/admin/users/daizawa-editor/password", {"password": "a fresh kettle"})
    assert reset.status_code == 302
    assert Staff(app.test_client()).login("daizawa-editor", "a fresh kettle").status_code == 302
    with rt.session() as session:
        ((row, _),) = staff.list_tokens(session, staff.user_by_name(session, "daizawa-editor"))
    assert admin.post(f"/admin/tokens/{row.id}/revoke").status_code == 302
    assert client.get("/api/items?status=draft", headers=bearer(token)).status_code == 401
    # outside the admin's scope: the ward's own accounts and the admin itself
    assert admin.post("/admin/users/kinuta-approver/disable").status_code == 403
    assert admin.post("/admin/users/ward-admin/password", {"password": "x" * 12}).status_code == 403
    assert admin.post("/admin/users/kitazawa-admin/disable").status_code == 403


def test_an_admin_rotates_a_screens_token_from_the_screens_page(rt, app, client, monkeypatch):
    cheap_hashes(monkeypatch)
    from tests.admin_helpers import staff_accounts

    login = staff_accounts(rt, app)
    old = player_token(rt)
    admin = login("ward-admin")
    answer = admin.post("/admin/screens/daizawa-1/rotate-token")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert client.get(f"/play/daizawa-1?token={old}").status_code == 403
    # the new URL is shown in this one answer, and works; the store cannot show it again
    new_url = re.search(r"https://signage\.example\.jp/play/daizawa-1\?token=([\w-]+)", answer.text)
    assert new_url is not None
    assert client.get(f"/play/daizawa-1?token={new_url[1]}").status_code == 303
    assert new_url[1] not in admin.get("/admin/screens").text
    assert (
        login("kitazawa-approver").post("/admin/screens/daizawa-1/rotate-token").status_code == 403
    )
