"""`publisher serve`'s HTTP server under clients that misbehave, with small limits.

The server runs on a free loopback port in a thread of the test; clients are raw sockets, so
every byte a slow or hostile client would send is under the test's control.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.deliver import push
from publisher.web.server import Limits, Server
from tests.factories import api_item, pause, player_token

SOCKET_TIMEOUT_S = 10  # only a guard against a hung test; no decision waits on it


class Running:
    """A :class:`Server` on its own loop in a thread."""

    def __init__(self, app: Any, rt: Any, limits: Limits):
        self.loop = asyncio.new_event_loop()
        self.server = Server(app, rt, "127.0.0.1", 0, limits)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.port = self.server.port
        self.sockets: list[socket.socket] = []

    def connect(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=SOCKET_TIMEOUT_S)
        self.sockets.append(s)
        return s

    def request(self, raw: bytes) -> bytes:
        """Send ``raw`` on a new connection; the whole answer (the server closes)."""
        s = self.connect()
        s.sendall(raw)
        return read_all(s)

    def get(self, path: str, headers: str = "") -> bytes:
        return self.request(
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode()
        )

    def post(self, path: str, body: dict, token: str) -> bytes:
        data = json.dumps(body).encode()
        return self.request(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )

    def close(self) -> None:
        for s in self.sockets:
            s.close()
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def read_until(s: socket.socket, marker: bytes) -> bytes:
    out = b""
    while marker not in out:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def body(answer: bytes) -> bytes:
    return answer.split(b"\r\n\r\n", 1)[1]


class Blocking:
    """The app, except that ``GET /slow/...`` waits until released: a read that takes long."""

    def __init__(self, app: Any):
        self.app = app
        self.config = app.config
        self.release = threading.Event()
        self.started = threading.Semaphore(0)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/slow/"):
            self.started.release()
            self.release.wait(SOCKET_TIMEOUT_S)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"done"]
        return self.app(environ, start_response)


@pytest.fixture
def serve(rt, app) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    running: list[Running] = []

    def start(limits: Limits | None = None, wsgi: Any = None) -> Running:
        r = Running(wsgi or app, rt, limits or Limits())
        running.append(r)
        return r

    yield start
    for r in running:
        r.close()
    push.stop(rt)


def screen_token(rt: Any, screen_id: str = "daizawa-1") -> str:
    return player_token(rt, screen_id)


def open_stream(srv: Running, token: str, screen: str = "daizawa-1") -> socket.socket:
    s = srv.connect()
    s.sendall(
        f"GET /api/screens/{screen}/events?token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    return s


def test_a_screen_keeps_one_stream_however_many_its_token_opens(rt, serve):
    """300 streams with one screen's token, here 30: exactly one stays open, the newest."""
    srv = serve()
    token = screen_token(rt)
    streams = [open_stream(srv, token) for _ in range(30)]
    sel = selectors.DefaultSelector()
    for s in streams:
        sel.register(s, selectors.EVENT_READ, {"buf": b"", "eof": False})
    deadline = time.monotonic() + SOCKET_TIMEOUT_S
    while sum(k.data["eof"] for k in sel.get_map().values()) < 29 and time.monotonic() < deadline:
        for key, _ in sel.select(0.1):
            chunk = key.fileobj.recv(65536)  # type: ignore[union-attr]
            key.data["buf"] += chunk
            key.data["eof"] = not chunk
            if not chunk:
                sel.unregister(key.fileobj)
    survivors = [k.data for k in sel.get_map().values()]
    assert len(survivors) == 1
    assert srv.server.streams.by_screen.keys() == {"daizawa-1"}
    assert len(srv.server.streams) == 1
    sel.close()
    # The replaced ones were told to come back only after a minute, not to fight for it.
    assert b"event: hello" in survivors[0]["buf"] or b"event: hello" in read_until(
        streams[-1], b"event: hello"
    )


def test_an_emergency_reaches_the_stream_with_the_version_the_playlist_then_has(
    rt, serve, token_for
):
    srv = serve()
    token = screen_token(rt)
    stream = open_stream(srv, token)
    hello = read_until(stream, b"event: hello")
    assert b"HTTP/1.1 200 OK" in hello
    assert b"text/event-stream" in hello
    admin = token_for("admin", "setagaya")
    created = srv.post(
        "/api/items", api_item(kind="alert", priority="emergency", starts_at=None, ends_at=None),
        admin,
    )  # fmt: skip
    assert status(created) == 201, created
    event = read_until(stream, b"event: playlist")
    while not event.endswith(b"}\n\n"):
        event += stream.recv(65536)
    message = json.loads(event.split(b"event: playlist\ndata: ", 1)[1].split(b"\n", 1)[0])
    assert message["override"] is True
    playlist = srv.get(f"/api/screens/daizawa-1/playlist?token={token}")
    assert json.loads(body(playlist))["version"] == message["version"]


def test_the_stream_takes_the_token_from_the_players_cookie_or_header(rt, serve):
    """The browser's EventSource sends the screen's cookie; other players send a header."""
    srv = serve()
    token = screen_token(rt)
    for auth in (
        f"Cookie: theme=dark; screen-daizawa-1={token}",
        f"X-Screen-Token: {token}",
        f"Authorization: Bearer {token}",
    ):
        s = srv.connect()
        s.sendall(
            f"GET /api/screens/daizawa-1/events HTTP/1.1\r\nHost: x\r\n{auth}\r\n\r\n".encode()
        )
        assert b"HTTP/1.1 200 OK" in read_until(s, b"event: hello")
        s.close()
    wrong = srv.connect()
    wrong.sendall(
        b"GET /api/screens/daizawa-1/events HTTP/1.1\r\nHost: x\r\nCookie: screen-daizawa-1=guess\r\n\r\n"
    )
    assert b"HTTP/1.1 403" in read_until(wrong, b"wrong")
    wrong.close()


def test_a_wrong_screen_token_gets_403_and_no_stream(rt, serve):
    srv = serve()
    answer = srv.get("/api/screens/daizawa-1/events?token=wrong")
    assert status(answer) == 403
    assert b"token is missing or wrong" in answer
    assert status(srv.get("/api/screens/nowhere-9/events?token=x")) == 404
    assert len(srv.server.streams) == 0


def test_clients_dribbling_headers_hold_no_thread_and_are_dropped(serve):
    """Slow clients: /healthz answers while they dribble; then each gets 408 and is closed."""
    srv = serve(Limits(header_timeout_s=0.5, public_threads=1, priority_threads=1))
    slow = [srv.connect() for _ in range(20)]
    for s in slow:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
    assert status(srv.get("/healthz")) == 200
    assert status(srv.get("/api/items")) == 200
    for s in slow:
        answer = read_all(s)
        assert status(answer) == 408
        assert b"did not arrive in time" in answer


def test_a_stalled_body_is_answered_408(serve):
    srv = serve(Limits(body_timeout_s=0.3))
    s = srv.connect()
    s.sendall(b"POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    answer = read_all(s)
    assert status(answer) == 408
    assert b"body did not arrive in time" in answer


def test_connections_from_one_address_are_capped_with_a_reason(serve):
    srv = serve(Limits(per_address=3))
    held = [srv.connect() for _ in range(3)]
    for s in held:  # each is in (a request started), so each counts
        s.sendall(b"GET")
    refused = srv.get("/healthz")
    assert status(refused) == 503
    assert b"too many connections from your address" in refused
    assert b"Retry-After: 5" in refused
    held[0].close()
    srv.sockets.remove(held[0])
    assert status(srv_get_when_free(srv)) == 200


def srv_get_when_free(srv: Running) -> bytes:
    """The server counts a closed connection once it has read its end: retry a few times."""
    answer = b""
    for _ in range(50):
        answer = srv.get("/healthz")
        if status(answer) == 200:
            break
        pause(0.05)
    return answer


@pytest.mark.parametrize(
    ("raw", "code", "why"),
    [
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 431, b"request head is over"),
        (
            b"POST /api/items HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n",
            413,
            b"request body is over",
        ),
        (
            b"POST /api/items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
            b"with a Content-Length",
        ),
        (b"HELLO\r\n\r\n", 400, b"malformed request line"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400, b"malformed header line"),
        (b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, b"whole number"),
    ],
)
def test_bad_requests_are_refused_saying_why(serve, raw, code, why):
    srv = serve(Limits(max_head_bytes=4096, max_body_bytes=1000))
    srv.server.limits.max_body_bytes = 1000
    answer = srv.request(raw)
    assert status(answer) == code
    assert why in answer


def test_a_busy_server_sheds_public_reads_but_answers_staff_and_health(rt, app, serve, token_for):
    wsgi = Blocking(app)
    srv = serve(Limits(public_threads=1, priority_threads=1, public_queue=1), wsgi)
    running = srv.connect()
    running.sendall(b"GET /slow/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    queued = srv.connect()
    queued.sendall(b"GET /slow/2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    shed = b""
    for _ in range(50):  # until the queued one is counted
        shed = srv.get("/areas/setagaya")
        if status(shed) == 503:
            break
        pause(0.02)
    assert status(shed) == 503
    assert b"Retry-After: 5" in shed
    assert status(srv.get("/healthz")) == 200
    created = srv.post("/api/items", api_item(starts_at=None, ends_at=None), token_for("admin", "setagaya"))  # fmt: skip
    assert status(created) == 201
    wsgi.release.set()
    assert body(read_all(running)) == b"done"
    assert body(read_all(queued)) == b"done"
    assert srv.server.shed >= 1


def test_public_reads_are_held_briefly_and_dropped_when_an_item_changes(rt, serve, token_for):
    srv = serve()
    first = srv.get("/api/items?area=setagaya/kitazawa/daizawa")
    assert status(first) == 200
    again = srv.get("/api/items?area=setagaya/kitazawa/daizawa")
    assert body(again) == body(first)
    assert srv.server.reads.hits == 1
    created = srv.post("/api/items", api_item(starts_at=None, ends_at=None), token_for("admin", "setagaya"))  # fmt: skip
    assert status(created) == 201
    item_id = json.loads(body(created))["id"]
    # An approved item shows at once to the next reader of this process.
    after = srv.get("/api/items?area=setagaya/kitazawa/daizawa")
    assert item_id in [i["id"] for i in json.loads(body(after))["items"]]
    assert srv.server.reads.hits == 1


class Gated:
    """The app, counting renders of ``/api/items``; while ``gate`` is clear they wait for it."""

    def __init__(self, app: Any):
        self.app = app
        self.config = app.config
        self.gate = threading.Event()
        self.gate.set()
        self.renders = 0
        self.started = threading.Semaphore(0)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/api/items":
            self.renders += 1
            self.started.release()
            self.gate.wait(SOCKET_TIMEOUT_S)
        return self.app(environ, start_response)


def test_a_held_read_past_its_time_is_given_at_once_while_one_thread_makes_the_new(app, serve):
    """Readers of a page never wait for its renders, and a page is made again once at a time."""
    wsgi = Gated(app)
    srv = serve(wsgi=wsgi)
    srv.server.reads.hold_s = -1  # held, and past its time at once
    path = "/api/items?area=setagaya/kitazawa/daizawa"
    first = srv.get(path)
    assert status(first) == 200
    assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    wsgi.gate.clear()  # the next render takes as long as the test likes
    for _ in range(3):
        again = srv.get(path)  # answered while the new one is being made
        assert status(again) == 200
        assert body(again) == body(first)
    assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    assert wsgi.renders == 2  # one in the background, not one per reader
    wsgi.gate.set()
    assert until(lambda: srv.server._refreshing == 0 and not srv.server._fetching)
    assert status(srv.get(path)) == 200
    assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    assert until(lambda: srv.server._refreshing == 0)
    assert wsgi.renders == 3


def test_keep_alive_serves_several_requests_and_idle_connections_close(serve):
    srv = serve(Limits(idle_timeout_s=0.3))
    s = srv.connect()
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = read_until(s, b'"ok":true')
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    second = read_until(s, b'"ok":true')
    assert status(first) == status(second) == 200
    assert read_all(s) == b""  # closed after the idle timeout, without an answer


def test_serve_refuses_to_share_a_port_on_sqlite_saying_why(rt, monkeypatch):
    """On SQLite a second process would never hear of a change made by the first."""
    from click.testing import CliRunner

    from publisher.cli.main import cli

    if not rt.db.is_sqlite:
        pytest.skip("PostgreSQL may share a port")
    monkeypatch.setattr("publisher.cli.main.Runtime", lambda: rt)
    monkeypatch.setattr(rt, "close", lambda: None)
    result = CliRunner().invoke(cli, ["serve", "--reuse-port"])
    assert result.exit_code == 2
    assert "--reuse-port needs PostgreSQL" in result.output


def test_a_change_made_by_another_process_drops_held_reads_at_once(rt, serve, token_for):
    """PostgreSQL: a reader of this process sees an item another web process just approved."""
    from publisher.runtime import Runtime
    from publisher.web import create_app

    if rt.db.is_sqlite:
        pytest.skip("one process on SQLite")
    srv = serve()
    srv.server.reads.hold_s = 600  # only the change may drop it
    path = "/api/items?area=setagaya/kitazawa/daizawa"
    assert status(srv.get(path)) == 200
    other = Runtime(rt.settings)
    other.__dict__["tree"] = rt.tree
    try:
        created = (
            create_app(other, {"TESTING": True})
            .test_client()
            .post(
                "/api/items",
                json=api_item(starts_at=None, ends_at=None),
                headers={"Authorization": f"Bearer {token_for('admin', 'setagaya')}"},
            )
        )
        assert created.status_code == 201
        item_id = created.get_json()["id"]
        seen: list[int] = []
        for _ in range(100):  # the NOTIFY arrives within milliseconds
            seen = [i["id"] for i in json.loads(body(srv.get(path)))["items"]]
            if item_id in seen:
                break
            pause(0.05)
        assert item_id in seen
    finally:
        other.close()


class Big:
    """The app, except that ``GET /big`` answers :data:`BIG_BYTES` bytes: a large page."""

    BIG_BYTES = 32 * 1024 * 1024

    def __init__(self, app: Any):
        self.app = app
        self.config = app.config

    def __call__(self, environ: dict, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/big":
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [b"x" * self.BIG_BYTES]
        return self.app(environ, start_response)


def reluctant_reader(srv: Running) -> socket.socket:
    """A connection whose client reads nothing (a tiny receive window, never emptied)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(SOCKET_TIMEOUT_S)
    s.connect(("127.0.0.1", srv.port))
    srv.sockets.append(s)
    return s


def until(condition: Any) -> bool:
    """Poll ``condition`` (the server's own state) until true; the deadline only guards a hang."""
    deadline = time.monotonic() + SOCKET_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause(0.02)
    return True


def test_a_client_that_does_not_read_its_answer_is_dropped_after_the_write_timeout(app, serve):
    srv = serve(Limits(write_timeout_s=0.3), Big(app))
    s = reluctant_reader(srv)
    s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
    assert until(lambda: srv.server.connections == 1)
    # The server gives up on it and frees the 32 MB it had queued, without the client reading.
    assert until(lambda: srv.server.connections == 0)
    received = 0
    with contextlib.suppress(ConnectionError):
        while chunk := s.recv(1 << 20):
            received += len(chunk)
    assert received < Big.BIG_BYTES
    # Everyone else is answered as before.
    assert status(srv.get("/healthz")) == 200


def test_a_stream_whose_screen_stops_reading_is_dropped_and_frees_its_memory(rt, serve):
    srv = serve()
    srv.server.streams.buffer_max = 64 * 1024
    s = reluctant_reader(srv)
    s.sendall(
        f"GET /api/screens/daizawa-1/events?token={screen_token(rt)} HTTP/1.1\r\n"
        "Host: x\r\n\r\n".encode()
    )
    assert until(lambda: "daizawa-1" in srv.server.streams.by_screen)
    stream = srv.server.streams.by_screen["daizawa-1"]
    hub = push.hub_for(rt)
    assert until(lambda: hub.subscribers("daizawa-1") == 1)
    big = {"version": "v" * 100_000, "override": False}
    for _ in range(200):  # 20 MB of events it never reads: more than any socket buffer holds
        if stream.done.is_set():
            break
        hub.publish("daizawa-1", big)
        pause(0.005)  # let the loop write (no decision waits on this)
    assert until(lambda: srv.server.connections == 0)
    assert srv.server.streams.dropped == 1
    assert srv.server.streams.by_screen == {}
    assert hub.subscribers("daizawa-1") == 0
    assert stream.writer.transport.get_write_buffer_size() == 0
    # The screen comes back with a new stream as soon as it reads again.
    again = open_stream(srv, screen_token(rt))
    assert b"event: hello" in read_until(again, b"event: hello")


def test_healthz_answers_while_every_lane_thread_is_busy(app, serve):
    wsgi = Blocking(app)
    srv = serve(Limits(public_threads=1, priority_threads=1), wsgi)
    for path in ("/slow/read", "/slow/write"):  # a public GET and a staff POST, both held
        c = srv.connect()
        method = "GET" if path == "/slow/read" else "POST"
        c.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
        assert wsgi.started.acquire(timeout=SOCKET_TIMEOUT_S)
    answer = srv.get("/healthz")
    assert status(answer) == 200
    assert json.loads(body(answer))["ok"] is True
    wsgi.release.set()


def test_healthz_says_when_the_database_is_in_trouble(rt, serve, monkeypatch):
    srv = serve(Limits(health_fresh_s=0, health_stale_s=0))
    assert status(srv.get("/healthz")) == 200
    monkeypatch.setattr(rt.db, "health", lambda: {"database": "unreachable", "schema": "ok"})
    answer = srv.get("/healthz")
    assert status(answer) == 503
    assert json.loads(body(answer))["database"] == "unreachable"
    assert b"Connection: close" in answer


@pytest.mark.parametrize(
    "message",
    [{"version": "3f2a", "override": True}, {"version": "3f2a", "override": False},
     {"override": False, "version": "x"}, {"version": "a\"b", "override": True, "extra": 1}],
)  # fmt: skip
def test_the_playlist_event_written_out_is_what_the_flask_route_sends(message):
    from publisher.web.streams import playlist_event, sse

    assert playlist_event(message) == sse("playlist", message)
