"""Lobby screens: the player page, its playlist, its push stream, proof of play, the slides.

Every route needs the screen's token: the cookie ``/play/<id>?token=`` sets (then redirects to
``/play/<id>``), the ``X-Screen-Token`` or bearer header, or ``?token=`` (see
:mod:`publisher.web.screen_auth`); a wrong or missing token gets 403 and no data, an unknown
screen 404.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
)

from publisher.deliver.playlists import (
    ScreenPlaylist,
    audio_dir,
    cache_for,
    render_first_then_rest,
    render_planned,
    render_planned_audio,
    slides_dir,
)
from publisher.deliver.push import start_listening
from publisher.errors import PublisherError
from publisher.items import utcnow
from publisher.plan.screens import EMERGENCY_LANGS
from publisher.store.content import ITEM_ID_MAX
from publisher.store.models import HeartbeatRow, ScreenRow
from publisher.store.plays import parse_plays, record_plays
from publisher.store.report_view import above
from publisher.web import runtime
from publisher.web.screen_auth import (
    COOKIE_MAX_AGE_S,
    cookie_name,
    cookie_paths,
    given_token,
    screen_token_problem,
)

bp = Blueprint("player", __name__)

PLAYLIST_POLL_S = 30
HEARTBEAT_INTERVAL_S = 30
PLAYS_SEND_S = 30
SSE_HEARTBEAT_S = 15
SSE_RETRY_MS = 2000
SLIDE_CACHE_CONTROL = "public, max-age=31536000, immutable"
PLAYER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _screen_token(screen_id: str | None) -> str:
    """The caller's token, after checking it (403) and the screen (404); ``screen_id`` None:
    any active screen's token (slides and audio are shared)."""
    given = given_token(screen_id, request.args, request.headers, request.cookies)
    problem = screen_token_problem(runtime(), screen_id, given)
    if problem is not None:
        abort(*problem)
    return given


def _config(name: str, default: Any) -> Any:
    return current_app.config.get(name, default)


def _now() -> Any:
    """Now, or the app's injected clock (tests)."""
    return current_app.config.get("PUBLISHER_CLOCK", utcnow)()


def _current(screen_id: str) -> ScreenPlaylist:
    return cache_for(runtime()).get(screen_id, utcnow())


@bp.get("/play/<screen_id>")
def play(screen_id: str) -> Any:
    """The player page a lobby screen's kiosk browser opens.

    Opened with ``?token=``: the token goes into the screen's cookies and the browser is sent to
    ``/play/<id>``, so the token leaves the address bar and every later request line."""
    token = _screen_token(screen_id)
    if "token" in request.args:
        resp = redirect(f"/play/{screen_id}", code=303)
        # Secure when this request came over TLS (behind a proxy: as PUBLISHER_PROXY_HOPS lets
        # ProxyFix say) or the ward's public address is https; a client's own header is no proof
        secure = request.is_secure or runtime().settings.base_url.startswith("https://")
        for path in cookie_paths(screen_id):
            resp.set_cookie(
                cookie_name(screen_id),
                token,
                max_age=COOKIE_MAX_AGE_S,
                path=path,
                secure=secure,
                httponly=True,
                samesite="Strict",
            )
        resp.headers["Cache-Control"] = "no-store"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp
    screen = runtime().tree.screen(screen_id)
    html = render_template(
        "player/play.html",
        screen=screen,
        poll_s=_config("PLAYER_POLL_S", PLAYLIST_POLL_S),
        heartbeat_s=_config("PLAYER_HEARTBEAT_S", HEARTBEAT_INTERVAL_S),
        plays_s=_config("PLAYER_PLAYS_S", PLAYS_SEND_S),
    )
    resp = Response(html, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = PLAYER_CSP
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/play/sw.js")
def service_worker() -> Any:
    """The player's service worker, served under /play/ so it may cover every player page."""
    resp = send_from_directory(current_app.static_folder or "", "player/sw.js", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/api/screens/<screen_id>/playlist")
def screen_playlist(screen_id: str) -> Any:
    """The screen's playlist as JSON with slide URLs; ETag = version, 304 when unchanged."""
    _screen_token(screen_id)
    rt = runtime()
    sp = _current(screen_id)
    etag = f'"{sp.version}"'
    if request.if_none_match.contains(sp.version):
        resp = Response(status=304)
    else:
        render_first_then_rest(rt, sp)
        data = sp.as_json(
            lambda key: f"/slides/{key}.png?screen={screen_id}",
            lambda key: f"/audio/{key}.wav?screen={screen_id}",
        )
        fixed = _config("PLAYER_SLIDE_DURATION_S", None)  # tests: short slides
        if fixed is not None:
            for entry in data["entries"]:
                entry["duration_s"] = fixed
        resp = jsonify(data)
        _note_latest_version(screen_id, sp.version)
    resp.headers["ETag"] = etag
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _note_latest_version(screen_id: str, version: str) -> None:
    with runtime().session() as session:
        row = session.get(ScreenRow, screen_id)
        if row is not None and row.latest_version != version:
            row.latest_version = version


@bp.get("/api/screens/<screen_id>/events")
def screen_events(screen_id: str) -> Any:
    """Server-sent events: ``event: playlist`` when the screen's playlist changes."""
    _screen_token(screen_id)
    rt = runtime()
    hub = start_listening(rt)
    sp = _current(screen_id)
    sub = hub.subscribe(screen_id, sp.version)
    heartbeat_s = float(_config("PLAYER_SSE_HEARTBEAT_S", SSE_HEARTBEAT_S))

    def stream() -> Iterator[str]:
        try:
            hello = json.dumps({"version": sp.version, "override": sp.plan.override})
            yield f"retry: {SSE_RETRY_MS}\nevent: hello\ndata: {hello}\n\n"
            while not hub.closed.is_set():
                message = sub.wait(heartbeat_s)
                if message is None:
                    yield f": keep-alive {int(time.time())}\n\n"
                else:
                    yield f"event: playlist\ndata: {json.dumps(message)}\n\n"
        finally:
            hub.unsubscribe(sub)

    resp = Response(stream(), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return resp


@bp.post("/api/screens/<screen_id>/heartbeat")
def heartbeat(screen_id: str) -> Any:
    """Proof of play: the screen reports the slide on screen and the version it plays."""
    _screen_token(screen_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise PublisherError("the heartbeat must be a JSON object")
    item_id = data.get("item_id")
    if item_id is not None and (
        not isinstance(item_id, int) or isinstance(item_id, bool) or not 1 <= item_id <= ITEM_ID_MAX
    ):
        raise PublisherError("must be an item id (a whole number)", field="item_id")
    slide = data.get("slide")
    version = data.get("version")
    for name, value in (("slide", slide), ("version", version)):
        # printable: no NUL, control character or lone surrogate, which no column holds
        if value is not None and (
            not isinstance(value, str) or len(value) > 100 or not value.isprintable()
        ):
            raise PublisherError("must be printable text of at most 100 characters", field=name)
    at = utcnow()
    with runtime().session() as session:
        row = session.get(ScreenRow, screen_id)
        assert row is not None
        session.add(
            HeartbeatRow(screen_id=screen_id, at=at, item_id=item_id, slide=slide, version=version)
        )
        row.last_heartbeat_at, row.last_item_id = at, item_id
        row.last_slide, row.version_on_screen = slide, version
        if row.flagged_offline_at is not None:
            row.flagged_offline_at = None
    return jsonify({"ok": True, "at": at.isoformat()})


@bp.post("/api/screens/<screen_id>/plays")
def plays(screen_id: str) -> Any:
    """Proof of play: a batch of slides shown, each stored once per (screen, seq)."""
    _screen_token(screen_id)
    rt = runtime()
    screen = rt.tree.screen(screen_id)
    batch = parse_plays(request.get_json(silent=True), EMERGENCY_LANGS)
    areas = above(rt.tree, screen.area)
    with rt.session() as session:
        answer = record_plays(
            session, screen_id, areas, batch, _now(), int(rt.settings["PLAYS_KEEP_DAYS"])
        )
    return jsonify(answer)


@bp.get("/slides/<key>.png")
def slide(key: str) -> Any:
    """A rendered slide; its name is its content hash, so it never changes."""
    _screen_token(request.args.get("screen") or None)
    if not key.isalnum() or len(key) > 64:
        abort(404)
    if (
        not (slides_dir(runtime()) / f"{key}.png").exists()
        and render_planned(runtime(), key) is None
    ):
        abort(404)
    resp = send_from_directory(slides_dir(runtime()), f"{key}.png", max_age=31536000)
    resp.headers["Cache-Control"] = SLIDE_CACHE_CONTROL
    return resp


@bp.get("/audio/<key>.wav")
def announcement_audio(key: str) -> Any:
    """A chime or a spoken announcement; named by its content, so it never changes."""
    _screen_token(request.args.get("screen") or None)
    if not key.isalnum() or len(key) > 64:
        abort(404)
    rt = runtime()
    if not (audio_dir(rt) / f"{key}.wav").exists() and render_planned_audio(rt, key) is None:
        abort(404)
    resp = send_from_directory(audio_dir(rt), f"{key}.wav", max_age=31536000)
    resp.headers["Cache-Control"] = SLIDE_CACHE_CONTROL
    return resp
