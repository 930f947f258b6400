"""Playlists with their slides: the I/O around :mod:`publisher.plan.screens`.

:func:`screen_playlist` loads the live items from the store, plans one screen's playlist and
names each slide by its content key (:func:`publisher.render.slides.slide_key`);
:func:`render_slides` makes sure each slide file exists under ``DATA_DIR/out/slides/``.
A slide's QR code names its screen, so a slide renders once per screen; an emergency's once.

Web processes keep a :class:`PlaylistCache` per runtime. It is valid while the store's
fingerprint (number of items, last update) is unchanged and until the playlist's
``next_change_at``, so a change written by any process (another web process, a CLI command on
the same SQLite file, the worker) is seen at the next poll even without a push.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.areas import Screen
from publisher.items import Item, iso
from publisher.plan.screens import (
    EMERGENCY_LANGS,
    ROLE_CLEARED,
    ROLE_OVERRIDE,
    Entry,
    Playlist,
    for_screen,
    playlist,
)
from publisher.render import speech
from publisher.render.slides import SlideSpec, ensure_slide, pages_on, slide_key
from publisher.runtime import Runtime
from publisher.store.content import live_items, recently_ended_emergencies
from publisher.store.models import ItemRow

log = logging.getLogger(__name__)

# How far ahead items are loaded to find the next change; a playlist is re-planned at least
# this often even when nothing changes.
PLAN_HORIZON = timedelta(days=14)


@dataclass(frozen=True)
class Slide:
    entry: Entry
    spec: SlideSpec
    key: str

    @property
    def file_name(self) -> str:
        return f"{self.key}.png"


@dataclass(frozen=True)
class ScreenPlaylist:
    """One screen's playlist with its slides: what the player, exports and the CLI show."""

    screen: Screen
    plan: Playlist
    slides: tuple[Slide, ...]
    version: str  # changes when the plan or any slide's pixels change: the ETag
    generated_at: datetime
    next_change_at: datetime
    # during an emergency on a screen with a speaker: the chime, then each language spoken
    audio: tuple[speech.Clip, ...] = ()
    announce_every_s: int = 0

    def as_json(self, slide_url: Any = None, audio_url: Any = None) -> dict[str, Any]:
        url = slide_url or (lambda key: f"/slides/{key}.png")
        sound = audio_url or (lambda key: f"/audio/{key}.wav")
        return {
            "screen": self.screen.id,
            "location": self.screen.location,
            "size": self.screen.size,
            "version": self.version,
            "override": self.plan.override,
            "generated_at": iso(self.generated_at),
            "valid_until": iso(self.next_change_at),
            "entries": [
                {
                    "order": i,
                    "item_id": s.entry.item_id,
                    "revision": s.entry.item.revision,
                    "lang": s.entry.lang,
                    "duration_s": s.entry.duration_s,
                    "role": s.entry.role,
                    "drill": s.entry.drill,
                    **({"page": s.entry.page, "pages": s.entry.pages} if s.entry.pages > 1 else {}),
                    "slide": url(s.key),
                }
                for i, s in enumerate(self.slides, start=1)
            ],
            "audio": self.audio_json(sound),
        }

    def audio_json(self, url: Any) -> dict[str, Any] | None:
        """What the player plays when the emergency takes over, and how often it repeats."""
        if not self.audio:
            return None
        return {
            "volume": self.screen.volume,
            "every_s": self.announce_every_s,
            "drill": all(s.entry.drill for s in self.slides),
            "clips": [{"lang": c.lang, "src": url(c.key), "text": c.text} for c in self.audio],
        }


def slides_dir(rt: Runtime) -> Path:
    return rt.settings.data_dir / "out" / "slides"


def build(rt: Runtime, screen: Screen, items: list[Item], at: datetime) -> ScreenPlaylist:
    """Plan ``screen`` at ``at`` from ``items`` and name its slides (nothing is rendered).

    ``next_change_at`` is at most :data:`PLAN_HORIZON` ahead: items further out are not loaded.
    """
    pages = pages_on(
        screen, rt.tree, rt.item_qr_url, rt.image_file
    )  # what each page of a slide shows
    plan, next_change = playlist(
        screen, items, at, rt.tree, tz=rt.tz, cleared_s=cleared_seconds(rt), pages=pages
    )
    limit = (at + PLAN_HORIZON).astimezone(rt.tz)
    next_change = min(next_change, limit) if next_change else limit
    slides = [_slide(rt, screen, entry) for entry in plan.entries]
    audio = announcement(rt, screen, plan)
    named = tuple(slides)
    return ScreenPlaylist(
        screen,
        plan,
        named,
        _version(plan, named, audio),
        at,
        next_change,
        audio,
        int(rt.settings["ANNOUNCE_EVERY_S"]) if audio else 0,
    )


def _slide(rt: Runtime, screen: Screen, entry: Entry) -> Slide:
    """A slide whose QR code names item, language and screen, but for an emergency's or 解除."""
    shared = entry.role in (ROLE_OVERRIDE, ROLE_CLEARED)
    spec = SlideSpec.for_screen(
        entry.item,
        screen,
        entry.lang,
        rt.tree.get(entry.issuer),
        rt.item_qr_url(entry.item_id, entry.lang, None if shared else screen.id),
        cleared=entry.role == ROLE_CLEARED,
        picture=rt.image_file(entry.item),
        page=entry.page,
        pages=entry.pages,
    )
    return Slide(entry, spec, slide_key(spec))


def _version(plan: Playlist, slides: Sequence[Slide], audio: Sequence[speech.Clip]) -> str:
    # json.dumps([plan.version, [slide keys], [audio keys]]); the slide keys' part once for
    # all screens planned alike
    held = _KEYS_JSON.get(id(slides))
    if held is None or held[0] is not slides:
        held = (slides, json.dumps([s.key for s in slides]))
        if len(_KEYS_JSON) > PLANNED_MAX:
            _KEYS_JSON.clear()
        _KEYS_JSON[id(slides)] = held
    sound = json.dumps([c.key for c in audio]) if audio else "[]"
    blob = "[" + json.dumps(plan.version) + ", " + held[1] + ", " + sound + "]"
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


_KEYS_JSON: dict[int, tuple[Sequence[Slide], str]] = {}


def shape(screen: Screen) -> tuple[Any, ...]:
    """What a screen's playlist depends on besides its id: screens alike share one plan."""
    size = (screen.width, screen.height, screen.diagonal_in, screen.viewing_distance_m)
    return (screen.area, size, screen.languages, screen.audio)


def like(rt: Runtime, sp: ScreenPlaylist, screen: Screen) -> ScreenPlaylist:
    """``sp`` (planned for a screen of the same :func:`shape`) for ``screen``: what
    :func:`build` would answer, without planning again (slides naming the screen anew)."""
    plan = for_screen(sp.plan, screen)
    slides = sp.slides if plan.override else tuple(_slide(rt, screen, s.entry) for s in sp.slides)
    return ScreenPlaylist(
        screen,
        plan,
        slides,
        _version(plan, slides, sp.audio),
        sp.generated_at,
        sp.next_change_at,
        sp.audio,
        sp.announce_every_s,
    )


def voices(rt: Runtime) -> speech.Voices:
    """The speech engines of this machine, looked up once per runtime (the reason logged)."""
    found = rt.__dict__.get("_voices")
    if found is None:
        found = speech.find_voices(rt.settings.get("JTALK_VOICE"))
        if found.missing:
            log.warning("announcements are incomplete; missing: %s", "; ".join(found.missing))
        rt.__dict__["_voices"] = found
    return found


def announcement(rt: Runtime, screen: Screen, plan: Playlist) -> tuple[speech.Clip, ...]:
    """The chime and the spoken alert, for an emergency on a screen with a speaker."""
    if not (plan.override and screen.audio and plan.entries):
        return ()
    items = list({e.item_id: e.item for e in plan.entries if e.role == "emergency"}.values())
    if not items:
        return ()
    clips = tuple(speech.announcement(items, EMERGENCY_LANGS, voices(rt)))
    with _render_locks_guard:
        for clip in clips:
            _planned_audio[clip.key] = clip
    return clips


def cleared_seconds(rt: Runtime) -> int:
    """How long screens show 解除 after an emergency ends (``PUBLISHER_CLEARED_SHOW_S``)."""
    return int(rt.settings["CLEARED_SHOW_S"])


def load_items(session: Session, at: datetime, cleared_s: int = 0) -> list[Item]:
    """Every approved item live at ``at`` or starting within the planning horizon, and the
    emergencies that ended within ``cleared_s`` (their 解除 slide)."""
    items = live_items(session, at, until=at + PLAN_HORIZON)
    seen = {i.id for i in items}
    ended = recently_ended_emergencies(session, at, cleared_s)
    return items + [i for i in ended if i.id not in seen]


def screen_playlist(rt: Runtime, screen_id: str, at: datetime) -> ScreenPlaylist:
    """Plan one screen at ``at`` straight from the store (CLI, exports)."""
    screen = rt.tree.screen(screen_id)
    with rt.session() as session:
        items = load_items(session, at, cleared_seconds(rt))
    return build(rt, screen, items, at)


# -- rendering ------------------------------------------------------------------------------------

_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()
# Slides this process has planned, by key, so /slides/<key>.png can render one on demand.
_planned: dict[str, SlideSpec] = {}
_planned_audio: dict[str, speech.Clip] = {}
PLANNED_MAX = 20000
_background: queue.SimpleQueue[tuple[Runtime, Slide | speech.Clip]] = queue.SimpleQueue()
_background_thread: threading.Thread | None = None
# Background rendering steps aside while a player waits for a slide (an emergency first).
_foreground = 0
_foreground_idle = threading.Condition(_render_locks_guard)


def render_slide(rt: Runtime, slide: Slide) -> Path:
    """The slide's file, rendered once even when several screens ask at the same moment."""
    out = slides_dir(rt)
    path = out / slide.file_name
    if path.exists():
        return path
    with _render_locks_guard:
        lock = _render_locks.setdefault(slide.key, threading.Lock())
    with lock:
        if not path.exists():
            path = ensure_slide(slide.spec, out)
    with _render_locks_guard:
        _render_locks.pop(slide.key, None)
    return path


def render_slides(rt: Runtime, sp: ScreenPlaylist) -> list[Path]:
    """Make sure every slide of ``sp`` exists (exports, the CLI), and its announcement's audio."""
    render_audio(rt, sp.audio)
    return [render_slide(rt, slide) for slide in sp.slides]


def audio_dir(rt: Runtime) -> Path:
    return rt.settings.data_dir / "out" / "audio"


def render_audio(rt: Runtime, clips: tuple[speech.Clip, ...]) -> list[Path]:
    """Make sure every clip's file exists; a clip that cannot be spoken is left out (logged)."""
    return [path for _, path in audio_files(rt, clips)]


def audio_files(rt: Runtime, clips: tuple[speech.Clip, ...]) -> list[tuple[speech.Clip, Path]]:
    """Each clip with its file, made if missing; clips that cannot be spoken are left out."""
    out = []
    for clip in clips:
        with _render_locks_guard:
            lock = _render_locks.setdefault(clip.key, threading.Lock())
        with lock:
            path = speech.ensure_clip(clip, audio_dir(rt), voices(rt))
        if path is not None:
            out.append((clip, path))
    return out


def render_planned_audio(rt: Runtime, key: str) -> Path | None:
    """An announcement file this process planned, made now if it is not yet; else None."""
    with _render_locks_guard:
        clip = _planned_audio.get(key)
    if clip is None:
        return None
    paths = render_audio(rt, (clip,))
    return paths[0] if paths else None


def render_first_then_rest(rt: Runtime, sp: ScreenPlaylist) -> None:
    """The player's way: the first slide now (it goes on screen at once, an emergency too),
    the others in a background thread; a slide asked for before it is done renders on demand."""
    with _render_locks_guard:
        if len(_planned) > PLANNED_MAX:
            _planned.clear()
        if len(_planned_audio) > PLANNED_MAX:
            _planned_audio.clear()
        for slide in sp.slides:
            _planned[slide.key] = slide.spec
    if not sp.slides:
        return
    _render_now(rt, sp.slides[0])
    out = slides_dir(rt)
    # the announcement before the other slides: the chime is what turns heads
    rest: list[Slide | speech.Clip] = [
        c for c in sp.audio if not (audio_dir(rt) / c.file_name).exists()
    ]
    rest += [s for s in sp.slides[1:] if not (out / s.file_name).exists()]
    if rest:
        global _background_thread
        for job in rest:
            _background.put((rt, job))
        with _render_locks_guard:
            if _background_thread is None or not _background_thread.is_alive():
                _background_thread = threading.Thread(
                    target=_render_in_background, name="publisher-slides", daemon=True
                )
                _background_thread.start()


def _render_now(rt: Runtime, slide: Slide) -> Path:
    """Render with priority over the background thread."""
    global _foreground
    with _foreground_idle:
        _foreground += 1
    try:
        return render_slide(rt, slide)
    finally:
        with _foreground_idle:
            _foreground -= 1
            _foreground_idle.notify_all()


def _render_in_background() -> None:
    while True:
        try:
            rt, slide = _background.get(timeout=60)
        except queue.Empty:
            return
        with _foreground_idle:
            _foreground_idle.wait_for(lambda: _foreground == 0, timeout=5)
        try:
            if isinstance(slide, speech.Clip):
                render_audio(rt, (slide,))
            else:
                render_slide(rt, slide)
        except Exception:
            log.exception("rendering %s failed", slide.key)


def render_planned(rt: Runtime, key: str) -> Path | None:
    """Render a slide this process planned but has not drawn yet; None if it never planned it."""
    with _render_locks_guard:
        spec = _planned.get(key)
    if spec is None:
        return None
    return _render_now(rt, Slide(Entry(0, spec.lang, 0, "", "", spec.item), spec, key))


# -- the web processes' cache -------------------------------------------------------------------


def store_fingerprint(session: Session) -> tuple[int, str]:
    """Changes whenever any item is created, edited, approved, withdrawn or expired."""
    count, last = session.execute(
        select(func.count(ItemRow.id), func.max(ItemRow.updated_at))
    ).one()
    return int(count or 0), str(last)


class PlaylistCache:
    """Playlists per screen, re-planned when the store changes or a playlist's time is up."""

    def __init__(self, rt: Runtime):
        self.rt = rt
        self._lock = threading.Lock()
        self._fingerprint: tuple[int, str] | None = None
        self._items: list[Item] = []
        self._loaded_at: datetime | None = None
        self._plans: dict[str, ScreenPlaylist] = {}
        self._shapes: dict[tuple[Any, ...], ScreenPlaylist] = {}

    def invalidate(self) -> None:
        with self._lock:
            self._fingerprint = None
            self._plans.clear()
            self._shapes.clear()

    def refresh(self, at: datetime) -> None:
        """Reload the items if the store changed since (one cheap query when it did not)."""
        with self.rt.session() as session:
            fp = store_fingerprint(session)
            with self._lock:
                stale = (
                    fp != self._fingerprint
                    or self._loaded_at is None
                    or not self._loaded_at <= at < self._loaded_at + PLAN_HORIZON / 2
                )
            if stale:
                items = load_items(session, at, cleared_seconds(self.rt))
                with self._lock:
                    self._fingerprint, self._items, self._loaded_at = fp, items, at
                    self._plans.clear()
                    self._shapes.clear()

    def get(self, screen_id: str, at: datetime, *, refresh: bool = True) -> ScreenPlaylist:
        """The screen's playlist at ``at``; ``refresh=False`` trusts a refresh just made."""
        screen = self.rt.tree.screen(screen_id)
        if refresh:
            self.refresh(at)
        with self._lock:
            cached = self._plans.get(screen_id)
            alike = self._shapes.get(shape(screen))
            items = self._items
        if cached and cached.generated_at <= at < cached.next_change_at:
            return cached
        if alike and alike.generated_at <= at < alike.next_change_at:
            fresh = like(self.rt, alike, screen)
        else:
            fresh = build(self.rt, screen, items, at)
        with self._lock:
            self._plans[screen_id] = fresh
            if items is self._items:
                self._shapes[shape(screen)] = fresh
        return fresh


def cache_for(rt: Runtime) -> PlaylistCache:
    """The runtime's playlist cache (one per process and runtime)."""
    cache = rt.__dict__.get("_playlist_cache")
    if cache is None:
        cache = rt.__dict__.setdefault("_playlist_cache", PlaylistCache(rt))
    return cache
