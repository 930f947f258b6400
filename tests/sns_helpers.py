"""A local stand-in for X, Mastodon, Bluesky and LINE: the endpoints our adapters use.

One ``http.server`` on a free loopback port, in a thread. It behaves as the networks do where
exactly-once depends on it: Mastodon answers a repeated ``Idempotency-Key`` with the status it
already made, LINE answers a repeated ``X-Line-Retry-Key`` with 409, a Bluesky PDS refuses an
existing record key, and X's timeline shows links as t.co with the originals in entities.

``server.fail_next.append((status, headers, body))`` makes the next request fail that way.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TOKEN = "sekrit-token-123"
DID = "did:plc:setagayatest"


class StandIn(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.posts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deleted: dict[str, list[str]] = defaultdict(list)
        self.requests: list[tuple[str, str]] = []
        self.fail_next: list[tuple[int, dict[str, str], str]] = []
        self.mastodon_keys: dict[str, dict[str, Any]] = {}
        self.line_keys: dict[str, str] = {}
        self.bluesky_records: dict[str, dict[str, Any]] = {}
        self.media: dict[str, list[dict[str, Any]]] = defaultdict(list)  # uploaded pictures

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def live(self, network: str) -> list[dict[str, Any]]:
        """Posts still up on that network."""
        return [p for p in self.posts[network] if p["id"] not in self.deleted[network]]


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data if data is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> Any:
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        kind = self.headers.get("Content-Type") or ""
        if kind.startswith(("multipart/", "image/")):
            return {"_raw": raw, "_type": kind}
        if "json" in kind:
            return json.loads(raw)
        return {k: v[0] for k, v in parse_qs(raw.decode()).items()}

    def _handle(self, method: str) -> None:
        s = self.server
        url = urlparse(self.path)
        body = self._body() if method in ("POST", "PUT") else {}
        with s.lock:
            s.requests.append((method, url.path))
            if s.fail_next:
                status, headers, text = s.fail_next.pop(0)
                raw = text.encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
                return
            if url.path != "/xrpc/com.atproto.server.createSession":
                auth = self.headers.get("Authorization", "")
                if not auth.endswith(TOKEN) and not auth.endswith("jwt-access"):
                    return self._answer(401, {"error": "The access token is invalid"})
            self._route(method, url.path, parse_qs(url.query), body)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # -- the networks ----------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        s = self.server
        # X v2
        if method == "POST" and path == "/2/media/upload":
            mid = str(1_900_000_000_000 + len(s.media["x"]))
            s.media["x"].append({"id": mid, **_picture(body), "alt": None})
            return self._answer(200, {"data": {"id": mid, "media_key": f"3_{mid}"}})
        if method == "POST" and path == "/2/media/metadata":
            for m in s.media["x"]:
                if m["id"] == body["id"]:
                    m["alt"] = body["metadata"]["alt_text"]["text"]
            return self._answer(200, {"data": {"id": body["id"]}})
        if method == "POST" and path == "/2/tweets":
            tid = str(1_800_000_000_000 + len(s.posts["x"]))
            s.posts["x"].append(
                {
                    "id": tid,
                    "text": body["text"],
                    "media_ids": body.get("media", {}).get("media_ids", []),
                }
            )
            return self._answer(201, {"data": {"id": tid, "text": body["text"]}})
        if method == "DELETE" and path.startswith("/2/tweets/"):
            tid = path.rsplit("/", 1)[-1]
            if tid not in {p["id"] for p in s.live("x")}:
                return self._answer(404, {"title": "Not Found Error"})
            s.deleted["x"].append(tid)
            return self._answer(200, {"data": {"deleted": True}})
        if path == "/2/users/me":
            return self._answer(200, {"data": {"id": "42", "username": "setagaya_koho"}})
        if path == "/2/users/42/tweets":
            return self._answer(200, {"data": [_as_x_shows(p) for p in s.live("x")[::-1]]})
        # Mastodon
        if method == "POST" and path in ("/api/v1/media", "/api/v2/media"):
            mid = str(120_000 + len(s.media["mastodon"]))
            raw = body.get("_raw", b"")
            said = re.search(rb'name="description"\r\n\r\n(.*?)\r\n', raw, re.S)
            description = said.group(1).decode() if said else None
            s.media["mastodon"].append({"id": mid, **_picture(body), "alt": description})
            return self._answer(
                200,
                {"id": mid, "type": "image", "url": f"{s.url}/m/{mid}", "description": description},
            )
        if method == "POST" and path == "/api/v1/statuses":
            key = self.headers.get("Idempotency-Key")
            if key and key in s.mastodon_keys:
                return self._answer(200, s.mastodon_keys[key])
            status = {
                "id": str(110_000 + len(s.posts["mastodon"])),
                "content": f"<p>{body['status']}</p>",
                "text": body["status"],
                "created_at": "2026-11-22T01:00:00.000Z",
                "visibility": body.get("visibility", "public"),
                "media_ids": _as_list(body.get("media_ids", body.get("media_ids[]"))),
            }
            s.posts["mastodon"].append(status)
            if key:
                s.mastodon_keys[key] = status
            return self._answer(200, status)
        if method == "DELETE" and path.startswith("/api/v1/statuses/"):
            sid = path.rsplit("/", 1)[-1]
            if sid not in {p["id"] for p in s.live("mastodon")}:
                return self._answer(404, {"error": "Record not found"})
            s.deleted["mastodon"].append(sid)
            return self._answer(200, {"id": sid})
        # Bluesky (AT Protocol)
        if path == "/xrpc/com.atproto.server.createSession":
            if body.get("password") != TOKEN:
                return self._answer(401, {"error": "AuthenticationRequired"})
            return self._answer(200, {"accessJwt": "jwt-access", "did": DID, "handle": "x"})
        if path == "/xrpc/com.atproto.repo.uploadBlob":
            n = len(s.media["bluesky"])
            picture = _picture(body)
            s.media["bluesky"].append({"id": f"bafkrei{n}", **picture})
            blob = {
                "$type": "blob",
                "ref": {"$link": f"bafkrei{n}"},
                "mimeType": body.get("_type"),
                "size": picture["bytes"],
            }
            return self._answer(200, {"blob": blob})
        if path == "/xrpc/com.atproto.repo.createRecord":
            rkey = body["rkey"]
            if rkey in s.bluesky_records:
                return self._answer(400, {"error": "InvalidRequest", "message": "exists"})
            uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
            record = {"id": uri, "rkey": rkey, **body["record"]}
            s.bluesky_records[rkey] = record
            s.posts["bluesky"].append(record)
            return self._answer(200, {"uri": uri, "cid": "bafy" + rkey})
        if path == "/xrpc/com.atproto.repo.getRecord":
            rkey = query["rkey"][0]
            if (
                rkey not in s.bluesky_records
                or s.bluesky_records[rkey]["id"] in s.deleted["bluesky"]
            ):
                return self._answer(400, {"error": "RecordNotFound"})
            return self._answer(200, {"uri": s.bluesky_records[rkey]["id"], "value": {}})
        if path == "/xrpc/com.atproto.repo.deleteRecord":
            s.deleted["bluesky"].append(f"at://{DID}/app.bsky.feed.post/{body['rkey']}")
            return self._answer(200, {})
        # LINE Messaging API
        if method == "POST" and path == "/v2/bot/message/broadcast":
            key = self.headers.get("X-Line-Retry-Key", "")
            if key in s.line_keys:
                return self._answer(
                    409,
                    {"message": "The retry key is already accepted"},
                    {"x-line-accepted-request-id": s.line_keys[key]},
                )
            rid = f"req-{len(s.posts['line']) + 1}"
            s.line_keys[key] = rid
            s.posts["line"].append({"id": rid, "text": body["messages"][0]["text"]})
            return self._answer(200, {}, {"x-line-request-id": rid})
        return self._answer(404, {"error": f"no route {method} {path}"})


def _picture(body: Any) -> dict[str, Any]:
    """What an upload carried: its size, and whether it holds a JPEG or PNG image."""
    raw = body.get("_raw", b"") if isinstance(body, dict) else b""
    return {"bytes": len(raw), "image": b"\xff\xd8\xff" in raw or b"\x89PNG" in raw}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _as_x_shows(post: dict[str, Any]) -> dict[str, Any]:
    """X's timeline replaces links with t.co and lists the originals in entities."""
    urls = re.findall(r"https?://\S+", post["text"])
    text = post["text"]
    entities = []
    for i, u in enumerate(urls):
        short = f"https://t.co/abc{i}"
        text = text.replace(u, short, 1)
        entities.append({"url": short, "expanded_url": u})
    return {"id": post["id"], "text": text, "entities": {"urls": entities}}


@contextmanager
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def accounts_toml(base_url: str) -> str:
    """accounts.toml for the tests: the ward on all four networks, Kitazawa on X and LINE,
    Daizawa on Mastodon and Bluesky; every base URL is the stand-in."""
    out = []
    for area, nets in {
        "setagaya": ("x", "mastodon", "bluesky", "line"),
        "setagaya/kitazawa": ("x", "line"),
        "setagaya/kitazawa/daizawa": ("mastodon", "bluesky"),
    }.items():
        env_area = area.rsplit("/", 1)[-1].upper()
        for net in nets:
            out.append(f'[accounts."{area}".{net}]')
            out.append(f'handle = "{env_area.lower()}-{net}"')
            out.append(f'base_url = "{base_url}"')
            key = "password_env" if net == "bluesky" else "token_env"
            out.append(f'{key} = "PUBLISHER_SNS_{env_area}_{net.upper()}_TOKEN"')
            out.append("")
    return "\n".join(out)


ENV_NAMES = [
    f"PUBLISHER_SNS_{area}_{net}_TOKEN"
    for area, nets in {
        "SETAGAYA": ("X", "MASTODON", "BLUESKY", "LINE"),
        "KITAZAWA": ("X", "LINE"),
        "DAIZAWA": ("MASTODON", "BLUESKY"),
    }.items()
    for net in nets
]
