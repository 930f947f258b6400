"""The static export of the residents' side: pages, feeds, calendars and QR codes as files.

``build_site(rt, out_dir, at)`` writes what the app would answer at ``at`` into ``out_dir``,
laid out like the app's URLs (see :mod:`publisher.web.links`), so any plain web server or CDN
can serve it:

    index.html, en/index.html                    /, /?lang=en (every page in six languages)
    areas/setagaya/kitazawa/daizawa/index.html   /areas/setagaya/kitazawa/daizawa
    areas/setagaya/kitazawa/daizawa/ko/index.html  /areas/setagaya/kitazawa/daizawa?lang=ko
    items/42/index.html, items/42/en/index.html  /items/42, /items/42?lang=en
    accessibility/index.html                     /accessibility
    feeds/setagaya/kitazawa/daizawa.rss|.atom|.ics, feeds/<code>/<category>.rss, .../all.rss
    qr/items/42.png, qr/feeds/<code>.rss.png     the QR images the pages show
    images/<hash>.jpg                            the items' pictures (pages, feed enclosures)
    static/public/site.css

Pages link to each other relatively. The ``/q/<code>`` short links need the app (they count
scans), so in the export every QR code points straight at its page or feed under BASE_URL.
Feed entries link to ``BASE_URL/items/<id>``, which a web server answers from the folder.

Pages and QR images are rendered by the app itself (one request each), so they never drift
from what the app serves; feeds and calendars come from the same pure renderers the app uses,
reading each area's items once. Files are written atomically; files of a previous export that no longer
exist (a withdrawn item's page) are removed from the folders the export owns.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.areas import LANGUAGES, AreaTree
from publisher.files import write_atomic
from publisher.items import Item
from publisher.plan.residents import (
    FEED_FORMATS,
    FeedSpec,
    all_feeds,
    feed_areas,
    in_calendar,
    newest_first,
)
from publisher.render.feeds import render_feed
from publisher.render.ical import render_calendar
from publisher.runtime import Runtime
from publisher.store.content import list_items, live_items
from publisher.store.public import calendar_candidates, feed_items
from publisher.web.links import export_file

OWNED_FOLDERS = (
    "areas",
    "items",
    "feeds",
    "qr",
    "images",
    "accessibility",
    *LANGUAGES.keys() - {"ja"},
)
STATIC_FOLDER = Path(__file__).parent.parent / "static" / "public"


def site_urls(tree: AreaTree, items: Iterable[Item]) -> list[str]:
    """Pure: the pages and QR images the export writes (the feeds are written directly)."""
    pages = ["/", "/accessibility", *(f"/areas/{area.code}" for area in tree)]
    pages += [f"/items/{item.id}" for item in items]
    # every page in every language: a page links to others in its own language
    urls = [f"{page}?lang={lang}" if lang != "ja" else page for page in pages for lang in LANGUAGES]
    for area in tree:
        urls += [f"/qr/feeds/{area.code}.{fmt}.png" for fmt in ("rss", "atom", "ics")]
    urls += [f"/qr/items/{item.id}.png" for item in items]
    urls += [f"/images/{item.image}" for item in items if item.image]
    return urls


def feed_files(
    tree: AreaTree,
    base_url: str,
    carried: dict[tuple[str, bool], list[Item]],
    image_sizes: dict[str, int] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Pure: ``(url, bytes)`` of every RSS/Atom feed, given each area's items and each
    aggregate's (``carried[(code, aggregate)]``); a category feed filters its area's items."""
    for spec in all_feeds(tree):
        items = carried[(spec.area.code, spec.aggregate)]
        if spec.category:
            items = [i for i in items if i.category == spec.category]
        for fmt in FEED_FORMATS:
            yield spec.path(fmt), render_feed(items, spec, base_url, fmt, image_sizes)


def public_items(rt: Runtime, at: datetime) -> list[Item]:
    """Items with a page in the export: live now, or an event still in a calendar."""
    with rt.session() as session:
        live = live_items(session, at)
        events = in_calendar(
            list_items(session, rt.tree, statuses=["approved"], kind="event", limit=5000), at
        )
    by_id = {i.id: i for i in [*live, *events]}
    return [by_id[k] for k in sorted(by_id, key=lambda k: k or 0)]


def build_site(rt: Runtime, out_dir: Path | str, at: datetime) -> dict[str, int]:
    """Write the public side as of ``at`` into ``out_dir``; returns counts of files written."""
    from publisher.web import create_app  # the web layer imports lazily: site is also a CLI step

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = create_app(
        rt, {"PUBLISHER_CLOCK": lambda: at, "PUBLISHER_STATIC_EXPORT": True, "TESTING": False}
    )
    client = app.test_client()
    counts = {"pages": 0, "feeds": 0, "calendars": 0, "qr": 0, "static": 0, "skipped": 0}
    written: set[Path] = set()
    base = rt.settings.base_url
    carried: dict[tuple[str, bool], list[Item]] = {}
    calendars: dict[str, list[Item]] = {}
    with rt.session() as session:
        for area in rt.tree:
            own = _feed(session, rt.tree, FeedSpec(area), at)
            carried[(area.code, False)] = own
            carried[(area.code, True)] = (
                _feed(session, rt.tree, FeedSpec(area, aggregate=True), at)
                if area.children
                else own
            )
            calendars[area.code] = in_calendar(calendar_candidates(session, rt.tree, area.code), at)
    sizes = {
        i.image: size
        for items in carried.values()
        for i in items
        if i.image and (size := rt.image_size(i.image)) is not None
    }
    for url, data in feed_files(rt.tree, base, carried, sizes):
        written.add(_write(out / export_file(url), data))
        counts["feeds"] += 1
    for area in rt.tree:
        url = f"/feeds/{area.code}.ics"
        data = render_calendar(calendars[area.code], area, base)
        written.add(_write(out / export_file(url), data))
        counts["calendars"] += 1
    for url in site_urls(rt.tree, public_items(rt, at)):
        response = client.get(url)
        data = response.get_data()
        response.close()  # a picture is answered from its file: let it go
        if response.status_code != 200:
            counts["skipped"] += 1
            continue
        written.add(_write(out / export_file(url), data))
        counts["qr" if url.startswith(("/qr/", "/images/")) else "pages"] += 1
    for source in sorted(STATIC_FOLDER.rglob("*")):
        if source.is_file():
            target = out / "static" / "public" / source.relative_to(STATIC_FOLDER)
            _write(target, source.read_bytes())
            counts["static"] += 1
    _remove_stale(out, written)
    return counts


def _write(target: Path, data: bytes) -> Path:
    """Temp file and rename: a web server never serves half a file."""
    return write_atomic(target, data)


def _remove_stale(out: Path, written: set[Path]) -> None:
    for folder in OWNED_FOLDERS:
        root = out / folder
        if not root.exists():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            if path.is_file() and path not in written:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                shutil.rmtree(path)


def _feed(session: Any, tree: AreaTree, spec: FeedSpec, at: datetime) -> list[Item]:
    return newest_first(feed_items(session, feed_areas(tree, spec), spec.category, at))
