"""The collectors' API: CAP alerts in (``POST /api/alerts``) and collection runs out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from publisher.collect.history import recent_runs
from publisher.collect.oneoff import ingest_alert
from publisher.errors import PublisherError
from publisher.web import runtime
from publisher.web.api import token_required

bp = Blueprint("collect_api", __name__, url_prefix="/api")
RUNS_LIMIT_MAX = 500


@bp.post("/alerts")
@token_required
def post_alert() -> Any:
    """Ingest one CAP message (XML body); 202 with the reason when it is held for review."""
    rt = runtime()
    data = request.get_data(cache=False)
    if not data.strip():
        raise PublisherError("the request body must be a CAP 1.2 XML message")
    clock = current_app.config.get("PUBLISHER_CLOCK")
    result = ingest_alert(rt, data, g.principal, via="api:alerts", now=clock() if clock else None)
    item_id = result.item_ids[0] if result.item_ids else None
    body: dict[str, Any] = {"item_id": item_id, "items": result.item_ids, "run": result.as_json()}
    if result.held:  # stored for review, shown nowhere until an approver approves it
        body["held"] = True
        body["reason"] = "; ".join(f"{s.entry}: held for review: {s.reason}" for s in result.held)
        return jsonify(body), 202
    if item_id is not None:
        body["url"] = rt.item_url(item_id)
    return jsonify(body), 201 if result.created else 200


@bp.get("/collect/runs")
@token_required
def runs() -> Any:
    """Recent collection runs, newest first (``?source=NAME&limit=N``)."""
    try:
        limit = min(int(request.args.get("limit", 50)), RUNS_LIMIT_MAX)
    except ValueError:
        raise PublisherError("limit must be a whole number", field="limit") from None
    with runtime().session() as session:
        found = recent_runs(session, source=request.args.get("source"), limit=max(limit, 1))
    return jsonify({"runs": found})
