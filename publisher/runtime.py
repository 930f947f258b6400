"""The running publisher: settings, the area tree and the database, built once per process.

The web app keeps one in ``app.extensions["publisher"]``; each CLI command builds one. Nothing
here starts threads or touches the network.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from publisher.areas import AreaTree, load_tree
from publisher.config import Settings, load_settings
from publisher.items import IMAGE_NAME, Item
from publisher.store.db import Database
from publisher.store.shortlinks import item_code

log = logging.getLogger(__name__)

# Who hears that items changed (after commit), in order: "module:function", each called as
# ``function(runtime, item_ids)``. Adding a channel that reacts to changes is a one-line change.
CHANGE_LISTENERS: list[str] = [
    "publisher.deliver.push:on_items_changed",  # first: screens switch within a second
    "publisher.deliver.webpush:on_items_changed",  # Web Push queued and sent at once
    "publisher.web.caching:forget_feeds",  # feeds answered from memory are dropped
    "publisher.schedule.service:on_items_changed",  # the leader re-plans transitions and bundles
    "publisher.deliver.outbox:on_items_changed",  # SNS posts queued (sent by the scheduler)
]


class Runtime:
    def __init__(self, settings: Settings | None = None):
        self.settings = settings if settings is not None else load_settings()

    @cached_property
    def tree(self) -> AreaTree:
        return load_tree(self.settings["DISPLAYS_DIR"])

    @cached_property
    def db(self) -> Database:
        db = Database(self.settings.database_url, pool_size=self.pool_size)
        db.on_items_changed = self.items_changed
        return db

    @property
    def pool_size(self) -> int:
        """Database connections: one per web thread of both lanes, and some for the push hub,
        the scheduler and the LISTEN connection, so no request waits for a connection."""
        threads = int(self.settings["THREADS"])
        return threads + max(2, threads // 2) + 6

    @cached_property
    def listeners(self) -> list[Callable[[Runtime, set[int]], None]]:
        out = []
        for spec in CHANGE_LISTENERS:
            module, attr = spec.split(":")
            out.append(getattr(importlib.import_module(module), attr))
        return out

    def items_changed(self, item_ids: set[int]) -> None:
        """Tell every listener; one failing listener never stops the others or the writer."""
        for listener in self.listeners:
            try:
                listener(self, item_ids)
            except Exception:
                log.exception(
                    "listener %s failed for items %s", listener.__name__, sorted(item_ids)
                )

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings["TIMEZONE"])

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    def item_url(self, item_id: int) -> str:
        """The item's public page: what QR codes, feeds and posts link to."""
        return f"{self.settings.base_url}/items/{item_id}"

    def qr_url(self, code: str) -> str:
        """What a QR code encodes: a short link ``/q/<code>`` that counts scans per day and
        redirects (``i<id>`` → the item page). Residents' phones only ever see this form."""
        return f"{self.settings.base_url}/q/{code}"

    def item_qr_url(self, item_id: int, lang: str | None = None, screen: str | None = None) -> str:
        """An item's QR link; on a slide it names the slide's language and screen
        (``/q/i42~en~daizawa-1``), so a scan counts for them."""
        return self.qr_url(item_code(item_id, lang, screen))

    @property
    def uploads_dir(self) -> Path:
        """Where the admin keeps uploaded pictures, each named by its content's hash."""
        return Path(self.settings.data_dir) / "uploads"

    def image_file(self, item: Item) -> Path | None:
        """The item's picture on disk, if it has one and the file is there."""
        if not item.image or not IMAGE_NAME.match(item.image):
            return None
        path = self.uploads_dir / item.image
        return path if path.is_file() else None

    def image_size(self, name: str) -> int | None:
        """A stored picture's length in bytes (feeds' enclosures say it), if it is there."""
        path = self.uploads_dir / name
        return path.stat().st_size if IMAGE_NAME.match(name) and path.is_file() else None

    def player_url(self, screen_id: str, token: str) -> str:
        return f"{self.settings.base_url}/play/{screen_id}?token={token}"

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when this runtime closes, before its database does (a background
        sender, a pool of processes)."""
        self.__dict__.setdefault("_closers", []).append(closer)

    def close(self) -> None:
        for closer in reversed(self.__dict__.pop("_closers", [])):
            try:
                closer()
            except Exception:
                logging.getLogger(__name__).exception("closing %r failed", closer)
        if "db" in self.__dict__:
            self.db.dispose()
