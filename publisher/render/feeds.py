"""RSS 2.0 and Atom 1.0 feeds of an area's items (feedgen): plain values in, bytes out.

Pure: no database, no clock, no network. Which items a feed carries is decided in
:mod:`publisher.store.public`; this module only writes them down the same way every time, so
equal items give equal bytes (the feed's ``updated`` is its newest item's, never "now").

A feed is in one of the six languages (``lang``; Japanese by default): its title, description
and author in the residents' catalogues' words (``feed_*``, :mod:`publisher.area_names` for the
names), ``xml:lang`` on the Atom feed and ``<language>`` in RSS. Each entry is in that language
when the item has it, else in Japanese, as the pages fall back (``dc:language`` says which);
it links to the item's page in the feed's language, carries ``published`` and ``updated`` in
+09:00, the category, and a 【訓練】/【緊急】/【警報】 (DRILL …) mark in the title of drills and
alerts. Dates are the caller's :class:`~publisher.render.print_words.Calendar` (the pages'
words); without one, Japanese. Entry ids are the item page URL without the language: stable
across revisions (``updated`` changes instead) and languages, as Atom asks.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from publisher.area_names import area_name, catalogues, office_name
from publisher.items import JST, Item, clean_text
from publisher.plan.residents import FeedSpec, marked_title, published_at, updated_at, when_text
from publisher.render.print_words import Calendar

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


def summary(item: Item, lang: str = "ja", calendar: Calendar | None = None) -> str:
    """The entry's text: when and where for an event (labelled in ``lang``), then the body
    (in ``lang`` when the item has it, else Japanese)."""
    words = catalogues()[lang]
    colon = "：" if lang.startswith(("ja", "zh")) else ": "
    lines = []
    when = calendar.when(item) if calendar is not None else when_text(item)
    if when:
        lines.append(f"{words['when']}{colon}{when}")
    if item.place:
        place = item.place.name + (f"（{item.place.address}）" if item.place.address else "")
        lines.append(f"{words['where']}{colon}{place}")
    body = item.text(lang).body
    if body:
        lines.append(body)
    return "\n".join(lines) or item.text(lang).title


def feed_title(spec: FeedSpec, lang: str = "ja") -> str:
    """The feed's title as a feed reader lists it: 代沢地区のお知らせ, Daizawa District: news."""
    words, area = catalogues()[lang], area_name(spec.area, lang)
    if spec.aggregate and spec.area.tier != "district":
        return words["feed_title_all"].format(area=area)
    if spec.category:
        topic = words[f"category_{spec.category}"]
        return words["feed_title_topic"].format(area=area, topic=topic)
    return words["area_title"].format(area=area)


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
    lang: str = "ja",
    calendar: Calendar | None = None,
) -> bytes:
    """The feed as RSS 2.0 (``fmt="rss"``) or Atom 1.0 (``fmt="atom"``) bytes, UTF-8, in
    ``lang`` (its dates in ``calendar``'s words; Japanese ones without).

    An item whose picture is in ``image_sizes`` (its stored name → length in bytes) carries it
    as an enclosure: RSS ``<enclosure url length type>``, Atom ``<link rel="enclosure">`` with
    the picture's alternative text as its title."""
    sizes = image_sizes or {}
    if fmt not in ("rss", "atom"):
        raise ValueError(f"unknown feed format {fmt!r} (rss or atom)")
    items = list(items)
    area = spec.area
    words = catalogues()[lang]
    query = "" if lang == "ja" else f"?lang={lang}"
    feed_url = f"{base_url}{spec.path(fmt)}{query}"
    page_url = f"{base_url}/areas/{area.code}{query}"
    newest = max((updated_at(i) for i in items), default=EMPTY_FEED_UPDATED)

    # Atom's title and summary are type="text" (readers show them as typed); RSS has no such
    # attribute and its readers render HTML, so its text is escaped once more.
    text = _text if fmt == "rss" else clean_text
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(feed_url)
    office = office_name(area, lang)
    fg.title(text(feed_title(spec, lang)))
    fg.subtitle(text(words["feed_subtitle"].format(office=office)))
    fg.link(href=page_url, rel="alternate", type="text/html", hreflang=lang)
    fg.link(href=feed_url, rel="self", type=f"application/{fmt}+xml")
    fg.language(lang)
    fg.author({"name": office})
    fg.generator(GENERATOR)
    fg.updated(_jst(newest))
    fg.lastBuildDate(_jst(newest))

    for item in items:
        url = item_url(base_url, item.id)
        own = lang if lang in item.languages else "ja"  # the item's words, as its page has them
        entry = _LinkedEntry()
        fg.add_entry(entry, order="append")
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(text(marked_title(item, own)))
        entry.link(href=url + query, rel="alternate", type="text/html", hreflang=lang)
        if item.image and item.image in sizes:
            entry.link(
                href=f"{base_url}/images/{item.image}",
                rel="enclosure",
                type=IMAGE_TYPES[item.image.rsplit(".", 1)[1]],
                length=str(sizes[item.image]),
                title=text(item.alt(lang)) if fmt == "atom" else None,
            )
        entry.summary(text(summary(item, lang, calendar)))
        entry.published(_jst(published_at(item)))
        entry.updated(_jst(updated_at(item)))
        if item.category:
            entry.category(
                term=item.category,
                label=text(words[f"category_{item.category}"]),
                scheme=f"{base_url}/categories",
            )
        entry.dc.dc_language(own)
    if fmt == "rss":
        data: bytes = fg.rss_str(pretty=True)
    else:
        data = fg.atom_str(pretty=True)
    return data


def feed_mimetype(fmt: str) -> str:
    return {"rss": "application/rss+xml", "atom": "application/atom+xml"}[fmt]


__all__ = ["feed_mimetype", "render_feed", "summary"]
