"""``publisher serve``'s HTTP server: one asyncio loop holds every connection, threads run Flask.

Why not one thread per connection: a lobby screen keeps its push stream open all day, and a
slow or hostile client can keep a connection open for as long as it likes. Here a connection
costs a coroutine and a socket, never a thread:

- The loop reads each request head and body itself, under deadlines and size limits
  (:class:`Limits`): a client that dribbles headers, stalls its body or opens too many
  connections from one address is answered (408, 413, 431, 503) and dropped, and has held no
  worker thread meanwhile.
- Push streams (``/api/screens/<id>/events``) live on the loop (:mod:`publisher.web.streams`):
  ten thousand idle screens cost memory, not threads.
- Only a complete request reaches Flask, in one of two lanes of threads. The *priority* lane
  (``/healthz``, ``/admin/``, alerts, every write but residents' anonymous ``/notifications/``
  sign-ups) is never shared with the *public* lane (pages, feeds, API reads, players'
  playlists and slides, those sign-ups); while a priority request runs, the public lane
  admits one request at a time, so an alert does not wait for the interpreter behind twenty
  page renders. A public request that finds the lane's queue full is answered
  503 with ``Retry-After`` at once: a busy server sheds readers, never an alert.
- ``GET /healthz`` is answered on the loop from a check at most ``health_fresh_s`` old
  (:mod:`publisher.web.health`): a monitor's probe never waits behind a lane, yet says within
  a second or two when the database or the disk is in trouble.
- Public reads that any reader may share (pages, feeds, ``/api/items``) are held for a few
  seconds (:class:`publisher.web.caching.ReadCache`) and answered from the loop. A held answer
  past its time is still given at once while :data:`REFRESHES` request at a time makes the new
  one in the background; a change drops them all, and the next reader waits for a fresh one.

Contract: :func:`serve` runs until SIGTERM/SIGINT; :class:`Server` is what tests start on a
free port (``await server.start()``; ``server.port``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import resource
import signal
import sys
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from publisher.deliver.push import hub_for
from publisher.runtime import Runtime
from publisher.web import streams
from publisher.web.caching import ReadCache, read_cache
from publisher.web.health import Health
from publisher.web.http11 import (
    AccessLog,
    HttpError,
    Request,
    call_app,
    parse_head,
    simple_response,
    wsgi_environ,
)

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
SWITCH_INTERVAL_S = 0.001
GC_THRESHOLD = 20_000  # allocations between young-generation passes (Python's default: 700)
PUBLIC_PER_TURN = 8  # public answers the loop gives per turn before it looks round again
REFRESHES = 1  # held reads made again at once, in the background, while readers get the old
SERVER_NAME = "publisher"


@dataclass
class Limits:
    """What one client may hold. Defaults suit a ward; tests pass small numbers."""

    header_timeout_s: float = 10.0  # the whole request head, from the first byte asked for
    body_timeout_s: float = 30.0  # the whole body, once the head is in
    idle_timeout_s: float = 15.0  # a kept-alive connection waiting for its next request
    write_timeout_s: float = 30.0  # a response the client does not read
    max_head_bytes: int = 16 * 1024
    max_headers: int = 100
    max_body_bytes: int = 8 * 1024 * 1024
    per_address: int = 500  # a lobby's or an office's NAT holds many screens and browsers
    max_connections: int = 15000
    public_threads: int = 4
    priority_threads: int = 2
    public_queue: int = 64  # public requests waiting beyond the running ones; then 503
    health_fresh_s: float = 1.0  # a /healthz answer older than this is checked again, meanwhile
    health_stale_s: float = 5.0  # given while younger than this; an older one is waited for


PRIORITY_PREFIXES = ("/admin", "/api/alerts", "/healthz")
# Anonymous writes anyone on the internet may send (residents' Web Push sign-ups): in the
# public lane, where a flood of them is shed like a flood of reads, never ahead of an alert.
PUBLIC_WRITE_PREFIXES = ("/notifications/",)


def is_priority(method: str, path: str) -> bool:
    """Staff, alerts, health checks and every write but residents' sign-ups run in the lane
    no reader can fill."""
    if path.startswith(PRIORITY_PREFIXES):
        return True
    return method not in ("GET", "HEAD") and not path.startswith(PUBLIC_WRITE_PREFIXES)


class Server:
    """The app and the push streams on one loop; Flask in two lanes of threads."""

    def __init__(
        self, app: Any, rt: Runtime, host: str, port: int, limits: Limits | None = None
    ) -> None:
        self.app = app
        self.rt = rt
        self.host, self.port = host, port
        self.limits = limits or Limits()
        self.limits.max_body_bytes = int(app.config.get("MAX_CONTENT_LENGTH") or 0) or (
            self.limits.max_body_bytes
        )
        self.public_pool = ThreadPoolExecutor(self.limits.public_threads, "publisher-public")
        self.priority_pool = ThreadPoolExecutor(self.limits.priority_threads, "publisher-priority")
        self.health_pool = ThreadPoolExecutor(1, "publisher-health")
        self.health = Health(lambda request: self._run(self.health_pool, request), self.limits)
        self.reads: ReadCache = read_cache(rt)
        self.access = AccessLog()
        self.streams = streams.Streams(rt, app)
        self.per_address: Counter[str] = Counter()
        self.connections = 0
        self.public_running = 0
        self.public_waiting = 0
        self.priority_active = 0
        self.shed = 0  # public requests answered 503 because the lane was full
        self._public_free: asyncio.Condition | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._fetching: dict[tuple[str, ...], asyncio.Future[None]] = {}
        self._refreshing = 0  # held reads being made again in the background
        self._permits = PUBLIC_PER_TURN
        self._turn_waiters: deque[asyncio.Future[None]] = deque()
        self._refill_armed = False

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, reuse_port: bool = False) -> None:
        self._public_free = asyncio.Condition()
        self._server = await asyncio.start_server(
            self._connection,
            self.host,
            self.port,
            limit=self.limits.max_head_bytes,
            backlog=2048,
            reuse_port=reuse_port or None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        loop = asyncio.get_running_loop()
        await self.streams.start(self.priority_pool)
        # The change listeners (push, feeds, scheduler, SNS outbox) are imported now, not by
        # the first write: the first alert after a restart would pay for it (~0.3 s).
        await loop.run_in_executor(self.priority_pool, lambda: self.rt.listeners)
        hub = hub_for(self.rt)
        if not self.rt.db.is_sqlite:  # another process's change: drop held reads at once
            hub.on_change.append(self.reads.clear)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        with contextlib.suppress(ValueError):
            hub_for(self.rt).on_change.remove(self.reads.clear)
        await self.streams.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.sleep(0)  # let the transports finish closing
        self.public_pool.shutdown(wait=False, cancel_futures=True)
        self.priority_pool.shutdown(wait=False, cancel_futures=True)
        self.health_pool.shutdown(wait=False, cancel_futures=True)
        self.access.close()

    # -- one connection ----------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("", 0)
        address = str(peer[0])
        if self.connections >= self.limits.max_connections:
            await self._refuse(writer, "the server holds as many connections as it can")
            return
        if self.per_address[address] >= self.limits.per_address:
            await self._refuse(writer, "too many connections from your address")
            return
        self.connections += 1
        self.per_address[address] += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer, (address, int(peer[1])))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the server is stopping
        except TimeoutError:  # the client did not read its answer within write_timeout_s:
            writer.transport.abort()  # drop what it left unread now, not when it reads
        except Exception:
            log.exception("connection from %s failed", address)
        finally:
            self._tasks.discard(task)
            self.connections -= 1
            self.per_address[address] -= 1
            if self.per_address[address] <= 0:
                del self.per_address[address]
            writer.close()

    async def _refuse(self, writer: asyncio.StreamWriter, why: str) -> None:
        writer.write(simple_response(503, why, extra={"Retry-After": str(RETRY_AFTER_S)}))
        with contextlib.suppress(TimeoutError, ConnectionError):
            await asyncio.wait_for(writer.drain(), 1.0)
        writer.close()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: tuple[str, int]
    ) -> None:
        first = True
        while True:
            try:
                request = await self._read_request(reader, writer, peer, first)
            except HttpError as e:
                writer.write(simple_response(e.status, e.message))
                await self._drain(writer)
                return
            if request is None:
                return
            first = False
            if streams.is_stream(request.method, request.path):
                await self.streams.serve(request, reader, writer)
                return
            answer = await self._answer(request)
            self.access.add(request, answer)
            writer.write(answer)
            await self._drain(writer)
            if not request.keep_alive or b"\r\nConnection: close\r\n" in answer[:4096]:
                return

    async def _drain(self, writer: asyncio.StreamWriter) -> None:
        async with asyncio.timeout(self.limits.write_timeout_s):
            await writer.drain()

    async def _read_request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: tuple[str, int],
        first: bool,
    ) -> Request | None:
        limits = self.limits
        try:
            if not first and not reader._buffer:  # type: ignore[attr-defined]
                async with asyncio.timeout(limits.idle_timeout_s):
                    byte = await reader.read(1)
                if not byte:
                    return None
            else:
                byte = b""
            async with asyncio.timeout(limits.header_timeout_s):
                head = byte + await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            if first or reader._buffer:  # type: ignore[attr-defined]
                raise HttpError(408, "the request head did not arrive in time") from None
            return None
        except asyncio.LimitOverrunError:
            raise HttpError(
                431, f"the request head is over {limits.max_head_bytes} bytes"
            ) from None
        except asyncio.IncompleteReadError as e:
            if e.partial.strip():
                raise HttpError(400, "the connection closed inside the request head") from None
            return None
        request = parse_head(head, peer, limits.max_headers)
        request.body = await self._read_body(request, reader, writer)
        return request

    async def _read_body(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes:
        if "transfer-encoding" in request.headers:
            raise HttpError(411, "send the request body with a Content-Length, not chunked")
        raw = request.headers.get("content-length", "0").strip() or "0"
        if not raw.isdigit():
            raise HttpError(400, f"Content-Length must be a whole number, not {raw[:20]!r}")
        length = int(raw)
        if length > self.limits.max_body_bytes:
            raise HttpError(
                413, f"the request body is over {self.limits.max_body_bytes} bytes ({length})"
            )
        if length == 0:
            return b""
        if request.headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            async with asyncio.timeout(self.limits.body_timeout_s):
                return await reader.readexactly(length)
        except TimeoutError:
            raise HttpError(408, "the request body did not arrive in time") from None

    # -- the app -----------------------------------------------------------------------------

    async def _answer(self, request: Request) -> bytes:
        if request.method == "GET" and request.path == "/healthz":
            return await self.health.answer(request)
        if is_priority(request.method, request.path):
            self.priority_active += 1
            try:
                return await self._run(self.priority_pool, request)
            finally:
                self.priority_active -= 1
                await self._wake_public()
        await self._public_turn()
        held = self.reads.answer(request)
        if held is not None:
            return held
        key = self.reads.key(request)
        if key is not None:
            # Past its time but not dropped by a change: readers get the answer held a moment
            # ago at once, while one request at a time makes the new one in the background.
            held = self.reads.answer(request, stale=True)
            if held is not None:
                self._refresh(key, request)
                return held
        if key is not None and key in self._fetching:
            # The first reader since a change makes the answer; the others wait for it, not
            # for a thread each.
            await asyncio.shield(self._fetching[key])
            held = self.reads.answer(request)
            if held is not None:
                return held
        limits = self.limits
        if self.public_running + self.public_waiting >= limits.public_threads + limits.public_queue:
            self.shed += 1
            return simple_response(
                503,
                "the server is busy; please retry in a few seconds",
                close=not request.keep_alive,
                extra={"Retry-After": str(RETRY_AFTER_S)},
            )
        fetched: asyncio.Future[None] | None = None
        if key is not None and key not in self._fetching:
            fetched = self._fetching[key] = asyncio.get_running_loop().create_future()
        try:
            return await self._in_public_lane(request)
        finally:
            if fetched is not None and key is not None:
                del self._fetching[key]
                fetched.set_result(None)

    def _refresh(self, key: tuple[str, ...], request: Request) -> None:
        """Make a held read's new answer in the background, :data:`REFRESHES` at a time: held
        pages cost one lane thread's renders, however many pages and readers there are, and
        the loop and the priority lane share the interpreter with no more than that."""
        if key in self._fetching or self._refreshing >= REFRESHES:
            return
        fetched = self._fetching[key] = asyncio.get_running_loop().create_future()
        self._refreshing += 1

        async def refresh() -> None:
            try:
                await self._in_public_lane(request)
            except Exception:
                log.exception("refreshing %s failed", request.target)
            finally:
                self._refreshing -= 1
                del self._fetching[key]
                fetched.set_result(None)

        task = asyncio.ensure_future(refresh())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_public_lane(self, request: Request) -> bytes:
        cond = self._public_free
        assert cond is not None
        self.public_waiting += 1
        try:
            async with cond:
                await cond.wait_for(self._public_admits)
                self.public_running += 1
        finally:
            self.public_waiting -= 1
        try:
            answer = await self._run(self.public_pool, request)
            self.reads.keep(request, answer)
        finally:
            self.public_running -= 1
            await self._wake_public()
        return answer

    async def _public_turn(self) -> None:
        """At most :data:`PUBLIC_PER_TURN` public answers per turn of the loop: however many
        readers there are, the loop comes round to an alert, a health check or a thread's
        finished answer within a few milliseconds."""
        if self._permits > 0 and not self._turn_waiters:
            self._permits -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._turn_waiters.append(waiter)
        if not self._refill_armed:
            self._refill_armed = True
            asyncio.get_running_loop().call_soon(self._refill)
        await waiter

    def _refill(self) -> None:
        self._permits = PUBLIC_PER_TURN
        while self._permits and self._turn_waiters:
            waiter = self._turn_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._permits -= 1
        self._refill_armed = bool(self._turn_waiters)
        if self._refill_armed:
            asyncio.get_running_loop().call_soon(self._refill)
        else:
            self._permits = PUBLIC_PER_TURN

    def _public_admits(self) -> bool:
        room = 1 if self.priority_active else self.limits.public_threads
        return self.public_running < room

    async def _wake_public(self) -> None:
        cond = self._public_free
        if cond is not None:
            async with cond:
                cond.notify_all()

    async def _run(self, pool: ThreadPoolExecutor, request: Request) -> bytes:
        loop = asyncio.get_running_loop()
        environ = wsgi_environ(request, self.host, self.port)
        return await loop.run_in_executor(pool, call_app, self.app, environ, request)


# -- the command ------------------------------------------------------------------------------


def raise_file_limit(wanted: int) -> int:
    """As many open files as the machine allows, up to ``wanted``; the number granted."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def serve(
    app: Any, rt: Runtime, host: str, port: int, limits: Limits, *, reuse_port: bool = False
) -> None:
    """Run until SIGTERM or SIGINT."""
    files = raise_file_limit(limits.max_connections + 200)
    limits.max_connections = min(limits.max_connections, files - 200)

    # The loop thread hands the interpreter to a waiting lane thread (an alert) within 1 ms,
    # not the default 5 ms, each time that thread returns from the database.
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    async def main() -> None:
        server = Server(app, rt, host, port, limits)
        await server.start(reuse_port=reuse_port)
        # What start-up made lives as long as the process: out of the collector's full passes,
        # which otherwise stop every thread and the loop for tens of milliseconds under load.
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 20, 50)
        log.info(
            "serving on http://%s:%d (%d connections at most, %d per address)",
            host,
            server.port,
            limits.max_connections,
            limits.per_address,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await server.close()

    asyncio.run(main())
