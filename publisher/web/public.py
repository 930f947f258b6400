"""The residents' side: public pages, feeds, calendars, QR codes and their short links.

Server-rendered HTML (no JavaScript), made for phones and elderly readers. Everything here is
read-only except ``/q/<code>``, which counts a scan. Every answer carries an ETag and
``Cache-Control`` so a CDN, a feed reader or a phone can revalidate with a cheap 304.

Public item pages: an approved, published item answers 200 (after its window it still does,
with a note, because printed QR codes keep pointing at it); a withdrawn item answers
410 Gone with a short note; drafts, items not yet published and private CAP messages
(System/Draft) answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request

from publisher.areas import LANGUAGES, Area
from publisher.errors import NotFound, PublisherError
from publisher.items import CATEGORIES, Item, local_day_start, utcnow
from publisher.plan.residents import (
    day_text,
    feed_areas,
    in_calendar,
    is_drill,
    last_modified,
    mark,
    marked_title,
    newest_first,
    published_at,
    resolve_feed,
    versions_etag,
    when_text,
)
from publisher.plan.screens import EMERGENCY_LANGS
from publisher.render.feeds import feed_mimetype, render_feed
from publisher.render.ical import render_calendar
from publisher.render.qr import qr_png, qr_svg
from publisher.render.slides import alert_label
from publisher.store.content import visible_items
from publisher.store.public import calendar_candidates, feed_items, feed_versions, public_item
from publisher.store.reach import count_scan as count_item_scan
from publisher.store.shortlinks import code_for, count_scan, parse_item_code, path_for
from publisher.web import runtime
from publisher.web.caching import (
    QR_MAX_AGE_S,
    FeedFastPath,
    answer_304,
    cached,
    feed_cache,
    not_modified,
    read_cache,
    respond,
)
from publisher.web.links import relative_href
from publisher.web.reach import CountingMiddleware, note

bp = Blueprint("public", __name__)


@bp.record_once
def _hold_feeds(state: Any) -> None:
    """Answer fresh held feeds before routing (see :class:`FeedFastPath`)."""
    app = state.app
    cache = feed_cache(app.extensions["publisher"])
    if app.config.get("PUBLISHER_FEED_REVALIDATE_S") is not None:
        cache.revalidate_s = float(app.config["PUBLISHER_FEED_REVALIDATE_S"])
    app.wsgi_app = FeedFastPath(app.wsgi_app, cache)
    # outermost: page views and feed readers are counted whoever answers
    rt = app.extensions["publisher"]
    app.wsgi_app = CountingMiddleware(
        app.wsgi_app,
        rt,
        lambda: app.config.get("PUBLISHER_CLOCK", utcnow)(),
        lambda: not app.config.get("TESTING"),
    )
    read_cache(rt).on_hit = lambda path, query, address, agent: note(
        rt, path, query, address, agent, utcnow()
    )


QR_SIZE_PX = 360
QR_MIMETYPES = {"png": "image/png", "svg": "image/svg+xml"}
HTML = "text/html"


def clock() -> datetime:
    """Now, or the app's injected clock (tests and the static export freeze it)."""
    now: Callable[[], datetime] = current_app.config.get("PUBLISHER_CLOCK", utcnow)
    return now()


def exporting() -> bool:
    """True while :func:`publisher.web.site.build_site` renders the static export."""
    return bool(current_app.config.get("PUBLISHER_STATIC_EXPORT"))


# -- pages -------------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    """The ward: current ward-wide alerts, then its regions and districts."""
    rt = runtime()
    at = clock()
    ward = rt.tree.ward
    with rt.session() as session:
        ward_items = [i for i in visible_items(session, rt.tree, ward.code, at)]
    alerts = _alerts(ward_items)
    notices = newest_first(i for i in ward_items if i.kind == "notice")[:10]
    regions = [
        (rt.tree.get(r), [rt.tree.get(d) for d in rt.tree.get(r).children]) for r in ward.children
    ]
    return _page(
        "public/index.html",
        title=f"{ward.display_name}の地区情報 / {ward.display_name_en} district information",
        ward=ward,
        alerts=alerts,
        notices=notices,
        regions=regions,
    )


@bp.get("/areas/<path:code>")
def area(code: str) -> Response:
    """An area: alerts on top, current notices, upcoming events, and how to subscribe."""
    rt = runtime()
    place = rt.tree.get(code)
    at = clock()
    with rt.session() as session:
        items = visible_items(session, rt.tree, code, at)
    today = local_day_start(at)
    events = sorted(
        (
            i
            for i in items
            if i.kind == "event"
            and i.event_starts_at is not None
            and (i.event_ends_at or i.event_starts_at) >= today
        ),
        key=lambda i: (i.event_starts_at, i.id),
    )
    feeds = [
        (label, f"/feeds/{code}.{fmt}", f"{fmt}~{code.replace('/', '~')}", help_text)
        for label, fmt, help_text in (
            ("RSS", "rss", "フィードリーダーで購読"),
            ("Atom", "atom", "フィードリーダーで購読"),
            ("カレンダー（iCal）", "ics", "スマートフォンのカレンダーに行事を追加"),
        )
    ]
    return _page(
        "public/area.html",
        title=f"{place.short_name}のお知らせ / {place.display_name_en}",
        area=place,
        crumbs=[rt.tree.get(c) for c in reversed(rt.tree.ancestors(code))],
        children=[rt.tree.get(c) for c in place.children],
        alerts=_alerts(items),
        notices=newest_first(i for i in items if i.kind == "notice"),
        events=events,
        feeds=feeds,
    )


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Response:
    """One item in full, in the reader's language, with its date, place, map and QR code."""
    rt = runtime()
    with rt.session() as session:
        found, state = public_item(session, item_id, clock())
    if state == "withdrawn":
        return _page(
            "public/gone.html", status=410, title="この情報は取り下げられました", item=found
        )
    lang = request.args.get("lang", "ja")
    if lang not in found.languages:
        lang = "ja"
    text = found.text(lang)
    english = found.text("en").title if "en" in found.languages else ""
    issuer = rt.tree.issuer(found.targets)
    return _page(
        "public/item.html",
        title=marked_title(found) + (f" / {marked_title(found, 'en')}" if english else ""),
        item=found,
        state=state,
        lang=lang,
        text=text,
        heading=marked_title(found, lang),
        paragraphs=[p.strip() for p in text.body.splitlines() if p.strip()],
        issuer=issuer,
        crumbs=[rt.tree.get(c) for c in reversed(rt.tree.lineage(issuer.code))],
        targets=[rt.tree.get(t) for t in found.targets],
        published=day_text(published_at(found)),
        map_url=_map_url(found),
        qr_alt=f"このページ（{found.title}）を開くQRコード",
    )


# -- feeds and calendars ------------------------------------------------------------------------


@bp.get("/feeds/<path:stem>.<any(rss, atom, ics):fmt>")
def feed(stem: str, fmt: str) -> Response:
    """RSS 2.0 / Atom 1.0 of an area (or a category, or a region with its districts); iCal."""
    rt = runtime()
    at = clock()
    base = rt.settings.base_url
    if fmt == "ics":
        place = rt.tree.get(stem)
        with rt.session() as session:
            events = in_calendar(calendar_candidates(session, rt.tree, stem), at)
        etag = versions_etag("ics", stem, base, [(e.id, e.updated_at, e.revision) for e in events])
        if not_modified(etag):
            _renew(etag)
            return answer_304(etag)
        body = render_calendar(events, place, base)
        _hold(etag, None, body, "text/calendar")
        return cached(Response(body, mimetype="text/calendar"), etag)
    spec = resolve_feed(rt.tree, stem)
    with rt.session() as session:
        areas = feed_areas(rt.tree, spec)
        versions = feed_versions(session, areas, spec.category, at)
        etag = versions_etag(fmt, spec.stem, base, versions)
        changed = last_modified(versions)
        if not_modified(etag, changed):
            _renew(etag)
            return answer_304(etag, changed)
        items = newest_first(feed_items(session, areas, spec.category, at))
    body = render_feed(items, spec, base, fmt)
    _hold(etag, changed, body, feed_mimetype(fmt))
    return cached(Response(body, mimetype=feed_mimetype(fmt)), etag, changed)


def _renew(etag: str) -> None:
    if "PUBLISHER_CLOCK" not in current_app.config:
        feed_cache(runtime()).renew(request.path, etag)


def _hold(etag: str, changed: datetime | None, body: bytes, mimetype: str) -> None:
    # Only feeds of the real clock are held: a frozen clock (export, tests) asks each time.
    if "PUBLISHER_CLOCK" not in current_app.config:
        feed_cache(runtime()).put(request.path, etag, changed, body, mimetype)


# -- QR codes and short links -------------------------------------------------------------------


@bp.get("/qr/<path:target>.<any(png, svg):ext>")
def qr(target: str, ext: str) -> Response:
    """The QR code of a public page or feed: ``/qr/items/42.png``, ``/qr/feeds/<code>.ics.svg``."""
    rt = runtime()
    path = "/" + target
    code = code_for(path)
    # In the static export there is no /q/ redirect: the code points straight at the page.
    payload = rt.settings.base_url + path if exporting() else rt.qr_url(code)
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
    a slide's code names its language and screen (``i42~en~daizawa-1``)."""
    path = path_for(code)
    _check_target(path)
    rt = runtime()
    item = parse_item_code(code)
    lang = screen = None
    if item is not None:
        _, lang, screen = item
        if lang is not None and lang not in EMERGENCY_LANGS:
            raise NotFound(f"unknown language '{lang}' in short link '{code}'")
        if screen is not None and screen not in rt.tree.screens:
            raise NotFound(f"unknown screen '{screen}' in short link '{code}'")
    with rt.session() as session:
        count_scan(session, code, clock())
        if item is not None:
            count_item_scan(session, item[0], lang or "", screen or "", clock())
    target = f"{path}?lang={lang}" if lang else path
    response = redirect(target, code=302)
    response.headers["Cache-Control"] = "no-store"  # every scan must reach us to be counted
    return response


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


# -- helpers ------------------------------------------------------------------------------------


@bp.errorhandler(PublisherError)
def not_found(e: PublisherError) -> Any:
    """Residents get a page, never JSON or a traceback."""
    status = e.status if isinstance(e, NotFound) else 400
    body = render_template(
        "public/error.html", title="ページが見つかりません", message=str(e), **_helpers()
    )
    return Response(body, status=status, mimetype=HTML)


def _alerts(items: list[Item]) -> list[Item]:
    alerts = [i for i in items if i.kind == "alert"]
    return sorted(alerts, key=lambda i: (not i.is_emergency, is_drill(i), -(i.id or 0)))


def _map_url(item: Item) -> str | None:
    p = item.place
    if p is None or p.lat is None or p.lon is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={p.lat:.5f}&mlon={p.lon:.5f}#map=17/{p.lat:.5f}/{p.lon:.5f}"


def _helpers() -> dict[str, Any]:
    here = request.full_path.rstrip("?")

    def href(url: str) -> str:
        return relative_href(url, here) if exporting() else url

    def area_link(a: Area) -> str:
        return href(f"/areas/{a.code}")

    return {
        "href": href,
        "area_link": area_link,
        "item_link": lambda i, lang=None: href(
            f"/items/{i.id}" + (f"?lang={lang}" if lang else "")
        ),
        "qr_src": lambda path: href(f"/qr{path}.png"),
        "marked_title": marked_title,
        "alert_label": lambda i, lang="ja": alert_label(
            i, lang, i.alert.warning_level if i.alert else None
        ),
        "mark": mark,
        "is_drill": is_drill,
        "when_text": when_text,
        "day_text": day_text,
        "published_at": published_at,
        "issuer_of": lambda i: runtime().tree.issuer(i.targets),
        "categories": CATEGORIES,
        "languages": LANGUAGES,
        "html_lang": lambda lang: "ja" if lang.startswith("ja") else lang,
        "base_url": runtime().settings.base_url,
    }


# Residents' pages are plain HTML and CSS from this site: nothing else may load or run, even if
# text ever slipped through unescaped.
PUBLIC_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == HTML:
        response.headers.setdefault("Content-Security-Policy", PUBLIC_CSP)
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    """Render, then answer 200 or 304 by the hash of the bytes (pages are small)."""
    body = render_template(template, **context, **_helpers()).encode()
    etag = versions_etag("page", body)
    if status != 200:
        return cached(Response(body, status=status, mimetype=HTML), etag)
    return respond(body, HTML, etag)
