"""``GET /api/screens``: how the screens in a staff member's scope are doing (bearer token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify

from publisher.items import utcnow
from publisher.store.screens import screen_report
from publisher.timetable import load_schedule
from publisher.web import runtime
from publisher.web.api import token_required

bp = Blueprint("screens_status", __name__, url_prefix="/api")


@bp.get("/screens")
@token_required
def screens() -> Any:
    """Every screen within the token's scope: heartbeat, version on screen vs latest, deliveries."""
    rt = runtime()
    in_scope = [s.id for s in rt.tree.screens_in(rt.tree.audience(g.principal.scope))]
    offline_after_s = load_schedule(rt.settings["SCHEDULES_DIR"]).offline_after_s
    with rt.session() as session:
        rows = screen_report(session, utcnow(), offline_after_s, in_scope)
    return jsonify({"scope": g.principal.scope, "screens": rows})
