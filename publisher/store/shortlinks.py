"""Short links for QR codes: ``/q/<code>`` counts a scan and sends the reader on.

A code names a public path, shortly and stably (no table to keep in step):

=================================  ======================================================
code                               path
=================================  ======================================================
``i42``                            ``/items/42``
``i42~en~daizawa-1``               ``/items/42?lang=en``, scanned from screen daizawa-1's
                                   English slide (``i42~en``: no screen)
``p42~en``                          ``/items/42?lang=en``, scanned from a printed poster
                                   in English
``a~setagaya~kitazawa~daizawa``    ``/areas/setagaya/kitazawa/daizawa``
``rss~setagaya~kitazawa~daizawa``  ``/feeds/setagaya/kitazawa/daizawa.rss`` (also ``atom``,
                                   ``ics``; a category or ``all`` is one more ``~`` segment)
``rss~…~daizawa~~en``              ``/feeds/…/daizawa.rss?lang=en``: RSS and Atom in a
                                   language other than Japanese (``~~`` then the language)
=================================  ======================================================

Scans are counted per code and per day in the ward's time, nothing else: no address, no
browser, no cookie (and, for an item's code, per item × language × screen — or poster — in
:mod:`publisher.store.reach`). The count is one upsert, safe when two phones scan at the same moment.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from publisher.errors import NotFound
from publisher.items import JST
from publisher.store.models import QrScanRow

FEED_KINDS = ("rss", "atom", "ics")
_ITEM = re.compile(r"^/items/(\d+)$")
_AREA = re.compile(r"^/areas/([a-z0-9/-]+)$")
_FEED = re.compile(r"^/feeds/([a-z0-9/-]+)\.(rss|atom|ics)$")
_CODE = re.compile(r"^(?:i(\d+)|(a|rss|atom|ics)~([a-z0-9~-]+))$")
_ITEM_CODE = re.compile(
    r"^i(\d{1,9})(?:~([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)(?:~([a-z][a-z0-9-]{0,99}))?)?$"
)
_LANG = r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*"
# A feed in another language: ``~~`` cannot occur in an area's path, so the language is plain.
_FEED_LANG_CODE = re.compile(rf"^((?:rss|atom)~[a-z0-9-]+(?:~[a-z0-9-]+)*)~~({_LANG})$")
_POSTER_CODE = re.compile(r"^p(\d{1,9})~([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")


def item_code(item_id: int, lang: str | None = None, screen: str | None = None) -> str:
    """``i42``, ``i42~en`` or ``i42~en~daizawa-1`` (a screen needs a language)."""
    code = f"i{int(item_id)}"
    if lang:
        code += f"~{lang}"
        if screen:
            code += f"~{screen}"
    return code


def poster_code(item_id: int, lang: str) -> str:
    """``p42~en``: the code on the poster of item 42 in English."""
    return f"p{int(item_id)}~{lang}"


def parse_item_code(code: str) -> tuple[int, str | None, str | None] | None:
    """(item id, language or None, screen or None) of an item's code; None for other codes."""
    m = _ITEM_CODE.match(code)
    return (int(m[1]), m[2], m[3]) if m else None


def parse_poster_code(code: str) -> tuple[int, str] | None:
    """(item id, language) of a poster's code; None for other codes."""
    m = _POSTER_CODE.match(code)
    return (int(m[1]), m[2]) if m else None


def code_for(path: str, lang: str | None = None) -> str:
    """The short code of a public path (``/items/42`` → ``i42``); ``lang``: an RSS or Atom
    feed's language (``rss~setagaya~kitazawa~daizawa~~en``; Japanese is the plain code)."""
    if lang and lang != "ja":
        code = code_for(path)
        if not code.startswith(("rss~", "atom~")):
            raise NotFound(f"no short link for '{path}' in '{lang}': only RSS and Atom feeds")
        return f"{code}~~{lang}"
    if m := _ITEM.match(path):
        return f"i{int(m[1])}"
    if m := _AREA.match(path):
        return "a~" + m[1].replace("/", "~")
    if m := _FEED.match(path):
        return f"{m[2]}~" + m[1].replace("/", "~")
    raise NotFound(f"no short link for '{path}': only item pages, area pages and feeds have one")


def parse_feed_code(code: str) -> tuple[str, str] | None:
    """(the Japanese feed's code, language) of a feed's code in another language; None for
    other codes."""
    m = _FEED_LANG_CODE.match(code)
    return (m[1], m[2]) if m else None


def path_for(code: str) -> str:
    """The public path a short code names (``i42`` → ``/items/42``; a feed's code in another
    language names the feed's path, its language is :func:`parse_feed_code`'s)."""
    if feed := parse_feed_code(code):
        code = feed[0]
    item = parse_item_code(code) or parse_poster_code(code)
    if item is not None:
        return f"/items/{item[0]}"
    m = _CODE.match(code)
    if not m:
        raise NotFound(f"unknown short link '{code}'")
    if m[1]:
        return f"/items/{int(m[1])}"
    stem = m[3].replace("~", "/")
    if m[2] == "a":
        return f"/areas/{stem}"
    return f"/feeds/{stem}.{m[2]}"


def scan_day(at: datetime) -> str:
    return at.astimezone(JST).date().isoformat()


def count_scan(session: Session, code: str, at: datetime) -> None:
    """Add one scan of ``code`` on the ward's day of ``at`` (INSERT … ON CONFLICT)."""
    values = {"code": code, "day": scan_day(at), "count": 1}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(QrScanRow).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["code", "day"], set_={"count": QrScanRow.count + 1}
    )
    session.execute(stmt)


def scans(session: Session, code: str) -> dict[str, int]:
    """Scans of ``code`` per day (``{"2026-11-22": 3}``), oldest first."""
    rows = session.execute(
        select(QrScanRow.day, QrScanRow.count).where(QrScanRow.code == code).order_by(QrScanRow.day)
    )
    return {day: count for day, count in rows}
