"""RSS 2.0 and Atom 1.0 feeds of an area's items (feedgen): plain values in, bytes out.

Pure: no database, no clock, no network. Which items a feed carries is decided in
:mod:`publisher.store.public`; this module only writes them down the same way every time, so
equal items give equal bytes (the feed's ``updated`` is its newest item's, never "now").

Entries are in Japanese (``xml:lang="ja"`` on the Atom feed, ``<language>ja</language>`` in
RSS, ``dc:language`` on every entry), link to the item's public page, carry ``published`` and
``updated`` in +09:00, the category, and a 【訓練】/【緊急】/【警報】 mark in the title of
drills and alerts. Entry ids are the item page URL: stable across revisions (``updated``
changes instead), as Atom asks.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from publisher.items import CATEGORIES, JST, Item, clean_text
from publisher.plan.residents import FeedSpec, marked_title, published_at, updated_at, when_text

GENERATOR = "setagaya-publisher"
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=JST)
ATOM_NS = "{http://www.w3.org/2005/Atom}"


class _LinkedEntry(FeedEntry):
    """A FeedEntry whose Atom links keep rel/type/hreflang/title/length.

    feedgen 1.0.0 reads those attributes from the new XML element instead of the link's
    data, so they are lost (its issue #135); here they are put back after the fact.
    """

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        elements = [e for e in entry if e.tag in ("link", f"{ATOM_NS}link")]
        for element, data in zip(elements, self.link() or [], strict=False):
            for key in ("rel", "type", "hreflang", "title", "length"):
                if data.get(key):
                    element.attrib[key] = str(data[key])
        return entry


def item_url(base_url: str, item_id: int | None) -> str:
    return f"{base_url}/items/{item_id}"


def summary(item: Item, lang: str = "ja") -> str:
    """The entry's text: when and where for an event, then the body."""
    lines = []
    when = when_text(item)
    if when:
        lines.append(f"日時：{when}")
    if item.place:
        place = item.place.name + (f"（{item.place.address}）" if item.place.address else "")
        lines.append(f"場所：{place}")
    body = item.text(lang).body
    if body:
        lines.append(body)
    return "\n".join(lines) or item.text(lang).title


def _text(value: str) -> str:
    """Plain text for RSS, whose readers take ``<title>`` and ``<description>`` as HTML: escaped
    once here (feedgen escapes it again for XML), and never a character XML forbids."""
    return html.escape(clean_text(value), quote=False)


def _jst(value: datetime) -> datetime:
    return value.astimezone(JST)


IMAGE_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


def render_feed(
    items: Iterable[Item],
    spec: FeedSpec,
    base_url: str,
    fmt: str,
    image_sizes: Mapping[str, int] | None = None,
) -> bytes:
    """The feed as RSS 2.0 (``fmt="rss"``) or Atom 1.0 (``fmt="atom"``) bytes, UTF-8.

    An item whose picture is in ``image_sizes`` (its stored name → length in bytes) carries it
    as an enclosure: RSS ``<enclosure url length type>``, Atom ``<link rel="enclosure">`` with
    the picture's alternative text as its title."""
    sizes = image_sizes or {}
    if fmt not in ("rss", "atom"):
        raise ValueError(f"unknown feed format {fmt!r} (rss or atom)")
    items = list(items)
    area = spec.area
    feed_url = f"{base_url}{spec.path(fmt)}"
    page_url = f"{base_url}/areas/{area.code}"
    newest = max((updated_at(i) for i in items), default=EMPTY_FEED_UPDATED)

    # Atom's title and summary are type="text" (readers show them as typed); RSS has no such
    # attribute and its readers render HTML, so its text is escaped once more.
    text = _text if fmt == "rss" else clean_text
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(feed_url)
    fg.title(text(spec.title))
    fg.subtitle(f"{text(area.display_name)}が地区の皆さんへお届けするお知らせ・行事・防災情報")
    fg.link(href=page_url, rel="alternate", type="text/html", hreflang="ja")
    fg.link(href=feed_url, rel="self", type=f"application/{fmt}+xml")
    fg.language("ja")
    fg.author({"name": area.display_name})
    fg.generator(GENERATOR)
    fg.updated(_jst(newest))
    fg.lastBuildDate(_jst(newest))

    for item in items:
        url = item_url(base_url, item.id)
        entry = _LinkedEntry()
        fg.add_entry(entry, order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(text(marked_title(item)))
        entry.link(href=url, rel="alternate", type="text/html", hreflang="ja")
        if item.image and item.image in sizes:
            entry.link(
                href=f"{base_url}/images/{item.image}",
                rel="enclosure",
                type=IMAGE_TYPES[item.image.rsplit(".", 1)[1]],
                length=str(sizes[item.image]),
                title=text(item.alt("ja")) if fmt == "atom" else None,
            )
        entry.summary(text(summary(item)))
        entry.published(_jst(published_at(item)))
        entry.updated(_jst(updated_at(item)))
        if item.category:
            entry.category(
                term=item.category,
                label=text(CATEGORIES[item.category]),
                scheme=f"{base_url}/categories",
            )
        entry.dc.dc_language("ja")
    if fmt == "rss":
        data: bytes = fg.rss_str(pretty=True)
    else:
        data = fg.atom_str(pretty=True)
    return data


def feed_mimetype(fmt: str) -> str:
    return {"rss": "application/rss+xml", "atom": "application/atom+xml"}[fmt]


__all__ = ["feed_mimetype", "render_feed", "summary"]
