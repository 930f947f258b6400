"""What the fuzzed requests find in the store: an admin's API token, an editor logged in to the
admin (with the CSRF token its pages carry), a public item in Daizawa, a screen's token and a
resident's Web Push subscription. Both ``tests/test_api_fuzz.py`` and ``bench/api_fuzz.py`` build
one with :func:`make_world`; a request names these by the placeholders of :data:`PLACEHOLDERS`
(``/items/<ITEM>/poster.pdf``), replaced when it is sent."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from publisher.deliver.webpush import unsubscribe_token
from publisher.runtime import Runtime
from publisher.store import push, staff
from publisher.store.content import create_item
from publisher.store.screens import rotate_screen_token
from tests.factories import DAIZAWA, make_item

SCREEN = "daizawa-1"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/fuzz-resident"
AUTH = "c2VjcmV0LWF1dGgtMTY"
P256DH = "BPcMbnWQL5GOYX-ldnVjjDyd5NtrAHzKnHE4Eq6lYmBjGd2gi5VZ5iKNUTY8xPJ4_y8mKC4MN0uDwWQdtVAJ1GI"
EDITOR_PASSWORD = "fuzzing is fine, really"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    token: str  # an admin's bearer token
    editor: Any  # a test client logged in to the admin as a district editor
    csrf: str
    item_id: int
    draft_id: int  # the editor's own draft, which the form may change at will
    screen_token: str
    sub_id: int
    sub_token: str

    @property
    def placeholders(self) -> dict[str, str]:
        return {
            "<ITEM>": str(self.item_id),
            "<DRAFT>": str(self.draft_id),
            "<SCREEN>": SCREEN,
            "<SCREEN_TOKEN>": self.screen_token,
            "<SUB>": str(self.sub_id),
            "<SUB_TOKEN>": self.sub_token,
            "<ENDPOINT>": ENDPOINT,
            "<AUTH>": AUTH,
        }

    def fill(self, value: Any) -> Any:
        """``value`` with each placeholder replaced (in text, lists and objects)."""
        if value == "<ITEM#>":  # the item's id as a number (JSON)
            return self.item_id
        if isinstance(value, str):
            for name, real in self.placeholders.items():
                value = value.replace(name, real)
            return value
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        if isinstance(value, dict):
            return {self.fill(k): self.fill(v) for k, v in value.items()}
        return value


def make_world(rt: Runtime, app: Any, now: datetime) -> World:
    """Accounts, an item, a screen's token and a subscription; sign-ups never wait on the rate
    limit (its clock moves an hour per look), so the requests reach the checks behind it."""
    hours = itertools.count(0, 3600.0)
    app.config["PUBLISHER_RATE_CLOCK"] = lambda: next(hours)
    app.config["PUBLISHER_CLOCK"] = lambda: now
    with rt.session() as session:
        admin = staff.create_user(
            session, rt.tree, "fuzz-admin", "admin", "setagaya", EDITOR_PASSWORD, actor="fuzz"
        )
        token = staff.create_token(session, admin, actor="fuzz")
        staff.create_user(
            session, rt.tree, "fuzz-editor", "editor", DAIZAWA, EDITOR_PASSWORD, actor="fuzz"
        )
        item = create_item(session, make_item(), actor="fuzz")
        draft = create_item(session, make_item("下書き", status="draft"), actor="fuzz-editor")
        screen_token = rotate_screen_token(session, SCREEN, actor="fuzz")
        sub_id = push.subscribe(
            session,
            {
                "endpoint": ENDPOINT,
                "p256dh": P256DH,
                "auth": AUTH,
                "area_code": DAIZAWA,
                "lang": "en",
                "choice": "all",
            },
            now,
        )
    assert item.id is not None and draft.id is not None
    editor = app.test_client()
    login = editor.get("/admin/login").get_data(as_text=True)
    answer = editor.post(
        "/admin/login",
        data={"name": "fuzz-editor", "password": EDITOR_PASSWORD, "csrf_token": _csrf(login)},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    csrf = _csrf(editor.get("/admin/items").get_data(as_text=True))
    return World(
        token=token,
        editor=editor,
        csrf=csrf,
        item_id=item.id,
        draft_id=draft.id,
        screen_token=screen_token,
        sub_id=sub_id,
        sub_token=unsubscribe_token(rt.settings.secret_key(), sub_id, ENDPOINT),
    )


def _csrf(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "the page has no CSRF token"
    return m.group(1)
