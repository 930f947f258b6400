"""Kind ``rss``: RSS 2.0 and Atom 1.0 feeds (the ward's news), read with feedparser.

feedparser only ever sees the bytes our own :class:`~publisher.collect.http.Http` fetched, so
the timeouts and size limits hold. Each entry becomes a notice:

- external id: the entry's ``id``/``guid``, else its link, else a digest of its title;
- title and summary (HTML stripped) in the source's language; a feed in another language also
  fills the Japanese title, which every item needs;
- ``published`` (or ``updated``) starts the display window, which lasts ``keep_days``
  (option, default 14); an undated entry shows until staff withdraw it;
- the link is the detail URL; targets and category come from the source.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser

from publisher.areas import AreaTree
from publisher.collect.base import (
    Entry,
    Skipped,
    Source,
    clip,
    fetch_bytes,
    in_language,
    stable_id,
)
from publisher.collect.html_text import html_to_text
from publisher.errors import PublisherError

KEEP_DAYS = 14


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        parsed = dict.get(entry, key)  # plain lookup: feedparser's own maps keys with a warning
        if parsed:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


class RssCollector:
    def fetch(self, source: Source, http: Any) -> bytes:
        return fetch_bytes(source, http)

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterator[Entry | Skipped]:
        try:
            feed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)
        except Exception as e:  # feedparser trips over odd encoding declarations
            raise PublisherError(
                f"{source.location}: not a readable feed ({type(e).__name__}: {e})"
            ) from None
        if not feed.entries and (feed.bozo or not feed.get("version")):
            reason = feed.get("bozo_exception") or "no <rss> or <feed> element"
            raise PublisherError(f"{source.location}: not an RSS or Atom feed ({reason})")
        keep = timedelta(days=source.option("keep_days", KEEP_DAYS))
        for index, entry in enumerate(feed.entries, start=1):
            yield self._entry(source, index, entry, keep)

    def _entry(self, source: Source, index: int, entry: Any, keep: timedelta) -> Entry | Skipped:
        link = entry.get("link") or ""
        ident = entry.get("id") or link
        title = html_to_text(entry.get("title") or "").text
        label = f"entry {index}" + (f" ({clip(ident, 80)})" if ident else "")
        if not title:
            return Skipped(label, "title: the entry has no title")
        external_id = ident or stable_id(title)
        detail_url = link if link.startswith(("https://", "http://")) else None
        body = html_to_text(entry.get("summary") or "", detail_url).text
        titles, bodies = in_language(source, title, body)
        published = _when(entry)
        fields: dict[str, Any] = {
            "kind": "notice",
            "title": titles,
            "body": bodies,
            "starts_at": published,
            "ends_at": published + keep if published else None,
            "detail_url": detail_url,
        }
        return Entry(external_id, label, fields)


collector = RssCollector()
