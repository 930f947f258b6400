"""The player's HTTP side: what a lobby screen fetches, and what it is refused."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

import pytest
from sqlalchemy import select

from publisher.deliver import push
from publisher.store.models import HeartbeatRow, ScreenRow
from tests.factories import DAIZAWA, SEIJO, api_item, player_token


@pytest.fixture(autouse=True)
def _stop_push(rt):  # type: ignore[no-untyped-def]
    yield
    push.stop(rt)


def screen_token(rt: Any, screen_id: str = "daizawa-1") -> str:
    return player_token(rt, screen_id)


def post_item(client: Any, token: str, **overrides: Any) -> dict:
    resp = client.post(
        "/api/items",
        json=api_item(starts_at=None, ends_at=None, **overrides),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_screen_gets_its_playlist_with_slides_and_then_304_while_unchanged(rt, client, token_for):
    admin = token_for("admin", "setagaya")
    item = post_item(client, admin)
    token = screen_token(rt)
    resp = client.get(f"/api/screens/daizawa-1/playlist?token={token}")
    assert resp.status_code == 200
    data = resp.get_json()
    assert [(e["item_id"], e["lang"]) for e in data["entries"]] == [
        (item["id"], "ja"),
        (item["id"], "en"),
    ]
    assert resp.headers["ETag"] == f'"{data["version"]}"'
    slide = client.get(data["entries"][0]["slide"] + f"&token={token}")
    assert slide.status_code == 200
    assert slide.mimetype == "image/png"
    assert "immutable" in slide.headers["Cache-Control"]
    slide.close()
    again = client.get(
        f"/api/screens/daizawa-1/playlist?token={token}",
        headers={"If-None-Match": resp.headers["ETag"]},
    )
    assert again.status_code == 304
    assert again.data == b""


def test_playlist_etag_changes_when_an_item_for_the_screen_is_added(rt, client, token_for):
    admin = token_for("admin", "setagaya")
    token = screen_token(rt)
    first = client.get(f"/api/screens/daizawa-1/playlist?token={token}")
    post_item(client, admin)
    second = client.get(
        f"/api/screens/daizawa-1/playlist?token={token}",
        headers={"If-None-Match": first.headers["ETag"]},
    )
    assert second.status_code == 200
    assert second.headers["ETag"] != first.headers["ETag"]


@pytest.mark.parametrize(
    "path",
    [
        "/play/daizawa-1",
        "/api/screens/daizawa-1/playlist",
        "/api/screens/daizawa-1/events",
    ],
)
def test_a_wrong_or_missing_token_gets_403_and_no_data(rt, client, path):
    other = screen_token(rt, "seijo-1") if "seijo-1" in rt.tree.screens else "x" * 22
    for query in ("", "?token=wrong", f"?token={other}"):
        resp = client.get(path + query)
        assert resp.status_code == 403
        assert b"daizawa" not in resp.data.lower().replace(b"daizawa-1", b"")
        assert b"entries" not in resp.data
    resp = client.post("/api/screens/daizawa-1/heartbeat?token=wrong", json={})
    assert resp.status_code == 403


def test_slides_need_a_screen_token(rt, client, token_for):
    post_item(client, token_for("admin", "setagaya"))
    token = screen_token(rt)
    url = client.get(f"/api/screens/daizawa-1/playlist?token={token}").get_json()["entries"][0][
        "slide"
    ]
    for query in ("", "&token=wrong"):
        resp = client.get(url + query)
        assert resp.status_code == 403
        resp.close()


def test_unknown_screen_is_404(client):
    assert client.get("/api/screens/nowhere-9/playlist?token=x").status_code == 404
    assert client.get("/play/nowhere-9?token=x").status_code == 404


def test_the_kiosk_url_trades_its_token_for_a_cookie_and_leaves_the_address_bar(
    rt, client, token_for
):
    post_item(client, token_for("admin", "setagaya"))
    token = screen_token(rt)
    first = client.get(f"/play/daizawa-1?token={token}")
    assert first.status_code == 303 and first.headers["Location"] == "/play/daizawa-1"
    cookies = first.headers.getlist("Set-Cookie")
    paths = {c.split("Path=")[1].split(";")[0] for c in cookies}
    assert paths == {"/play/daizawa-1", "/api/screens/daizawa-1/", "/slides/", "/audio/"}
    for cookie in cookies:
        assert cookie.startswith(f"screen-daizawa-1={token};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/play/daizawa-1")  # the test client sends the cookie back
    assert page.status_code == 200 and token.encode() not in page.data
    # every later call works with the cookie alone, and no URL in the answers carries a token
    playlist = client.get("/api/screens/daizawa-1/playlist")
    assert playlist.status_code == 200 and "token" not in playlist.text
    slide = client.get(playlist.get_json()["entries"][0]["slide"])
    assert slide.status_code == 200 and slide.mimetype == "image/png"
    slide.close()
    beat = client.post("/api/screens/daizawa-1/heartbeat", json={"slide": "x"})
    assert beat.status_code == 200
    # the cookie belongs to its screen: another screen's API still wants its own token
    assert client.get("/api/screens/seijo-1/playlist").status_code == 403


def test_the_screen_cookie_is_secure_by_tls_or_an_https_address_never_by_a_clients_header(
    rt, client
):
    def cookie(**headers: str) -> str:
        resp = client.get(f"/play/daizawa-1?token={screen_token(rt)}", headers=headers)
        return resp.headers.getlist("Set-Cookie")[0]

    assert "Secure" in cookie()  # the ward's address (BASE_URL) is https
    rt.settings["BASE_URL"] = "http://127.0.0.1:8000"
    assert "Secure" not in cookie(**{"X-Forwarded-Proto": "https"})  # no proxy is trusted


def test_a_player_without_cookies_sends_its_token_in_a_header(rt, client):
    token = screen_token(rt)
    for headers in ({"X-Screen-Token": token}, {"Authorization": f"Bearer {token}"}):
        assert client.get("/api/screens/daizawa-1/playlist", headers=headers).status_code == 200
    assert client.get("/api/screens/daizawa-1/playlist").status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.get("/api/screens/daizawa-1/playlist", headers=wrong).status_code == 403


def test_a_wrong_cookie_gets_no_page(rt, client):
    screen_token(rt)
    client.set_cookie("screen-daizawa-1", "guess", path="/play/daizawa-1")
    assert client.get("/play/daizawa-1").status_code == 403
    assert client.get("/play/daizawa-1?token=guess").status_code == 403


def test_player_page_carries_a_content_security_policy(rt, client):
    resp = client.get(f"/play/daizawa-1?token={screen_token(rt)}", follow_redirects=True)
    assert resp.status_code == 200
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert b'data-screen="daizawa-1"' in resp.data
    assert "代沢".encode() in resp.data  # the location overlay


def test_heartbeat_is_stored_as_proof_of_play(rt, client, token_for):
    item = post_item(client, token_for("admin", "setagaya"))
    token = screen_token(rt)
    resp = client.post(
        f"/api/screens/daizawa-1/heartbeat?token={token}",
        json={"item_id": item["id"], "slide": "abc123", "version": "v1"},
    )
    assert resp.status_code == 200
    with rt.session() as session:
        beats = session.scalars(select(HeartbeatRow)).all()
        row = session.get(ScreenRow, "daizawa-1")
        assert [(b.screen_id, b.item_id, b.slide, b.version) for b in beats] == [
            ("daizawa-1", item["id"], "abc123", "v1")
        ]
        assert row.last_item_id == item["id"]
        assert row.version_on_screen == "v1"
        assert row.last_heartbeat_at is not None


def test_heartbeat_rejects_nonsense_with_a_reason(rt, client):
    resp = client.post(
        f"/api/screens/daizawa-1/heartbeat?token={screen_token(rt)}", json={"item_id": "seven"}
    )
    assert resp.status_code == 400
    assert resp.get_json()["field"] == "item_id"


class EventReader:
    """Reads an SSE response in a thread (keep-alives every 0.1 s let it stop promptly)."""

    def __init__(self, response: Any):
        self.response = response
        self.events: queue.Queue = queue.Queue()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        buffer = ""
        try:
            for chunk in self.response.response:
                buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    self.events.put(block)
                if self.stopping.is_set():
                    break
        finally:
            self.response.close()

    def get(self, timeout: float = 10.0) -> str:
        return self.events.get(timeout=timeout)

    def next_playlist_event(self, timeout: float = 10.0) -> str:
        while True:
            block = self.get(timeout)
            if block.startswith("event: playlist"):
                return block

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


def test_push_reaches_the_screen_for_its_area_and_not_for_another_district(
    rt, app, client, token_for
):
    """A Seijo notice stays silent on a Daizawa screen; a Daizawa one is pushed at once."""
    app.config["PLAYER_SSE_HEARTBEAT_S"] = 0.1
    admin = token_for("admin", "setagaya")
    token = screen_token(rt)
    stream = client.get(f"/api/screens/daizawa-1/events?token={token}", buffered=False)
    assert stream.status_code == 200
    assert stream.mimetype == "text/event-stream"
    events = EventReader(stream)
    assert events.get().startswith("retry:")  # hello, with the current version

    post_item(client, admin, targets=[SEIJO])
    # Let the hub finish with the Seijo change: several keep-alives and no playlist event.
    seen = [events.get() for _ in range(5)]
    assert not any(b.startswith("event: playlist") for b in seen), seen

    item = post_item(client, admin, targets=[DAIZAWA])
    block = events.next_playlist_event()
    version = client.get(f"/api/screens/daizawa-1/playlist?token={token}").get_json()["version"]
    assert f'"version": "{version}"' in block
    playlist = client.get(f"/api/screens/daizawa-1/playlist?token={token}").get_json()
    assert {e["item_id"] for e in playlist["entries"]} == {item["id"]}
    events.stop()


def test_approving_an_emergency_pushes_an_override(rt, app, client, token_for):
    app.config["PLAYER_SSE_HEARTBEAT_S"] = 0.1
    admin = token_for("admin", "setagaya")
    token = screen_token(rt)
    draft = post_item(
        client,
        admin,
        kind="alert",
        priority="emergency",
        targets=["setagaya"],
        title={"ja": "【緊急】世田谷区全域に避難指示"},
        status="draft",
    )
    stream = client.get(f"/api/screens/daizawa-1/events?token={token}", buffered=False)
    events = EventReader(stream)
    events.get()
    resp = client.post(
        f"/api/items/{draft['id']}/approve", headers={"Authorization": f"Bearer {admin}"}
    )
    assert resp.status_code == 200
    assert '"override": true' in events.next_playlist_event()
    events.stop()


def test_a_change_seen_by_ten_thousand_screens_fits_in_notify_payloads_each_named_once():
    """PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more: the screen ids are split,
    none lost, none twice, whatever their names (escaped non-ASCII counts as sent)."""
    screens = [f"screen-{i:05d}" for i in range(10_000)] + [f"世田谷-{i}" for i in range(300)]
    out = push.payloads(range(80), screens)
    assert all(len(p.encode()) <= push.NOTIFY_MAX_BYTES for p in out)
    assert sorted(s for p in out for s in json.loads(p)["screens"]) == sorted(screens)
    assert all(json.loads(p)["items"] == list(range(50)) for p in out)
    assert len(out) <= 1 + sum(len(json.dumps(s)) + 2 for s in screens) // (
        push.NOTIFY_MAX_BYTES - 400
    )  # full payloads, not one per screen
