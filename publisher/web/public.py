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

import re
import tomllib
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    render_template,
    request,
)
from werkzeug.exceptions import HTTPException

from publisher.areas import LANGUAGES, Area
from publisher.errors import NotFound, PublisherError
from publisher.items import CATEGORIES, Item, local_day_start, utcnow
from publisher.plan.residents import (
    feed_areas,
    in_calendar,
    is_drill,
    last_modified,
    marked_title,
    newest_first,
    published_at,
    resolve_feed,
    versions_etag,
)
from publisher.render.feeds import feed_mimetype, render_feed
from publisher.render.ical import render_calendar
from publisher.render.ruby import easy_ruby
from publisher.render.slides import alert_label
from publisher.store.content import visible_items
from publisher.store.public import calendar_candidates, feed_items, feed_versions, public_item
from publisher.web import runtime
from publisher.web.caching import (
    FeedFastPath,
    answer_304,
    cached,
    feed_cache,
    held_feed_key,
    not_modified,
    read_cache,
    respond,
)
from publisher.web.i18n import (
    COOKIE,
    Messages,
    choose_language,
    html_lang,
    normalise,
)
from publisher.web.links import relative_href
from publisher.web.page_headers import NOTIFY_CSP, PUBLIC_CSP, security_headers
from publisher.web.pictures import picture_of
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
    t = Messages(reader_language())
    with rt.session() as session:
        ward_items = [i for i in visible_items(session, rt.tree, ward.code, at)]
    alerts = _alerts(ward_items)
    notices = newest_first(i for i in ward_items if i.kind == "notice")[:10]
    regions = [
        (rt.tree.get(r), [rt.tree.get(d) for d in rt.tree.get(r).children]) for r in ward.children
    ]
    return _page(
        "public/index.html",
        title=t("index_title", ward=t.area(ward)),
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
    t = Messages(reader_language())
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
    # the reader's language rides on the feed links (not in the static copy: its feeds are Japanese)
    feed_query = "" if exporting() or t.lang == "ja" else f"?lang={t.lang}"
    # (label, link, help): each feed's QR code opens the same link (see ``qr_src``)
    feeds = [
        (label, f"/feeds/{code}.{fmt}" + ("" if fmt == "ics" else feed_query), t(help_key))
        for label, fmt, help_key in (
            ("RSS", "rss", "feed_reader_help"),
            ("Atom", "atom", "feed_reader_help"),
            (t("feed_calendar"), "ics", "feed_calendar_help"),
        )
    ]
    crumbs = [rt.tree.get(c) for c in reversed(rt.tree.ancestors(code))]
    offices = t("list_sep").join(t.office(a) for a in [place, *reversed(crumbs)])
    response = _page(
        "public/area.html",
        title=t("area_title", area=t.area(place)),
        area=place,
        crumbs=crumbs,
        offices=offices,
        children=[rt.tree.get(c) for c in place.children],
        alerts=_alerts(items),
        notices=newest_first(i for i in items if i.kind == "notice"),
        events=events,
        feeds=feeds,
        feed_query=feed_query,
        notify=not exporting(),  # a static copy has no server to subscribe with
        bulletin=_bulletin_link(place),
    )
    if not exporting():  # the notifications sign-up runs our own script, nothing inline
        response.headers["Content-Security-Policy"] = PUBLIC_CSP + NOTIFY_CSP
    return response


def _bulletin_link(place: Area) -> str | None:
    """A district's weekly bulletin (PDF) in the reader's language; not in the static copy,
    which has no server to lay one out."""
    if place.tier != "district" or exporting():
        return None
    lang = reader_language()
    return f"/areas/{place.code}/bulletin.pdf" + ("" if lang == "ja" else f"?lang={lang}")


@bp.get("/items/<int:item_id>")
def item(item_id: int) -> Response:
    """One item in full, in the reader's language, with its date, place, map and QR code."""
    rt = runtime()
    lang = reader_language()
    t = Messages(lang)
    with rt.session() as session:
        found, state = public_item(session, item_id, clock())
    if state == "withdrawn":
        return _page(
            "public/gone.html", status=410, title=t("gone_title"), gone=found.text(lang).title
        )
    # The page speaks the reader's language; the item's own words fall back to Japanese.
    content_lang = lang if lang in found.languages else "ja"
    text = found.text(content_lang)
    issuer = rt.tree.issuer(found.targets)
    return _page(
        "public/item.html",
        title=marked_title(found, content_lang),
        item=found,
        state=state,
        content_lang=content_lang,
        text=text,
        heading=marked_title(found, content_lang),
        paragraphs=[p.strip() for p in text.body.splitlines() if p.strip()],
        issuer=issuer,
        crumbs=[rt.tree.get(c) for c in reversed(rt.tree.lineage(issuer.code))],
        targets=[rt.tree.get(code) for code in found.targets],
        published=t.date(published_at(found)),
        map_url=_map_url(found),
        qr_alt=t("qr_alt", title=text.title),
        picture=picture_of(found, lang),
    )


@bp.get("/accessibility")
def accessibility() -> Response:
    """The accessibility statement: the target, how the pages are checked, the latest results."""
    return _page(
        "public/accessibility.html",
        title=Messages(reader_language())("a11y_title"),
        results=accessibility_results(),
        # the pages as the test lists them, with "…" for the ids of the items it makes
        checked=[re.sub(r"\{\w+\}", "…", p) for p in accessibility_results()["pages"]],
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
    lang = _feed_language()
    key = held_feed_key(request.path, lang)
    spec = resolve_feed(rt.tree, stem)
    with rt.session() as session:
        areas = feed_areas(rt.tree, spec)
        versions = feed_versions(session, areas, spec.category, at)
        etag = versions_etag(fmt, spec.stem, base, versions, *(() if lang == "ja" else (lang,)))
        changed = last_modified(versions)
        if not_modified(etag, changed):
            _renew(etag, key)
            return answer_304(etag, changed)
        items = newest_first(feed_items(session, areas, spec.category, at))
    calendar = None if lang == "ja" else Messages(lang)
    body = render_feed(items, spec, base, fmt, image_sizes(rt, items), lang, calendar)
    _hold(etag, changed, body, feed_mimetype(fmt), key)
    return cached(Response(body, mimetype=feed_mimetype(fmt)), etag, changed)


def _feed_language() -> str:
    """A feed's language: its ``?lang=`` (one of the six), else Japanese. Never the cookie or
    ``Accept-Language``: a feed's address alone says what it holds, so it can be shared."""
    raw = request.args.get("lang")
    if raw is None:
        return "ja"
    lang = normalise(raw)
    if lang is None:
        raise PublisherError(
            f"lang: unknown language {raw[:20]!r}; one of {', '.join(LANGUAGES)}", field="lang"
        )
    return lang


def image_sizes(rt: Any, items: list[Item]) -> dict[str, int]:
    """Each picture's length in bytes, for the feeds' enclosures."""
    sizes = {i.image: rt.image_size(i.image) for i in items if i.image}
    return {name: size for name, size in sizes.items() if size is not None}


def _renew(etag: str, key: str | None = None) -> None:
    if "PUBLISHER_CLOCK" not in current_app.config:
        feed_cache(runtime()).renew(key or request.path, etag)


def _hold(
    etag: str, changed: datetime | None, body: bytes, mimetype: str, key: str | None = None
) -> None:
    # Only feeds of the real clock are held: a frozen clock (export, tests) asks each time.
    if "PUBLISHER_CLOCK" not in current_app.config:
        feed_cache(runtime()).put(key or request.path, etag, changed, body, mimetype)


# -- QR codes and short links -------------------------------------------------------------------


# -- helpers ------------------------------------------------------------------------------------


@bp.errorhandler(PublisherError)
def not_found(e: PublisherError, detail: bool = False) -> Any:
    """Residents get a page in their language, never JSON or a traceback; ``detail``: a bad
    request's page also names the parameter and why (posters' and bulletins' ``?size=`` …)."""
    status = e.status if isinstance(e, NotFound) else 400
    kind = "not_found" if status == 404 else "bad_request"
    lang = reader_language()
    body = render_template(
        "public/error.html",
        title=Messages(lang)(f"{kind}_title"),
        kind=kind,
        message=str(e),
        detail=str(e) if detail and status == 400 else "",
        # the switch leads home: a missing page reads the same whatever its address (an
        # embargoed item's page must not differ from one that never existed)
        **{**page_helpers(), "here_path": "/"},
    )
    return Response(body, status=status, mimetype=HTML)


@bp.app_errorhandler(404)
def unknown_page(e: HTTPException) -> Any:
    """An address that is no page at all: residents get the same page in their language."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": e.description or e.name}), 404
    if request.path.startswith(STAFF_AND_SCREEN_PREFIXES):
        return e
    return not_found(NotFound(f"no page {request.path}"))


STAFF_AND_SCREEN_PREFIXES = ("/admin", "/play", "/slides/", "/audio/", "/healthz")


def reader_language() -> str:
    """The page's language (see :func:`publisher.web.i18n.choose_language`); the static export
    has no cookies and no browser to ask, so only ``?lang=`` counts there."""
    if "lang" not in g:
        arg = request.args.get("lang")
        if exporting():
            g.lang = choose_language(arg, None, None)
        else:
            g.lang = choose_language(
                arg, request.cookies.get(COOKIE), request.headers.get("Accept-Language")
            )
    return str(g.lang)


A11Y_RESULTS = Path(__file__).parent.parent / "templates" / "public" / "accessibility.toml"


@lru_cache(maxsize=1)
def accessibility_results() -> dict[str, Any]:
    """The latest automated accessibility check (``templates/public/accessibility.toml``)."""
    with A11Y_RESULTS.open("rb") as f:
        return tomllib.load(f)


def readings_of(item: Item) -> dict[str, str]:
    """Staff's readings for an item's やさしい日本語 words (``Translation.readings``, where the
    store keeps them), else none: the analyser reads alone."""
    text = item.text("ja-x-easy")
    return dict(getattr(text, "readings", ()) or ()) if text.lang == "ja-x-easy" else {}


def _alerts(items: list[Item]) -> list[Item]:
    alerts = [i for i in items if i.kind == "alert"]
    return sorted(alerts, key=lambda i: (not i.is_emergency, is_drill(i), -(i.id or 0)))


def _map_url(item: Item) -> str | None:
    p = item.place
    if p is None or p.lat is None or p.lon is None:
        return None
    return f"https://www.openstreetmap.org/?mlat={p.lat:.5f}&mlon={p.lon:.5f}#map=17/{p.lat:.5f}/{p.lon:.5f}"


def page_helpers() -> dict[str, Any]:
    """What every residents' template is given: links, words and furigana in the reader's
    language."""
    here = request.full_path.rstrip("?")
    lang = reader_language()
    t = Messages(lang)
    tree = runtime().tree

    def href(url: str) -> str:
        return relative_href(url, here) if exporting() else url

    def link(path: str, to: str | None = None) -> str:
        """A page in the reader's language (``to``: in another one, for the switch)."""
        to = to or lang
        if to == "ja" and (exporting() or to == lang):
            return href(path)
        return href(f"{path}?lang={to}")

    def qr_src(path: str) -> str:
        """The QR image of a public link; its ``?lang=`` rides on the image's address."""
        target, sep, query = path.partition("?")
        return href(f"/qr{target}.png{sep}{query}")

    def text_lang(i: Item) -> str:
        return lang if lang in i.languages else "ja"

    def r(text: str, item: Item | None = None) -> str:
        """Furigana over the kanji of a text on a やさしい日本語 page (``<ruby>``), with the
        item's own readings where staff gave them."""
        if lang != "ja-x-easy":
            return text
        return easy_ruby(text, readings_of(item) if item is not None else None)

    return {
        "lang": lang,
        "t": t,
        "r": r,
        "href": href,
        "link": link,
        "here_path": request.path,
        "area_link": lambda a: link(f"/areas/{a.code}"),
        "area_name": t.area,
        "office_name": t.office,
        "item_link": lambda i: link(f"/items/{i.id}"),
        "text_lang": text_lang,
        "qr_src": qr_src,
        "marked_title": lambda i: marked_title(i, text_lang(i)),
        "alert_label": lambda i: alert_label(i, lang, i.alert.warning_level if i.alert else None),
        "is_drill": is_drill,
        "when_text": t.when,
        "day_text": t.date,
        "published_at": published_at,
        "issuer_of": lambda i: tree.issuer(i.targets),
        "categories": CATEGORIES,
        "languages": LANGUAGES,
        "html_lang": html_lang,
        "base_url": runtime().settings.base_url,
    }


bp.after_request(security_headers)


def _page(template: str, *, status: int = 200, **context: Any) -> Response:
    """Render, then answer 200 or 304 by the hash of the bytes (pages are small)."""
    body = render_template(template, **context, **page_helpers()).encode()
    etag = versions_etag("page", body)
    if status != 200:
        return cached(Response(body, status=status, mimetype=HTML), etag)
    return respond(body, HTML, etag)
