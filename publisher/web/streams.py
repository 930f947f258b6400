"""Lobby screens' push streams on the server's event loop: one live stream per screen.

``GET /api/screens/<id>/events`` (the screen's token in its cookie, a header or ``?token=``) answers ``text/event-stream`` exactly as the Flask
route in :mod:`publisher.web.player` does (``event: hello`` with the current version, then
``event: playlist`` each time the screen's playlist changes, a comment line as keep-alive), so
the player's JavaScript cannot tell them apart. Here a stream costs a socket and a coroutine:

- The token check and the screen's current version run once, in a priority-lane thread.
- The in-process :class:`publisher.deliver.push.Hub` (fed by commits on SQLite and by
  LISTEN/NOTIFY on PostgreSQL) calls the stream's ``deliver`` from its thread; the message
  crosses to the loop with ``call_soon_threadsafe`` and is written without waiting.
- A second stream for the same screen replaces the first: the old one is told to come back
  no sooner than :data:`REPLACED_RETRY_MS` and closed, so a screen holds one stream whatever
  a buggy kiosk or a stolen token opens. On PostgreSQL this holds across web processes: each
  stream opened is announced to every process (:meth:`Hub.announce_stream`), and a process
  closes its own stream for that screen when it hears of a newer one. "Newer" is the order in
  which every process hears the announcements: a stream is replaced only by an announcement
  heard after its own, so two processes never close each other's newest stream.
- One task writes every stream's keep-alive; a stream whose client stops reading (more than
  :data:`STREAM_BUFFER_MAX_BYTES` unsent) is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import threading
import time
import uuid
from concurrent.futures import Executor
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, unquote

from publisher.deliver.playlists import cache_for
from publisher.deliver.push import Hub, hub_for, start_listening
from publisher.items import utcnow
from publisher.runtime import Runtime
from publisher.web.screen_auth import given_token, screen_token_problem

log = logging.getLogger(__name__)

STREAM_PATH = re.compile(r"^/api/screens/([^/]+)/events$")
SSE_HEARTBEAT_S = 15
SSE_RETRY_MS = 2000
REPLACED_RETRY_MS = 60000  # a replaced stream's player waits this long before trying again
STREAM_BUFFER_MAX_BYTES = 256 * 1024


def is_stream(method: str, path: str) -> bool:
    return method == "GET" and STREAM_PATH.match(path) is not None


def sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def playlist_event(message: dict) -> bytes:
    """``sse("playlist", message)``, written out for the usual message (thousands per change)."""
    if list(message) == ["version", "override"] and isinstance(message["version"], str):
        override = "true" if message["override"] is True else "false"
        data = f'{{"version": {json.dumps(message["version"])}, "override": {override}}}'
        if message["override"] in (True, False):
            return f"event: playlist\ndata: {data}\n\n".encode()
    return sse("playlist", message)


class Stream:
    """One screen's open stream."""

    def __init__(
        self,
        screen_id: str,
        writer: asyncio.StreamWriter,
        buffer_max: int = STREAM_BUFFER_MAX_BYTES,
        stream_id: str = "",
    ):
        self.screen_id = screen_id
        self.writer = writer
        self.buffer_max = buffer_max
        self.done = asyncio.Event()
        self.dropped = False
        self.id = stream_id
        self.heard = False  # its own announcement came back: any later one replaces it

    def send(self, data: bytes) -> None:
        if self.done.is_set():
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.end()
        elif transport.get_write_buffer_size() > self.buffer_max:
            # A client that stops reading: drop the connection and everything queued for it
            # (close() would keep both until the client reads, which it may never do).
            self.done.set()
            self.dropped = True
            transport.abort()
        else:
            self.writer.write(data)

    def end(self) -> None:
        if not self.done.is_set():
            self.done.set()
            self.writer.close()

    def replace(self) -> None:
        """Another stream holds the screen now: come back in a minute, not at once."""
        self.send(f"retry: {REPLACED_RETRY_MS}\n".encode() + sse("replaced", {}))
        self.end()


class Streams:
    """Every push stream of this process, at most one per screen."""

    def __init__(self, rt: Runtime, app: Any):
        self.rt = rt
        self.heartbeat_s = float(app.config.get("PLAYER_SSE_HEARTBEAT_S", SSE_HEARTBEAT_S))
        self.by_screen: dict[str, Stream] = {}
        self.buffer_max = STREAM_BUFFER_MAX_BYTES  # unsent bytes before a stream is dropped
        self.dropped = 0  # streams dropped because their client stopped reading
        self.replaced = 0
        self.replaced_elsewhere = 0  # by a newer stream of the same screen in another process
        self._ids = (f"{uuid.uuid4().hex[:8]}.{n}" for n in itertools.count())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: Executor | None = None
        self._hub: Hub | None = None
        self._beat: asyncio.Task[None] | None = None
        self._outbox: list[tuple[Stream, bytes]] = []
        self._outbox_lock = threading.Lock()
        self._flush_armed = False

    async def start(self, pool: Executor) -> None:
        self._pool = pool
        loop = self._loop = asyncio.get_running_loop()
        self._hub = await loop.run_in_executor(pool, start_listening, self.rt)
        self._hub.on_streams.append(self._heard_of_streams)
        self._beat = asyncio.create_task(self._heartbeats())

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if self._hub is not None:
            with contextlib.suppress(ValueError):
                self._hub.on_streams.remove(self._heard_of_streams)
        for stream in list(self.by_screen.values()):
            stream.end()

    def __len__(self) -> int:
        return len(self.by_screen)

    async def serve(
        self, request: Any, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        match = STREAM_PATH.match(request.path)
        assert match is not None
        screen_id = unquote(match.group(1))
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        headers = request.headers
        jar = SimpleCookie()
        with contextlib.suppress(CookieError):
            jar.load(headers.get("cookie", ""))
        given = given_token(
            screen_id,
            query,
            {
                "X-Screen-Token": headers.get("x-screen-token", ""),
                "Authorization": headers.get("authorization", ""),
            },
            {name: morsel.value for name, morsel in jar.items()},
        )
        loop = asyncio.get_running_loop()
        try:
            problem, hello = await loop.run_in_executor(self._pool, self._open, screen_id, given)
        except Exception:  # the database is unreachable: the player retries after Retry-After
            log.exception("push stream for %s could not start", screen_id)
            problem, hello = (503, "the screen's playlist cannot be read now; retry shortly"), {}
        if problem is not None:
            status, why = problem
            body = json.dumps({"error": why}).encode()
            reason = {403: "Forbidden", 404: "Not Found"}.get(status, "Service Unavailable")
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            with contextlib.suppress(TimeoutError, ConnectionError):
                await asyncio.wait_for(writer.drain(), 5)
            return
        stream = Stream(screen_id, writer, self.buffer_max, next(self._ids))
        old = self.by_screen.get(screen_id)
        if old is not None:
            self.replaced += 1
            old.replace()
        self.by_screen[screen_id] = stream
        hub = self._hub or hub_for(self.rt)
        if not self.rt.db.is_sqlite:  # announced once registered, so its echo finds it here
            hub.announce_stream(screen_id, stream.id)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            b"Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nConnection: keep-alive\r\n\r\n"
            + f"retry: {SSE_RETRY_MS}\n".encode()
            + sse("hello", hello)
        )

        def deliver(message: dict) -> None:  # the hub's thread
            self._hand_over(loop, stream, playlist_event(message))

        sub = hub.subscribe(screen_id, hello["version"], deliver)
        try:
            closed = asyncio.ensure_future(self._until_closed(reader))
            done = asyncio.ensure_future(stream.done.wait())
            await asyncio.wait({closed, done}, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            done.cancel()
        finally:
            hub.unsubscribe(sub)
            stream.end()
            self.dropped += stream.dropped
            if self.by_screen.get(screen_id) is stream:
                del self.by_screen[screen_id]

    def _hand_over(self, loop: asyncio.AbstractEventLoop, stream: Stream, data: bytes) -> None:
        """From the hub's thread: queue the event; the loop is woken once per batch, not once
        per screen (ten thousand wake-ups would cost more than the writes)."""
        with self._outbox_lock:
            self._outbox.append((stream, data))
            if self._flush_armed:
                return
            self._flush_armed = True
        loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._outbox_lock:
            batch, self._outbox = self._outbox, []
            self._flush_armed = False
        for stream, data in batch:
            stream.send(data)

    def _heard_of_streams(self, opened: list[tuple[str, str]]) -> None:
        """From the listener's thread: streams opened in some process, in the order every
        process hears them."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.opened_somewhere, opened)

    def opened_somewhere(self, opened: list[tuple[str, str]]) -> None:
        """On the loop: a stream here whose own announcement was heard before another one for
        its screen is the older one: it is told to retry in a minute and closed. An
        announcement heard before a stream's own is older than it, and changes nothing."""
        for screen_id, stream_id in opened:
            stream = self.by_screen.get(screen_id)
            if stream is None:
                continue
            if stream.id == stream_id:
                stream.heard = True
            elif stream.heard:
                self.replaced_elsewhere += 1
                del self.by_screen[screen_id]
                stream.replace()

    def _open(self, screen_id: str, given: str) -> tuple[tuple[int, str] | None, dict]:
        """In a thread: the token check, then the screen's current version for ``hello``."""
        problem = screen_token_problem(self.rt, screen_id, given)
        if problem is not None:
            return problem, {}
        sp = cache_for(self.rt).get(screen_id, utcnow())
        return None, {"version": sp.version, "override": sp.plan.override}

    @staticmethod
    async def _until_closed(reader: asyncio.StreamReader) -> None:
        """A stream's client sends nothing more; anything it sends is read and dropped."""
        with contextlib.suppress(ConnectionError):
            while await reader.read(4096):
                pass

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            line = f": keep-alive {int(time.time())}\n\n".encode()
            for stream in list(self.by_screen.values()):
                stream.send(line)
