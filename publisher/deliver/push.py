"""Push to lobby screens: an in-process hub for SSE, fed across processes by LISTEN/NOTIFY.

How a change reaches a screen:

1. A unit of work commits and :func:`on_items_changed` (a ``CHANGE_LISTENERS`` entry) works out
   which screens see the changed items (``tree.screens_in(tree.audience(target))``).
2. On SQLite (one process) it hands those screen ids straight to this process's :class:`Hub`.
   On PostgreSQL it sends ``NOTIFY publisher_items`` with the ids only (payloads must stay under
   8,000 bytes); every web process runs one listener thread (:func:`start_listening`, its own
   autocommit psycopg connection) that feeds its own hub, so the process that wrote hears it too.
3. The hub's dispatcher thread re-plans each screen that has subscribers (hinted screens first,
   then the rest, so an item moved away from an area is noticed too) and wakes the subscribers
   of each screen whose playlist version changed. Under ``publisher serve`` each stream lives
   on the server's event loop (:mod:`publisher.web.streams`) and the hub hands it the message
   with ``loop.call_soon_threadsafe``: no thread per screen. A WSGI stream (the Flask route,
   tests) waits on its own queue instead.

One stream per screen across processes (PostgreSQL): each stream opened is announced with
``NOTIFY publisher_streams`` (screen id and stream id, batched by one thread,
:meth:`Hub.announce_stream`); every process hears every announcement in the same order (commit
order) and hands it to ``Hub.on_streams``, where :mod:`publisher.web.streams` closes its own
older stream for that screen. On SQLite there is one process and nothing to announce.

A CLI command writing to the SQLite file of a running server reaches no hub: the players see
the change at their next playlist poll (the cache checks the store's fingerprint).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text

from publisher.items import utcnow
from publisher.runtime import Runtime
from publisher.store.models import TargetRow

log = logging.getLogger(__name__)

CHANNEL = "publisher_items"
STREAMS_CHANNEL = "publisher_streams"  # stream opened: [screen id, stream id] pairs
NOTIFY_MAX_BYTES = 7900  # PostgreSQL refuses payloads of 8,000 bytes or more
LISTEN_POLL_S = 1.0  # how often the listener thread checks whether it should stop
BURST_GAP_S = 0.005  # NOTIFYs of one change arrive together; a pause this long ends the burst
BURST_MAX_GAPS = 20  # ... and a burst is handed on after 0.1 s however long it goes on


@dataclass(eq=False)
class Subscription:
    """One SSE stream's mailbox: the versions its screen moved to, in order.

    ``deliver``, when given, is called instead (from the hub's thread) for each message: the
    event-loop streams of :mod:`publisher.web.streams` hand it to their loop.
    """

    screen_id: str
    inbox: queue.SimpleQueue[dict] = field(default_factory=queue.SimpleQueue)
    deliver: Callable[[dict], None] | None = None

    def wait(self, timeout: float) -> dict | None:
        """The next message, or None after ``timeout`` seconds (time for a heartbeat)."""
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None


class Hub:
    """Subscribers per screen, and the thread that re-plans screens when items change."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}
        self._versions: dict[str, str] = {}
        self._work: queue.SimpleQueue[set[str] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.closed = threading.Event()
        self.listening = threading.Event()
        self._listener: threading.Thread | None = None
        # Called on every change this hub hears, from any process (the web server drops the
        # public reads it holds, so a change made elsewhere shows at once there too).
        self.on_change: list[Callable[[], None]] = []
        # Called with [(screen id, stream id), ...] for each batch of streams opened in any
        # process (this one too), in the order every process hears them.
        self.on_streams: list[Callable[[list[tuple[str, str]]], None]] = []
        self._opened: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._announcer: threading.Thread | None = None

    # -- subscribers --------------------------------------------------------------------------

    def subscribe(
        self,
        screen_id: str,
        version: str | None = None,
        deliver: Callable[[dict], None] | None = None,
    ) -> Subscription:
        sub = Subscription(screen_id, deliver=deliver)
        with self._lock:
            self._subs.setdefault(screen_id, set()).add(sub)
            if version is not None:
                self._versions.setdefault(screen_id, version)
        self._ensure_dispatcher()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.screen_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.screen_id]

    def subscribers(self, screen_id: str | None = None) -> int:
        with self._lock:
            if screen_id is not None:
                return len(self._subs.get(screen_id, ()))
            return sum(len(s) for s in self._subs.values())

    def publish(self, screen_id: str, message: dict) -> int:
        with self._lock:
            subs = list(self._subs.get(screen_id, ()))
        for sub in subs:
            if sub.deliver is not None:
                sub.deliver(message)
            else:
                sub.inbox.put(message)
        return len(subs)

    # -- changes ------------------------------------------------------------------------------

    def screens_changed(self, screen_ids: Iterable[str] | None) -> None:
        """Re-plan these screens (None: every subscribed screen) and wake who needs it."""
        from publisher.deliver.playlists import cache_for

        cache_for(self.rt).invalidate()
        for hook in list(self.on_change):
            try:
                hook()
            except Exception:
                log.exception("push: change hook %r failed", hook)
        if self.subscribers() == 0:
            return
        self._ensure_dispatcher()
        self._work.put(set(screen_ids) if screen_ids is not None else set())

    def _ensure_dispatcher(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="publisher-push", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while not self.closed.is_set():
            hint = self._work.get()
            if hint is None:
                return
            try:  # coalesce a burst of changes into one pass
                while True:
                    more = self._work.get_nowait()
                    if more is None:
                        return
                    hint |= more
            except queue.Empty:
                pass
            try:
                self._dispatch(hint)
            except Exception:
                log.exception("push: re-planning screens %s failed", sorted(hint))

    def _dispatch(self, hint: set[str]) -> None:
        from publisher.deliver.playlists import cache_for

        with self._lock:
            subscribed = set(self._subs)
        # Hinted screens first: they are where an alert is most likely to be waiting.
        order = sorted(subscribed & hint) + sorted(subscribed - hint)
        cache = cache_for(self.rt)
        at = utcnow()
        cache.refresh(at)
        for screen_id in order:
            sp = cache.get(screen_id, at, refresh=False)
            with self._lock:
                if self._versions.get(screen_id) == sp.version:
                    continue
                self._versions[screen_id] = sp.version
            self.publish(screen_id, {"version": sp.version, "override": sp.plan.override})

    # -- streams across processes -------------------------------------------------------------

    def announce_stream(self, screen_id: str, stream_id: str) -> None:
        """Tell every process (PostgreSQL) that this stream now holds ``screen_id``."""
        self._opened.put((screen_id, stream_id))
        with self._lock:
            if self._announcer is None or not self._announcer.is_alive():
                self._announcer = threading.Thread(
                    target=self._announce, name="publisher-announce", daemon=True
                )
                self._announcer.start()

    def _announce(self) -> None:
        """One NOTIFY per batch: ten thousand screens connecting at once are a few NOTIFYs."""
        while not self.closed.is_set():
            first = self._opened.get()
            if first is None:
                return
            batch = [first]
            with contextlib.suppress(queue.Empty):
                while (more := self._opened.get_nowait()) is not None:
                    batch.append(more)
            try:
                notify_streams(self.rt, batch)
            except Exception as e:  # the streams stay open; only the other processes' are kept
                log.warning("push: announcing %d streams failed (%s)", len(batch), e)

    def streams_opened(self, opened: list[tuple[str, str]]) -> None:
        """The listener heard these streams open (in some process)."""
        for hook in list(self.on_streams):
            try:
                hook(opened)
            except Exception:
                log.exception("push: stream hook %r failed", hook)

    def close(self) -> None:
        self.closed.set()
        self._work.put(None)
        self._opened.put(None)


def hub_for(rt: Runtime) -> Hub:
    """The runtime's hub (one per process and runtime), created on first use."""
    hub = rt.__dict__.get("_push_hub")
    if hub is None:
        created = Hub(rt)
        hub = rt.__dict__.setdefault("_push_hub", created)
        if hub is created:
            rt.on_close(lambda: stop(rt))
    return hub


# -- the change listener ------------------------------------------------------------------------


def affected_screens(rt: Runtime, item_ids: Iterable[int]) -> set[str]:
    """Screens that see any of these items: every screen in each target's audience."""
    ids = list(item_ids)
    if not ids:
        return set()
    with rt.db.engine.connect() as conn:
        targets = set(
            conn.scalars(select(TargetRow.area_code).where(TargetRow.item_id.in_(ids))).all()
        )
    tree = rt.tree
    return {s.id for code in targets if code in tree for s in tree.screens_in(tree.audience(code))}


def on_items_changed(rt: Runtime, item_ids: set[int]) -> None:
    """``CHANGE_LISTENERS`` entry: signal the screens that see the changed items."""
    screens = affected_screens(rt, item_ids)
    if rt.db.is_sqlite:
        hub = rt.__dict__.get("_push_hub")
        if hub is not None:
            hub.screens_changed(screens)
        return
    notify(rt, item_ids, screens)


def payloads(item_ids: Iterable[int], screen_ids: Iterable[str]) -> list[str]:
    """NOTIFY payloads of at most :data:`NOTIFY_MAX_BYTES`, ids only (sized as they are built:
    ten thousand screens cost one pass, not one encoding per screen)."""
    items, screens = sorted(item_ids), sorted(screen_ids)
    empty = len(json.dumps({"items": items[:50], "screens": []}).encode())
    out: list[str] = []
    chunk: list[str] = []
    size = empty
    for screen in screens:
        extra = len(json.dumps(screen).encode()) + (2 if chunk else 0)  # ", " between ids
        if size + extra > NOTIFY_MAX_BYTES and chunk:
            out.append(json.dumps({"items": items[:50], "screens": chunk}))
            chunk, size, extra = [], empty, extra - 2
        chunk.append(screen)
        size += extra
    out.append(json.dumps({"items": items[:50], "screens": chunk}))
    return out


def notify(rt: Runtime, item_ids: Iterable[int], screen_ids: Iterable[str]) -> None:
    _send(rt, CHANNEL, payloads(item_ids, screen_ids))


def stream_payloads(opened: list[tuple[str, str]]) -> list[str]:
    """``{"opened": [[screen, stream], ...]}`` payloads of at most :data:`NOTIFY_MAX_BYTES`."""
    out: list[str] = []
    chunk: list[list[str]] = []
    size = len('{"opened": []}')
    for screen, stream in opened:
        extra = len(json.dumps([screen, stream]).encode()) + 2
        if size + extra > NOTIFY_MAX_BYTES and chunk:
            out.append(json.dumps({"opened": chunk}))
            chunk, size = [], len('{"opened": []}')
        chunk.append([screen, stream])
        size += extra
    if chunk:
        out.append(json.dumps({"opened": chunk}))
    return out


def notify_streams(rt: Runtime, opened: list[tuple[str, str]]) -> None:
    _send(rt, STREAMS_CHANNEL, stream_payloads(opened))


def _send(rt: Runtime, channel: str, messages: list[str]) -> None:
    with rt.db.engine.connect() as conn:
        for payload in messages:
            conn.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": channel, "payload": payload},
            )
        conn.commit()


# -- LISTEN on PostgreSQL ---------------------------------------------------------------------


def start_listening(rt: Runtime, *, timeout: float = 5.0) -> Hub:
    """Start this process's listener thread once (PostgreSQL only); wait until it listens."""
    hub = hub_for(rt)
    if rt.db.is_sqlite:
        return hub
    with hub._lock:
        if hub._listener is None or not hub._listener.is_alive():
            hub._listener = threading.Thread(
                target=_listen, args=(hub,), name="publisher-listen", daemon=True
            )
            hub._listener.start()
    hub.listening.wait(timeout)
    return hub


def _psycopg_url(rt: Runtime) -> str:
    url = rt.db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _listen(hub: Hub) -> None:
    import psycopg

    url = _psycopg_url(hub.rt)
    while not hub.closed.is_set():
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                conn.execute(f"LISTEN {STREAMS_CHANNEL}")
                hub.listening.set()
                hub.screens_changed(None)  # anything missed while (re)connecting
                while not hub.closed.is_set():
                    heard, screens = _heard(hub, conn.notifies(timeout=LISTEN_POLL_S, stop_after=1))
                    if screens is None:
                        continue
                    # One change to many screens comes as several NOTIFYs (one per ~600
                    # screens): take the rest of the burst too, and re-plan once, not per part.
                    for _ in range(BURST_MAX_GAPS):  # a steady trickle still gets through
                        heard, more = _heard(hub, conn.notifies(timeout=BURST_GAP_S))
                        if not heard:
                            break
                        screens |= more or set()
                    hub.screens_changed(screens)
        except psycopg.Error as e:
            hub.listening.clear()
            log.warning("push: LISTEN %s failed (%s); retrying in 1 s", CHANNEL, e)
            hub.closed.wait(1.0)


def _heard(hub: Hub, notes: Iterable[Any]) -> tuple[bool, set[str] | None]:
    """(whether anything was heard, the screens named by item changes or None when no item
    changed); streams opened somewhere are handed to the hub as they come."""
    heard = False
    screens: set[str] | None = None
    opened: list[tuple[str, str]] = []
    for note in notes:
        heard = True
        if note.channel == STREAMS_CHANNEL:
            with contextlib.suppress(ValueError, AttributeError, TypeError, KeyError):
                opened.extend((str(a), str(b)) for a, b in json.loads(note.payload)["opened"])
            continue
        screens = screens if screens is not None else set()
        # A payload not ours to read: the subscribed screens are re-planned all the same.
        with contextlib.suppress(ValueError, AttributeError, TypeError):
            screens.update(str(s) for s in json.loads(note.payload).get("screens", []))
    if opened:
        hub.streams_opened(opened)
    return heard, screens


def stop(rt: Runtime) -> None:
    """Stop this runtime's hub and listener threads (when the runtime closes)."""
    hub = rt.__dict__.get("_push_hub")
    if hub is not None:
        hub.close()
        if hub._listener is not None:
            hub._listener.join(LISTEN_POLL_S * 3)
