"""Conditional GET for the public side: ETag, Last-Modified, 304 and a CDN-friendly
``Cache-Control``.

A view first works out its ETag from what decides its bytes (cheap: ids and times), asks
:func:`not_modified`, and only builds the body when the reader does not already have it.

Feeds are polled far more than they change, so each process also holds the feeds it answered
for a few seconds (:class:`FeedCache`, by path and ``?lang=``: each language's feed is held and
ETagged on its own); :class:`FeedFastPath` answers a held feed before Flask even routes the
request. A change made by this process clears the cache at once; a change
made elsewhere (another web process, the CLI) shows after at most :data:`FEED_REVALIDATE_S`
seconds — well inside the minute that ``Cache-Control`` already allows any reader to keep it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote
from weakref import WeakKeyDictionary

from flask import Response, request
from werkzeug.http import http_date, parse_date, parse_etags, unquote_etag

from publisher.web.i18n import normalise

PAGE_MAX_AGE_S = 60  # pages and feeds: a minute of CDN/browser caching, then revalidate
QR_MAX_AGE_S = 30 * 86400  # a QR image never changes for the same target


def not_modified(etag: str, last_modified: datetime | None = None) -> bool:
    """Does the reader already hold this version? ``If-None-Match`` wins over
    ``If-Modified-Since`` (RFC 9110 §13.2.2)."""
    if request.if_none_match:
        return request.if_none_match.contains(etag)
    if last_modified is not None and request.if_modified_since is not None:
        return last_modified.replace(microsecond=0) <= request.if_modified_since
    return False


def cached(
    response: Response,
    etag: str,
    last_modified: datetime | None = None,
    max_age_s: int = PAGE_MAX_AGE_S,
) -> Response:
    """Put the validators and ``Cache-Control`` on a response (200 or 304)."""
    response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = last_modified.replace(microsecond=0)
    response.headers["Cache-Control"] = f"public, max-age={max_age_s}"
    return response


def answer_304(
    etag: str, last_modified: datetime | None = None, max_age_s: int = PAGE_MAX_AGE_S
) -> Response:
    return cached(Response(status=304), etag, last_modified, max_age_s)


def respond(
    body: bytes | str,
    mimetype: str,
    etag: str,
    last_modified: datetime | None = None,
    max_age_s: int = PAGE_MAX_AGE_S,
) -> Response:
    """200 with the body, or 304 when the reader's copy is current."""
    if not_modified(etag, last_modified):
        return answer_304(etag, last_modified, max_age_s)
    return cached(Response(body, mimetype=mimetype), etag, last_modified, max_age_s)


# -- feeds held in memory ------------------------------------------------------------------------

FEED_REVALIDATE_S = 5.0  # another process's change reaches readers within this; ours at once
FEED_CACHE_ENTRIES = 2048


@dataclass(frozen=True)
class Held:
    """One feed as last answered: enough to answer the next reader without the database."""

    etag: str
    last_modified: datetime | None
    body: bytes
    mimetype: str
    fresh_until: float  # time.monotonic()

    @property
    def http_last_modified(self) -> str:
        return http_date(self.last_modified) if self.last_modified else ""


class FeedCache:
    """Feeds by path, fresh for :data:`FEED_REVALIDATE_S` seconds and forgotten as soon as
    this process changes an item. Feed readers revalidate often and most get a 304: this
    keeps that path off the database and out of Flask (see :class:`FeedFastPath`)."""

    def __init__(self, revalidate_s: float = FEED_REVALIDATE_S):
        self.revalidate_s = revalidate_s
        self._held: OrderedDict[str, Held] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: str) -> Held | None:
        held = self._held.get(path)
        if held is None or held.fresh_until < time.monotonic():
            return None
        return held

    def put(
        self, path: str, etag: str, last_modified: datetime | None, body: bytes, mimetype: str
    ) -> None:
        held = Held(etag, last_modified, body, mimetype, time.monotonic() + self.revalidate_s)
        with self._lock:
            self._held[path] = held
            self._held.move_to_end(path)
            while len(self._held) > FEED_CACHE_ENTRIES:
                self._held.popitem(last=False)

    def renew(self, path: str, etag: str) -> None:
        """The database says the held bytes are still current: keep answering them."""
        with self._lock:
            held = self._held.get(path)
            if held is not None and held.etag == etag:
                fresh_until = time.monotonic() + self.revalidate_s
                self._held[path] = Held(
                    held.etag, held.last_modified, held.body, held.mimetype, fresh_until
                )

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


_CACHES: WeakKeyDictionary[Any, FeedCache] = WeakKeyDictionary()


def held_feed_key(path: str, lang: str) -> str:
    """What a feed is held under: its path, and its language unless Japanese (the default)."""
    return path if lang == "ja" else f"{path}?lang={lang}"


def feed_key_of(path: str, query: str) -> str | None:
    """The held feed a request asks for: none but ``?lang=`` (of the six) may be in its query;
    ``None`` for any other query, which only the app answers."""
    if not query:
        return path
    name, _, value = query.partition("=")
    lang = normalise(unquote(value)) if name == "lang" and "&" not in value else None
    return None if lang is None else held_feed_key(path, lang)


def feed_cache(rt: Any) -> FeedCache:
    """The feed cache of a runtime (one per process and database)."""
    cache = _CACHES.get(rt)
    if cache is None:
        cache = _CACHES.setdefault(rt, FeedCache())
    return cache


def forget_feeds(rt: Any, item_ids: set[int]) -> None:
    """Change listener (``runtime.CHANGE_LISTENERS``): an item changed, feeds and every held
    public read are stale."""
    cache = _CACHES.get(rt)
    if cache is not None:
        cache.clear()
    reads = _READS.get(rt)
    if reads is not None:
        reads.clear()


# -- public reads held by the server ---------------------------------------------------------

READ_HOLD_S = 2.0  # another process's change shows after this; this process's at once
READ_CACHE_ENTRIES = 1024
READ_CACHE_MAX_BYTES = 2 * 1024 * 1024  # one answer bigger than this is not held
# What any reader may share: the residents' pages and feeds, QR images, the public item API.
READ_CACHED_PREFIXES = ("/api/items", "/api/areas", "/feeds/", "/areas/", "/items/", "/qr/")


class ReadCache:
    """Whole HTTP answers of public GETs, by request, for :data:`READ_HOLD_S` seconds.

    :class:`publisher.web.server.Server` asks before it queues a public read for a thread and
    keeps what the app answered, so two hundred readers of the same page cost one render every
    two seconds. Only answers that any reader may see are held: 200, no ``Set-Cookie``, no
    ``private``/``no-store``, and requests without cookies or credentials. A reader holding
    the answer's ETag gets a 304."""

    def __init__(self, hold_s: float = READ_HOLD_S):
        self.hold_s = hold_s
        self._held: OrderedDict[tuple[str, ...], tuple[float, str, bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        # (path, query, address, User-Agent) of each answer given: reach counts (web/reach.py)
        self.on_hit: Any = None

    @staticmethod
    def key(request: Any) -> tuple[str, ...] | None:
        headers = request.headers
        if request.method not in ("GET", "HEAD") or "cookie" in headers:
            return None
        if "authorization" in headers or "x-screen-token" in headers:
            return None
        path = request.path
        if path != "/" and not path.startswith(READ_CACHED_PREFIXES):
            return None
        return (
            request.method,
            request.target,
            headers.get("accept", ""),
            headers.get("accept-language", ""),
        )

    def answer(self, request: Any, *, stale: bool = False) -> bytes | None:
        """The held answer to this request (or a 304), or None; ``stale``: even one past
        :data:`READ_HOLD_S` (while a fresh one is being made), never one a change dropped."""
        key = self.key(request)
        if key is None:
            return None
        held = self._held.get(key)
        if held is None or (held[0] < time.monotonic() and not stale):
            return None
        _, etag, head, body = held
        self.hits += 1
        if self.on_hit is not None:
            self.on_hit(
                request.path, request.query, request.peer[0], request.headers.get("user-agent", "")
            )
        connection = b"keep-alive" if request.keep_alive else b"close"
        if etag and etag in parse_etags(request.headers.get("if-none-match")).as_set(True):
            status_end = head.index(b"\r\n")
            lines = [b"HTTP/1.1 304 Not Modified"] + [
                line
                for line in head[status_end + 2 :].split(b"\r\n")
                if line.lower().startswith((b"etag:", b"cache-control:", b"last-modified:"))
            ]
            return b"\r\n".join([*lines, b"Connection: " + connection, b"", b""])
        return head + b"Connection: " + connection + b"\r\n\r\n" + body

    def keep(self, request: Any, answer: bytes) -> None:
        """Hold the app's answer if any reader may share it."""
        key = self.key(request)
        if (
            key is None
            or not answer.startswith(b"HTTP/1.1 200 ")
            or len(answer) > READ_CACHE_MAX_BYTES
        ):
            return
        end = answer.index(b"\r\n\r\n")
        head, body = answer[: end + 2], answer[end + 4 :]
        lower = head.lower()
        if b"\r\nset-cookie:" in lower or b"no-store" in lower or b"private" in lower:
            return
        kept = b"".join(
            line + b"\r\n"
            for line in head.split(b"\r\n")
            if line and not line.lower().startswith(b"connection:")
        )
        etag = ""
        for line in kept.split(b"\r\n"):
            if line.lower().startswith(b"etag:"):
                etag = unquote_etag(line.split(b":", 1)[1].strip().decode("latin-1"))[0] or ""
        with self._lock:
            self._held[key] = (time.monotonic() + self.hold_s, etag, kept, body)
            self._held.move_to_end(key)
            while len(self._held) > READ_CACHE_ENTRIES:
                self._held.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._held.clear()


_READS: WeakKeyDictionary[Any, ReadCache] = WeakKeyDictionary()


def read_cache(rt: Any) -> ReadCache:
    """The held public reads of a runtime (one per process and database)."""
    cache = _READS.get(rt)
    if cache is None:
        cache = _READS.setdefault(rt, ReadCache())
    return cache


class FeedFastPath:
    """WSGI middleware: a GET for a feed held fresh in :class:`FeedCache` is answered before
    Flask routes it — 304 when the reader's ETag matches, else the held bytes."""

    def __init__(self, app: Any, cache: FeedCache, max_age_s: int = PAGE_MAX_AGE_S):
        self.app = app
        self.cache = cache
        self.cache_control = f"public, max-age={max_age_s}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "GET" and path.startswith("/feeds/"):
            key = feed_key_of(path, environ.get("QUERY_STRING", ""))
            held = self.cache.get(key) if key is not None else None
            if held is not None:
                return self._answer(held, environ, start_response)
        return self.app(environ, start_response)

    def _answer(self, held: Held, environ: dict[str, Any], start_response: Any) -> Any:
        headers = [("ETag", f'"{held.etag}"'), ("Cache-Control", self.cache_control)]
        if held.last_modified is not None:
            headers.append(("Last-Modified", held.http_last_modified))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and (
            if_none_match == headers[0][1] or parse_etags(if_none_match).contains(held.etag)
        ):
            start_response("304 NOT MODIFIED", headers)
            return [b""]
        if not environ.get("HTTP_IF_NONE_MATCH") and held.last_modified is not None:
            since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
            if since is not None and held.last_modified.replace(microsecond=0) <= since:
                start_response("304 NOT MODIFIED", headers)
                return [b""]
        headers += [
            ("Content-Type", f"{held.mimetype}; charset=utf-8"),
            ("Content-Length", str(len(held.body))),
        ]
        start_response("200 OK", headers)
        return [held.body]
