"""画面の状態: one row per lobby screen in the staff member's scope, in words.

Where it is, whether it answers (a word and a symbol), the title of the item on screen now
(the heartbeat's item, or its slide found in the screen's current playlist), whether it shows
the planned version or how far behind it is, and its last delivery in plain Japanese; errors'
raw text and the player URL (without its token, which is stored only hashed) in a details view.
Failure counts come from :func:`publisher.store.screens.delivery_summaries`, as in
``publisher screens``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import flash, make_response, request
from sqlalchemy import select

from publisher.areas import LANGUAGES
from publisher.deliver.playlists import ScreenPlaylist, cache_for
from publisher.errors import Forbidden
from publisher.plan.screens import ROLE_CLEARED
from publisher.store.content import screen_row, screen_rows
from publisher.store.models import ScreenRow, TranslationRow
from publisher.store.screens import (
    DeliverySummary,
    delivery_summaries,
    rotate_screen_token,
    screen_status,
)
from publisher.timetable import load_schedule
from publisher.web import runtime
from publisher.web.admin.base import bp, clock, jst, render_page, who
from publisher.web.admin.messages import M

log = logging.getLogger(__name__)

_HTTP_STATUS = re.compile(r"^[A-Z]+ \S+: (\d{3})\b")
_TIMEOUT = ("no answer within", "no complete answer within", "Timeout", "timed out")
_CONNECT = ("ConnectionError", "Connection refused", "NewConnectionError", "Name or service")
_ANSWER = ("is not JSON", "must be a JSON object", "'missing' must list")
_SETUP = ("but no endpoint", "but no folder", "no delivery target", "export stage")
# The status words and symbols (a symbol is never the only sign: the word is always there).
STATUS = {
    "online": ("●", "screen_online", "ok"),
    "offline": ("▲", "screen_offline", "bad"),
    "never seen": ("○", "screen_never", "idle"),
}


def error_reason(text: str | None) -> str:
    """A delivery error in plain Japanese: 接続できません, 時間切れ, HTTP 503, …"""
    text = text or ""
    status = _HTTP_STATUS.match(text)
    if status:
        return M["error_http"].format(status=status.group(1))
    if any(s in text for s in _TIMEOUT):
        return M["error_timeout"]
    if any(s in text for s in _CONNECT):
        return M["error_connect"]
    if any(s in text for s in _ANSWER):
        return M["error_answer"]
    if "cannot write the bundle" in text:
        return M["error_folder"]
    if any(s in text for s in _SETUP):
        return M["error_setup"]
    return M["error_other"]


def ago(at: datetime | None, now: datetime) -> str:
    """「たった今」「5分前」「3時間前」「2日前」."""
    if at is None:
        return M["never"]
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 1:
        return M["ago_now"]
    if minutes < 60:
        return M["ago_minutes"].format(n=minutes)
    if minutes < 48 * 60:
        return M["ago_hours"].format(n=minutes // 60)
    return M["ago_days"].format(n=minutes // (24 * 60))


def behind(since: datetime | None, now: datetime, *, exact: bool) -> str:
    """「12分遅れ」 (or 「12分以上遅れ」 when ``since`` is only a lower bound)."""
    if since is None:
        return M["behind_unknown"]
    minutes = max(1, int((now - since).total_seconds() // 60))
    suffix = "" if exact else "_at_least"
    if minutes < 120:
        return M["behind_minutes" if exact else "behind_at_least"].format(minutes=minutes)
    if minutes < 48 * 60:
        return M[f"behind_hours{suffix}"].format(hours=minutes // 60)
    return M[f"behind_days{suffix}"].format(days=minutes // (24 * 60))


@dataclass(frozen=True)
class Version:
    up_to_date: bool
    text: str
    known: bool = True  # False: nothing to compare (never reported, or no plan)


def version_state(
    row: ScreenRow, planned: ScreenPlaylist | None, summary: DeliverySummary | None, now: datetime
) -> Version:
    """Does the screen show what is planned now, and if not, since when has it been behind?

    A pushed screen fell behind when the first version it did not get was built (its delivery
    log says when). A pull screen fetches its own playlist; the moment this process planned the
    current version is the latest it can have changed, so its lag is a lower bound."""
    if row.last_heartbeat_at is None and row.version_on_screen is None:
        return Version(False, M["showing_nothing"], known=False)
    if planned is None:
        return Version(False, M["version_unplanned"], known=False)
    if row.version_on_screen == planned.version:
        return Version(True, M["up_to_date"])
    if row.version_on_screen is None:
        return Version(False, M["version_unreported"], known=False)
    if row.delivery != "pull" and summary is not None and summary.last.state != "delivered":
        since = summary.failing_since or summary.last.created_at
        return Version(False, behind(min(since, planned.generated_at), now, exact=True))
    return Version(False, behind(planned.generated_at, now, exact=False))


def showing(row: ScreenRow, planned: ScreenPlaylist | None, titles: dict[int, str]) -> str:
    """The title of the item on screen now, from the heartbeat's item or its slide key."""
    if row.last_heartbeat_at is None:
        return M["showing_nothing"]
    by_key = {s.key: s.entry for s in planned.slides} if planned else {}
    entry = by_key.get(row.last_slide or "")
    if entry is not None:
        title = entry.item.title or titles.get(entry.item_id, "")
        return f"{title}{M['showing_cleared']}" if entry.role == ROLE_CLEARED else title
    if row.last_item_id is not None and row.last_item_id in titles:
        return titles[row.last_item_id]
    return M["showing_unknown"] if (row.last_slide or row.last_item_id) else M["showing_nothing"]


def delivery_text(row: ScreenRow, summary: DeliverySummary | None, now: datetime) -> dict[str, Any]:
    """The last delivery in plain Japanese, and the raw error for the details view."""
    method = M.get(f"delivery_{row.delivery}", row.delivery)
    if row.delivery == "pull":
        return {"method": method, "state": "pull", "text": "", "notes": [], "raw": ""}
    if summary is None:
        return {
            "method": method,
            "state": "none",
            "text": M["delivery_none"],
            "notes": [],
            "raw": "",
        }
    d = summary.last
    notes: list[str] = []
    if d.state == "delivered":
        text = M["delivery_ok"].format(ago=ago(d.delivered_at, now))
        if summary.failures:
            text += M["delivery_after_failures"].format(failures=summary.failures)
        return {"method": method, "state": "ok", "text": text, "notes": notes, "raw": ""}
    if not summary.failures:
        return {
            "method": method,
            "state": "pending",
            "text": M["delivery_pending"],
            "notes": notes,
            "raw": "",
        }
    text = M["delivery_failing"].format(
        failures=summary.failures, reason=error_reason(summary.last_error)
    )
    if summary.failing_since:
        notes.append(M["delivery_failing_since"].format(since=jst(summary.failing_since)))
    if summary.last_success_at:
        notes.append(M["delivery_last_ok"].format(at=jst(summary.last_success_at)))
    if d.next_attempt_at:
        notes.append(M["delivery_retry_at"].format(at=jst(d.next_attempt_at)))
    return {
        "method": method,
        "state": "failing",
        "text": text,
        "notes": notes,
        "raw": summary.last_error or "",
    }


def _plans(rt: Any, ids: list[str], at: datetime) -> dict[str, ScreenPlaylist]:
    """Each screen's playlist now, from the process's cache (planned, not rendered)."""
    cache = cache_for(rt)
    out: dict[str, ScreenPlaylist] = {}
    try:
        cache.refresh(at)
    except Exception:  # the page still lists the screens without their plans
        log.exception("screens page: the playlists could not be loaded")
        return out
    for sid in ids:
        if sid not in rt.tree.screens:
            continue
        try:
            out[sid] = cache.get(sid, at, refresh=False)
        except Exception:
            log.exception("screens page: screen %s could not be planned", sid)
    return out


@bp.get("/screens")
def screens(fresh: dict[str, str] | None = None) -> Any:
    """Every screen within scope: answering or not, what it shows, how current, how delivered.

    ``fresh``: a just-rotated screen's player URL, shown in this one answer (only the token's
    hash is stored, so the URL cannot be shown again)."""
    me, rt, at = who(), runtime(), clock()
    fresh = fresh or {}
    regions = [
        rt.tree.get(c) for c in rt.tree.audience(me.scope) if rt.tree.get(c).tier != "district"
    ]
    region = request.args.get("region", "")
    if region not in rt.tree or not rt.tree.within(region, me.scope):
        region = ""
    wanted = set(rt.tree.audience(region or me.scope))
    only_problems = request.args.get("show") == "problems"
    offline_after_s = load_schedule(rt.settings["SCHEDULES_DIR"]).offline_after_s
    with rt.session() as s:
        rows = [r for r in screen_rows(s) if r.area_code in wanted]
        summaries = delivery_summaries(s, [r.id for r in rows])
        plans = _plans(rt, [r.id for r in rows], at)
        item_ids = {r.last_item_id for r in rows if r.last_item_id is not None}
        titles: dict[int, str] = dict(
            s.execute(
                select(TranslationRow.item_id, TranslationRow.title).where(
                    TranslationRow.item_id.in_(item_ids), TranslationRow.lang == "ja"
                )
            ).all()
        )
        listed: list[dict[str, Any]] = []
        for r in rows:
            status = screen_status(r, at, offline_after_s)
            symbol, word, tone = STATUS[status]
            summary, planned = summaries.get(r.id), plans.get(r.id)
            listed.append(
                {
                    "id": r.id,
                    "area": rt.tree.get(r.area_code).display_name
                    if r.area_code in rt.tree
                    else r.area_code,
                    "location": r.location,
                    "size": f"{r.width}×{r.height}",
                    "languages": [LANGUAGES.get(lang, lang) for lang in r.languages],
                    "status": status,
                    "symbol": symbol,
                    "status_word": M[word],
                    "tone": tone,
                    "seen": M["screen_last_seen"].format(ago=ago(r.last_heartbeat_at, at))
                    if r.last_heartbeat_at
                    else M["screen_never_seen"],
                    "heartbeat": r.last_heartbeat_at,
                    "showing": showing(r, planned, titles),
                    "item_id": r.last_item_id,
                    "version": version_state(r, planned, summary, at),
                    "version_on_screen": r.version_on_screen or "—",
                    "planned_version": planned.version if planned else "—",
                    "delivery": delivery_text(r, summary, at),
                    "failures": summary.failures if summary else 0,
                    "endpoint": r.endpoint or "",
                    "folder": r.folder or "",
                    "player_url": f"{rt.settings.base_url}/play/{r.id}",
                    "fresh_url": fresh.get(r.id, "") if me.at_least("admin") else "",
                }
            )
    if only_problems:
        listed = [x for x in listed if _has_problem(x)]
    counts = {
        "total": len(listed),
        "online": sum(1 for x in listed if x["status"] == "online"),
        "behind": sum(1 for x in listed if x["version"].known and not x["version"].up_to_date),
        "failing": sum(1 for x in listed if x["delivery"]["state"] == "failing"),
    }
    return render_page(
        "screens.html",
        screens=listed,
        regions=regions,
        region=region,
        counts=counts,
        only_problems=only_problems,
    )


def _has_problem(screen: dict[str, Any]) -> bool:
    """Silent after answering, behind the plan, or failing to receive its bundle."""
    version = screen["version"]
    return (
        screen["status"] == "offline"
        or (version.known and not version.up_to_date)
        or screen["delivery"]["state"] == "failing"
    )


@bp.post("/screens/<screen_id>/rotate-token")
def rotate_token(screen_id: str) -> Any:
    """Admins give a screen in their scope a new token (the old player URL stops working)."""
    me, rt = who(), runtime()
    me.require_role("admin", "changing a screen's token")
    with rt.session() as s:
        row = screen_row(s, screen_id)
        if row.area_code not in rt.tree or not rt.tree.within(row.area_code, me.scope):
            raise Forbidden(f"screen {screen_id} is outside your scope")
        token = rotate_screen_token(s, screen_id, actor=me.name)
    flash(M["screen_token_rotated"])
    resp = make_response(screens({screen_id: rt.player_url(screen_id, token)}))
    resp.headers["Cache-Control"] = "no-store"
    return resp
