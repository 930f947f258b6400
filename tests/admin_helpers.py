"""Driving the staff admin as a person would: through the login form, with the CSRF token the
page gave them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher

from publisher.runtime import Runtime
from publisher.store import staff

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_REVISION = re.compile(r'name="revision" value="(\d+)"')


def make_user(rt: Runtime, name: str, role: str, scope: str, password: str = PASSWORD) -> None:
    with rt.session() as session:
        staff.create_user(session, rt.tree, name, role, scope, password, actor="test")


def csrf_from(html: str) -> str:
    m = _TOKEN.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)


class Staff:
    """A test client logged in through ``/admin/login``."""

    def __init__(self, client: Any):
        self.client = client
        self.token = ""

    def login(self, name: str, password: str = PASSWORD) -> Any:
        page = self.client.get("/admin/login")
        r = self.client.post(
            "/admin/login",
            data={"name": name, "password": password, "csrf_token": csrf_from(page.text)},
        )
        if r.status_code == 302:
            self.token = csrf_from(self.client.get("/admin/items").text)
        return r

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        body = {"csrf_token": self.token, **(data or {})}
        return self.client.post(path, data=body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def edit(self, item_id: int, data: dict[str, Any]) -> Any:
        """Open the item's form and save ``data`` from it, as a person does: the post carries
        the revision the page was opened on."""
        page = self.get(f"/admin/items/{item_id}").text
        m = _REVISION.search(page)
        assert m, "the item form has no revision field"
        return self.post(f"/admin/items/{item_id}", {**data, "revision": m.group(1)})


def notice_form(**overrides: Any) -> dict[str, Any]:
    """The item form as a district editor fills it in."""
    data: dict[str, Any] = {
        "kind": "notice",
        "title.ja": "代沢地区 落ち葉清掃のお知らせ",
        "body.ja": "11月29日（日）午前9時から、代沢小学校周辺の落ち葉清掃を行います。",
        "title.en": "Fallen-leaf clean-up in Daizawa",
        "targets": ["setagaya/kitazawa/daizawa"],
        "starts_at": "2026-11-20T00:00",
        "ends_at": "2026-12-31T00:00",
        "category": "community",
        "priority": "normal",
        "intent": "submit",
    }
    data.update(overrides)
    return data


def created_id(response: Any) -> int:
    """The item id from the redirect after saving a new item."""
    assert response.status_code == 302, response.text[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost: the same code path, without a second per login."""
    monkeypatch.setattr(
        staff, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def staff_accounts(rt: Runtime, app: Any) -> Any:
    """Accounts at each tier; the result logs one in: ``login("daizawa-editor")``."""
    make_user(rt, "daizawa-editor", "editor", "setagaya/kitazawa/daizawa")
    make_user(rt, "umegaoka-editor", "editor", "setagaya/kitazawa/umegaoka")
    make_user(rt, "kitazawa-approver", "approver", "setagaya/kitazawa")
    make_user(rt, "kinuta-approver", "approver", "setagaya/kinuta")
    make_user(rt, "ward-admin", "admin", "setagaya")

    def login(name: str) -> Staff:
        s = Staff(app.test_client())
        assert s.login(name).status_code == 302
        return s

    return login
