"""Paper: an item's poster and a district's weekly bulletin, as PDF.

- ``GET /items/<id>/poster.pdf?size=A4|A3&lang=…``: for the notice board (区広報板); its QR
  code is the counted short link ``/q/p<id>~<lang>`` (a scan counted as the poster's, the
  reader sent to the item's page in that language), its dates in that language's words;
- ``GET /areas/<code>/bulletin.pdf?week=2026-W48&lang=…`` (or a day of the week; default this
  week; Japanese unless ``lang``): the week's events and notices seen in the area, for the
  center's rack (the area page links to it in the reader's language).

:func:`poster_for` and :func:`bulletin_for` are also what ``publisher print`` calls. A PDF takes
a fraction of a second to lay out, so each is kept (by what decides its bytes) for reuse.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, request

from publisher.areas import LANGUAGES
from publisher.errors import PublisherError
from publisher.items import utcnow
from publisher.plan.printed import Week, bulletin_items, poster_size, week_of
from publisher.plan.residents import versions_etag
from publisher.render.poster import BulletinNames, bulletin_pdf, poster_pdf
from publisher.runtime import Runtime
from publisher.store.content import get_item, list_items
from publisher.store.public import public_item
from publisher.store.shortlinks import poster_code
from publisher.web import runtime
from publisher.web.caching import respond
from publisher.web.i18n import Messages
from publisher.web.public import not_found as error_page

bp = Blueprint("printed", __name__)

PDF = "application/pdf"
KEPT_PDFS = 64


class _Kept:
    """The last few PDFs made, by ETag."""

    def __init__(self) -> None:
        self._pdfs: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str, make: Callable[[], bytes]) -> bytes:
        with self._lock:
            if etag in self._pdfs:
                self._pdfs.move_to_end(etag)
                return self._pdfs[etag]
        pdf = make()
        with self._lock:
            self._pdfs[etag] = pdf
            while len(self._pdfs) > KEPT_PDFS:
                self._pdfs.popitem(last=False)
        return pdf


_kept = _Kept()


def poster_for(
    rt: Runtime, item_id: int, *, lang: str, size: str, at: datetime, staff: bool = False
) -> bytes:
    """The poster of a public item (a withdrawn or unpublished one is refused). ``staff``:
    also an approved item whose window has not opened yet (printed ahead of posting)."""
    size = poster_size(size)
    if lang not in LANGUAGES:
        raise PublisherError(f"lang: one of {', '.join(LANGUAGES)}", field="lang")
    with rt.session() as session:
        if staff:
            item, state = get_item(session, item_id), "live"
            if item.status not in ("approved", "expired") or not item.is_public:
                raise PublisherError(
                    f"item {item_id} is {item.status}: only approved items are printed",
                    field="item",
                )
        else:
            item, state = public_item(session, item_id, at)
    if state == "withdrawn":
        raise PublisherError(f"item {item_id} was withdrawn: it is not printed", field="item")
    if lang not in item.languages:
        lang = "ja"
    url = f"{rt.settings.base_url}/items/{item_id}?lang={lang}"
    qr_url = rt.qr_url(poster_code(item_id, lang))  # a scan is counted as the poster's
    etag = versions_etag("poster", item_id, item.updated_at, item.revision, lang, size, url, qr_url)

    def make() -> bytes:
        return poster_pdf(
            item,
            lang=lang,
            size=size,
            url=url,
            qr_url=qr_url,
            ward=rt.tree.ward,
            office=rt.tree.issuer(item.targets),
            calendar=Messages(lang),
        )

    return _kept.get(etag, make)


def bulletin_for(rt: Runtime, code: str, week: Week, *, at: datetime, lang: str = "ja") -> bytes:
    """The week's bulletin of an area (normally a district), in ``lang``."""
    if lang not in LANGUAGES:
        raise PublisherError(f"lang: one of {', '.join(LANGUAGES)}", field="lang")
    area = rt.tree.get(code)
    with rt.session() as session:
        candidates = [
            item
            for kind in ("event", "notice")
            for item in list_items(
                session, rt.tree, seen_in=code, statuses=["approved", "expired"], kind=kind
            )
        ]
    events, notices = bulletin_items(candidates, week)
    base = rt.settings.base_url
    listed = [(i.id, i.updated_at, i.revision) for i in (*events, *notices)]
    etag = versions_etag("bulletin", code, week.label, base, at.date(), lang, listed)
    t = Messages(lang)

    names = BulletinNames(  # 代沢地区, Daizawa District, 代澤地區, 다이자와 지구 …
        ward=t.area(rt.tree.ward),
        area=t.area(area),
        office=t.office(area),
        sources={
            i.id: t.area(rt.tree.issuer(i.targets)) for i in (*events, *notices) if i.id is not None
        },
    )
    page = f"{base}/areas/{code}" + ("" if lang == "ja" else f"?lang={lang}")

    def make() -> bytes:
        return bulletin_pdf(
            events,
            notices,
            lang=lang,
            calendar=t,
            names=names,
            week=week,
            area_url=page,
            item_url=lambda item_id: f"{base}/items/{item_id}"
            + ("" if lang == "ja" else f"?lang={lang}"),
            issued=at,
        )

    return _kept.get(etag, make)


def clock() -> datetime:
    now: Callable[[], datetime] = current_app.config.get("PUBLISHER_CLOCK", utcnow)
    return now()


@bp.get("/items/<int:item_id>/poster.pdf")
def poster(item_id: int) -> Response:
    """An item's poster: A4 or A3, in one of its languages, with the QR code of its page."""
    pdf = poster_for(
        runtime(),
        item_id,
        lang=request.args.get("lang", "ja"),
        size=request.args.get("size", "A4"),
        at=clock(),
    )
    return _answer(pdf, f"poster-{item_id}.pdf")


@bp.get("/areas/<path:code>/bulletin.pdf")
def bulletin(code: str) -> Response:
    """A district's weekly bulletin for the center's rack (one or two A4 pages)."""
    at = clock()
    week = week_of(request.args.get("week"), at)
    pdf = bulletin_for(runtime(), code, week, at=at, lang=request.args.get("lang", "ja"))
    return _answer(pdf, f"bulletin-{code.rsplit('/', 1)[-1]}-{week.label}.pdf")


def _answer(pdf: bytes, filename: str) -> Response:
    response = respond(pdf, PDF, versions_etag("pdf", pdf))
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(PublisherError)
def refused(e: PublisherError) -> Any:
    """The residents' error page in the reader's language (404 for what does not exist; a
    bad ``size``, ``lang`` or ``week`` is named, as it was given)."""
    return error_page(e, detail=True)
