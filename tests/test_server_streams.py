"""One push stream per screen, across the web processes that share a PostgreSQL database.

A stream opened for a screen in one process closes that screen's older stream in every other
process (told to retry in a minute, as within one process). Which one is older is the order in
which every process hears the streams announced, so two processes never close each other's
newest stream.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher.deliver import push
from publisher.web.streams import REPLACED_RETRY_MS
from tests.factories import pause
from tests.test_server import (  # noqa: F401 (serve: the fixture)
    SOCKET_TIMEOUT_S,
    open_stream,
    read_all,
    read_until,
    screen_token,
    serve,
    status,
    until,
)

SCREEN = "daizawa-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def other_process(rt: Any, tmp_path: Path) -> Iterator[int]:
    """A second ``publisher serve`` on the test's PostgreSQL database; its port."""
    if rt.db.is_sqlite:
        pytest.skip("one process on SQLite: a stream per screen is per process there")
    port = free_port()
    env = {
        **os.environ,
        "PUBLISHER_DATABASE_URL": str(rt.settings["DATABASE_URL"]),
        "PUBLISHER_DATA_DIR": str(tmp_path / "other"),
        "PUBLISHER_SECRET_KEY": "test-secret",
        "PUBLISHER_BASE_URL": f"http://127.0.0.1:{port}",
        "PUBLISHER_SCHEDULER": "off",
    }
    log = tmp_path / "other.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "publisher"), "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert until(lambda: healthy(port) or proc.poll() is not None), log.read_text()
        assert proc.poll() is None, log.read_text()
        yield port
    finally:
        proc.terminate()
        for _ in range(100):
            if proc.poll() is not None:
                break
            pause(0.1)
        else:
            proc.kill()


def healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return status(read_all(s)) == 200
    except OSError:
        return False


def stream_at(port: int, token: str, opened: list[socket.socket]) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S)
    opened.append(s)
    s.sendall(
        f"GET /api/screens/{SCREEN}/events?token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    return s


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    """Client sockets the test opens itself, closed at its end."""
    opened: list[socket.socket] = []
    yield opened
    for s in opened:
        s.close()


def test_a_screen_keeps_one_stream_across_two_web_processes(rt, serve, other_process, sockets):  # noqa: F811
    """PostgreSQL, two processes: the newest stream holds the screen wherever it was opened."""
    here = serve()
    streams = here.server.streams
    token = screen_token(rt, SCREEN)
    first = open_stream(here, token, SCREEN)
    assert b"event: hello" in read_until(first, b"event: hello")
    assert until(lambda: SCREEN in streams.by_screen and streams.by_screen[SCREEN].heard)

    # The screen (or a copy of its token) opens a stream on the other process: the one here
    # is told to come back in a minute, and closed.
    second = stream_at(other_process, token, sockets)
    assert b"event: hello" in read_until(second, b"event: hello")
    told = read_all(first)
    assert f"retry: {REPLACED_RETRY_MS}".encode() in told
    assert b"event: replaced" in told
    assert until(lambda: SCREEN not in streams.by_screen)
    assert streams.replaced_elsewhere == 1

    # And the other way round: a stream opened here closes the other process's.
    third = open_stream(here, token, SCREEN)
    assert b"event: hello" in read_until(third, b"event: hello")
    assert b"event: replaced" in read_all(second)
    assert until(lambda: SCREEN in streams.by_screen and streams.by_screen[SCREEN].heard)
    assert len(streams) == 1


def test_an_announcement_heard_before_a_streams_own_is_older_and_closes_nothing(rt, serve):  # noqa: F811
    """The order every process hears announcements in decides which stream is newer."""
    srv = serve()
    stream_socket = open_stream(srv, screen_token(rt, SCREEN), SCREEN)
    assert b"event: hello" in read_until(stream_socket, b"event: hello")
    streams = srv.server.streams
    assert until(lambda: SCREEN in streams.by_screen)
    stream = streams.by_screen[SCREEN]

    def heard(*opened: tuple[str, str]) -> None:
        srv.loop.call_soon_threadsafe(streams.opened_somewhere, list(opened))

    if rt.db.is_sqlite:  # nothing announced: a stream is never replaced from elsewhere
        assert push.hub_for(rt)._announcer is None
        heard((SCREEN, stream.id))
    assert until(lambda: stream.heard)
    # Heard after its own: a newer stream elsewhere. Another screen's: nothing to do here.
    heard(("kamiuma-1", "elsewhere.1"), (SCREEN, "elsewhere.2"))
    told = read_all(stream_socket)
    assert b"event: replaced" in told
    assert until(lambda: SCREEN not in streams.by_screen)

    newer = open_stream(srv, screen_token(rt, SCREEN), SCREEN)
    assert b"event: hello" in read_until(newer, b"event: hello")
    assert until(lambda: SCREEN in streams.by_screen)
    stream = streams.by_screen[SCREEN]
    if rt.db.is_sqlite:
        heard(("daizawa-1", "older.1"))  # before its own: older, ignored
        heard((SCREEN, stream.id))
    assert until(lambda: stream.heard)
    assert streams.by_screen[SCREEN] is stream
    assert not stream.done.is_set()
    newer.close()


def test_stream_announcements_stay_under_postgresqls_payload_limit():
    opened = [(f"screen-{i:05d}", f"{i:08x}.{i}") for i in range(2000)]
    payloads = push.stream_payloads(opened)
    assert len(payloads) > 1
    assert all(len(p.encode()) < 8000 for p in payloads)
    back = [tuple(pair) for p in payloads for pair in json.loads(p)["opened"]]
    assert back == opened
    assert push.stream_payloads([]) == []
