"""Conditional GET for the public side: ETag, Last-Modified, 304 and a CDN-friendly
``Cache-Control``.

A view first works out its ETag from what decides its bytes (cheap: ids and times), asks
:func:`not_modified`, and only builds the body when the reader does not already have it.

Feeds are polled far more than they change, so each process also holds the feeds it answered
for a few seconds (:class:`FeedCache`); :class:`FeedFastPath` answers a held feed before Flask
even routes the request. A change made by this process clears the cache at once; a change
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
from weakref import WeakKeyDictionary

from flask import Response, request
from werkzeug.http import http_date, parse_date, parse_etags

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


def feed_cache(rt: Any) -> FeedCache:
    """The feed cache of a runtime (one per process and database)."""
    cache = _CACHES.get(rt)
    if cache is None:
        cache = _CACHES.setdefault(rt, FeedCache())
    return cache


def forget_feeds(rt: Any, item_ids: set[int]) -> None:
    """Change listener (``runtime.CHANGE_LISTENERS``): an item changed, feeds are stale."""
    cache = _CACHES.get(rt)
    if cache is not None:
        cache.clear()


class FeedFastPath:
    """WSGI middleware: a GET for a feed held fresh in :class:`FeedCache` is answered before
    Flask routes it — 304 when the reader's ETag matches, else the held bytes."""

    def __init__(self, app: Any, cache: FeedCache, max_age_s: int = PAGE_MAX_AGE_S):
        self.app = app
        self.cache = cache
        self.cache_control = f"public, max-age={max_age_s}"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") == "GET"
            and path.startswith("/feeds/")
            and not environ.get("QUERY_STRING")
        ):
            held = self.cache.get(path)
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
