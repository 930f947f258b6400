"""QR codes and the short links they encode: ``/qr/<target>.png|svg`` draws the code of a public
page or feed, ``/q/<code>`` counts a scan (per code and day; a slide's code also per item,
language and screen — nothing personal) and sends the reader on.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, redirect, request

from publisher.errors import NotFound, PublisherError
from publisher.plan.residents import resolve_feed, versions_etag
from publisher.plan.screens import EMERGENCY_LANGS
from publisher.render.qr import qr_png, qr_svg
from publisher.store.public import public_item
from publisher.store.reach import POSTER
from publisher.store.reach import count_scan as count_item_scan
from publisher.store.shortlinks import (
    code_for,
    count_scan,
    parse_feed_code,
    parse_item_code,
    parse_poster_code,
    path_for,
)
from publisher.web import runtime
from publisher.web.caching import QR_MAX_AGE_S, answer_304, cached, not_modified
from publisher.web.page_headers import security_headers
from publisher.web.public import clock, exporting, not_found

bp = Blueprint("qrcodes", __name__)
bp.after_request(security_headers)  # the same headers as every answer to residents
bp.register_error_handler(PublisherError, not_found)  # the residents' 404 page, in their language

QR_SIZE_PX = 360
QR_MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}


@bp.get("/qr/<path:target>.<any(png, svg):ext>")
def qr(target: str, ext: str) -> Response:
    """The QR code of a public page or feed: ``/qr/items/42.png``, ``/qr/feeds/<code>.ics.svg``;
    ``?lang=`` opens an RSS or Atom feed in that language (``/qr/feeds/<code>.rss.png?lang=en``)."""
    rt = runtime()
    path = "/" + target
    lang = _language(request.args.get("lang"), path)
    code = code_for(path, lang)
    query = f"?lang={lang}" if lang else ""
    # In the static export there is no /q/ redirect: the code points straight at the page.
    payload = rt.settings.base_url + path + query if exporting() else rt.qr_url(code)
    etag = versions_etag("qr", payload, ext, QR_SIZE_PX)
    if not_modified(etag):
        return answer_304(etag, max_age_s=QR_MAX_AGE_S)
    _check_target(path)
    response = Response(_qr_image(payload, ext), mimetype=QR_MIMETYPES[ext])
    return cached(response, etag, max_age_s=QR_MAX_AGE_S)


@lru_cache(maxsize=1024)
def _qr_image(payload: str, ext: str) -> bytes:
    """QR images are pure functions of their payload; drawing one takes tens of ms."""
    return qr_png(payload, QR_SIZE_PX) if ext == "png" else qr_svg(payload)


@bp.get("/q/<code>")
def short_link(code: str) -> Any:
    """A scanned QR code: count it for the day (no personal data) and send the reader on;
    a slide's code names its language and screen (``i42~en~daizawa-1``), a poster's and a
    feed's their language (``p42~en``, ``rss~setagaya~kitazawa~daizawa~~en``)."""
    path = path_for(code)
    _check_target(path)
    rt = runtime()
    item = parse_item_code(code)
    poster = parse_poster_code(code)
    if poster is not None:
        item = (poster[0], poster[1], None)
    feed = parse_feed_code(code)
    lang = feed[1] if feed is not None else None
    screen = None
    if item is not None:
        _, lang, screen = item
    if lang is not None and lang not in EMERGENCY_LANGS:
        raise NotFound(f"unknown language '{lang}' in short link '{code}'")
    if screen is not None and screen not in rt.tree.screens:
        raise NotFound(f"unknown screen '{screen}' in short link '{code}'")
    with rt.session() as session:
        count_scan(session, code, clock())
        if item is not None:
            medium = POSTER if poster is not None else ""
            count_item_scan(session, item[0], lang or "", screen or "", clock(), medium)
    target = f"{path}?lang={lang}" if lang else path
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"  # every scan must reach us to be counted
    return response


def _language(raw: str | None, path: str) -> str | None:
    """A QR code's ``?lang=``: one of the six, None for Japanese or none; 404 otherwise."""
    if raw is None or raw == "ja":
        return None
    if raw not in EMERGENCY_LANGS:
        raise NotFound(f"unknown language {raw[:20]!r} for the QR code of '{path}'")
    return raw


def _check_target(path: str) -> None:
    """404 unless ``path`` is a public page or feed that exists now."""
    rt = runtime()
    kind, _, rest = path.lstrip("/").partition("/")
    if kind == "items":
        if not (rest.isascii() and rest.isdigit()):
            raise NotFound(f"no item {rest}")
        with rt.session() as session:
            public_item(session, int(rest), clock())
    elif kind == "areas":
        rt.tree.get(rest)
    elif rest.endswith(".ics"):
        rt.tree.get(rest.removesuffix(".ics"))
    else:
        resolve_feed(rt.tree, rest.rsplit(".", 1)[0])
