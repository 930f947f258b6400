"""Conditional GET for the public side: ETag, Last-Modified, 304 and a CDN-friendly
``Cache-Control``.

A view first works out its ETag from what decides its bytes (cheap: ids and times), asks
:func:`not_modified`, and only builds the body when the reader does not already have it.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, request

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


def answer_304(etag: str, last_modified: datetime | None = None, max_age_s: int = PAGE_MAX_AGE_S):  # type: ignore[no-untyped-def]
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
