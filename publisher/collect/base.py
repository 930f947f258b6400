"""The source contract: everything a collector kind is, in one page.

A **source** is one place district information already lives (the ward's news feed, the
open-data event list, a neighbourhood association's calendar, the disaster-management
system's CAP alerts). It is configured in ``content/sources.toml`` as a :class:`Source`:
name, kind, ``url`` or ``path``, target areas, category, default language, interval and
kind-specific options.

A **kind** is a :class:`Collector`, an object with two methods:

- ``fetch(source, http) -> bytes`` gets the raw document (most kinds use :func:`fetch_bytes`:
  ``http.get(source.url)`` with timeouts, a size limit and bounded redirects, or the file at
  ``source.path``);
- ``parse(source, data, tree, now) -> Iterable[Entry | Skipped]`` turns those bytes into
  entries. It touches no database and no clock (``now`` is given). A document that cannot be
  read at all raises :class:`~publisher.errors.PublisherError`; one bad entry yields a
  :class:`Skipped` (which entry, why) and the others still come.
- optionally ``after_run(source, ok)``: told whether the run stored its entries, so a kind that
  remembers what it fetched (the JMA feed's validators and fetched messages) keeps it only then.

An :class:`Entry` carries :func:`publisher.item_input.parse_item`-shaped ``fields`` plus a stable
``external_id``; :func:`entry_item` turns it into an approved :class:`~publisher.items.Item`
whose ``source`` is the source's name, so :func:`publisher.store.content.upsert_item` keeps one item
per upstream entry however often it is collected. CAP entries also carry their
:class:`~publisher.items.AlertInfo` and the earlier messages they update or cancel; JMA entries
carry a ``series`` whose current item they replace or withdraw.

Kinds are listed in :mod:`publisher.collect.registry`; the built-in ones register exactly as a
third party's would. Running a source (fetch, parse, upsert, record the run) is
:mod:`publisher.collect.run`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from publisher.areas import AreaTree
from publisher.errors import PublisherError
from publisher.item_input import parse_item
from publisher.items import BODY_MAX_CHARS, TITLE_MAX_CHARS, AlertInfo, Item

if TYPE_CHECKING:
    from publisher.collect.http import Http

# Column sizes of the items table (models.ItemRow): an entry that would overflow one is skipped
# with a reason rather than failing the whole run on PostgreSQL.
EXTERNAL_ID_MAX = 500
PLACE_NAME_MAX = 200
PLACE_ADDRESS_MAX = 300
DETAIL_URL_MAX = 1000


@dataclass(frozen=True)
class Source:
    """One configured source (a ``[sources.NAME]`` table of ``content/sources.toml``)."""

    name: str
    kind: str
    url: str | None = None
    path: Path | None = None
    targets: tuple[str, ...] = ()
    category: str | None = None
    language: str = "ja"
    interval: timedelta = timedelta(hours=1)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> str:
        """Where it is read from, for messages."""
        return self.url or (str(self.path) if self.path else self.name)

    def option(self, name: str, default: Any, kind: type = int) -> Any:
        """A kind-specific option, checked: ``sources.NAME.options.horizon_days``."""
        value = self.options.get(name, default)
        if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise PublisherError(
                f"must be a whole number ≥ 0, not {value!r}",
                where=f"sources.{self.name}.options.{name}",
            )
        return value


# A run stores at most this many entries and reads for at most this long (a source may set
# options.max_items / options.max_seconds): nothing collected can flood the store.
MAX_ENTRIES_PER_RUN = 2000
RUN_DEADLINE_S = 120


@dataclass(frozen=True)
class Entry:
    """One upstream entry, ready to become an item.

    ``fields`` is what :func:`publisher.item_input.parse_item` takes (``kind``, ``title``, ``body``,
    ``starts_at``, ``event``, ``place``, ...); ``targets`` may be left out to use the source's.
    ``label`` names the entry in reports ("row 7", "entry https://...").
    """

    external_id: str
    label: str
    fields: Mapping[str, Any]
    alert: AlertInfo | None = None
    # CAP: the (sender, identifier) of earlier messages this one updates or cancels
    references: tuple[tuple[str, str], ...] = ()
    cancel: bool = False
    # the item's source when it is not the configured source's name ("cap:<sender>")
    source: str | None = None
    # JMA: "the same kind of information for the same area" (``warnings:1311200``): a later
    # entry of a series replaces the current item (a new revision), a cancel withdraws it
    series: str | None = None
    # no part of it continues an earlier message: it may start a new item after a withdrawal
    fresh: bool = False
    # CAP: a message whose window closed as it was sent (an Update with expires ≤ sent)
    expired_at: datetime | None = None

    @property
    def held(self) -> str | None:
        """Why a CAP message is held for review (stored, shown nowhere), or None."""
        return self.alert.held_reason if self.alert and self.alert.needs_review else None


@dataclass(frozen=True)
class Skipped:
    """An entry that was not stored, and why (shown by ``publisher import`` and the runs)."""

    entry: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"entry": self.entry, "reason": self.reason}


class Collector(Protocol):
    """A source kind. See the module docstring for the contract."""

    def fetch(self, source: Source, http: Http) -> bytes: ...

    def parse(
        self, source: Source, data: bytes, tree: AreaTree, now: datetime
    ) -> Iterable[Entry | Skipped]: ...


def allows_private(source: Source) -> bool:
    """Whether the source may fetch from loopback or private addresses (a ward server on the
    office network, or a test's local server): ``options.allow_private_addresses``."""
    allow = source.options.get("allow_private_addresses", False)
    if not isinstance(allow, bool):
        raise PublisherError(
            f"must be true or false, not {allow!r}",
            where=f"sources.{source.name}.options.allow_private_addresses",
        )
    return allow


def fetch_bytes(source: Source, http: Http) -> bytes:
    """The usual ``fetch``: the URL through ``http``, or the file at ``path``."""
    if source.url:
        return http.get(source.url, allow_private=allows_private(source))
    if source.path is None:
        raise PublisherError("has neither url nor path", where=f"sources.{source.name}")
    return http.read_file(source.path)


def entry_item(entry: Entry, source: Source, tree: AreaTree) -> Item:
    """The approved item an entry stands for; raises PublisherError naming the bad field.

    Collected items are approved at once: they were published upstream (the ward's site, the
    open-data portal, the disaster-management system) by people entitled to publish them.
    """
    data = dict(entry.fields)
    if not data.get("targets"):
        data["targets"] = list(source.targets or (tree.ward_code,))
    if source.category and not data.get("category"):
        data["category"] = source.category
    item = parse_item(data, tree)
    if entry.alert is not None:
        item = item.with_changes(alert=entry.alert)
    if len(entry.external_id) > EXTERNAL_ID_MAX:
        raise PublisherError(f"its id is longer than {EXTERNAL_ID_MAX} characters", field="id")
    if item.detail_url and len(item.detail_url) > DETAIL_URL_MAX:
        raise PublisherError(f"longer than {DETAIL_URL_MAX} characters", field="detail_url")
    return item.with_changes(
        status="approved", source=entry.source or source.name, external_id=entry.external_id
    )


# -- small helpers the kinds share ------------------------------------------------------------------


def in_language(source: Source, title: str, body: str) -> tuple[dict[str, str], dict[str, str]]:
    """Title and body in the source's language. Every item needs a Japanese title, so a
    source in another language also fills ``ja`` (staff may translate it later)."""
    lang = source.language
    titles = {lang: clip(title, TITLE_MAX_CHARS)}
    bodies = {lang: clip(body, BODY_MAX_CHARS)} if body else {}
    if lang != "ja":
        titles["ja"] = titles[lang]
    return titles, bodies


def stable_id(*parts: Any) -> str:
    """A short digest standing in for an id the upstream does not give."""
    blob = "\x1f".join(str(p) for p in parts)
    return "h:" + hashlib.sha256(blob.encode()).hexdigest()[:24]


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in … when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_SPACES = re.compile(r"[ \t\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def tidy(text: str | None) -> str:
    """Whitespace collapsed, control characters dropped, paragraphs kept."""
    if not text:
        return ""
    text = "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs", "Co")
    )
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


__all__ = [
    "Collector",
    "Entry",
    "Skipped",
    "Source",
    "clip",
    "entry_item",
    "fetch_bytes",
    "in_language",
    "stable_id",
    "tidy",
]
