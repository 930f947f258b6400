"""Looking, not writing: the screens in the field and the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import flash, make_response, request
from sqlalchemy import func, select

from publisher.errors import Forbidden
from publisher.store.content import screen_row, screen_rows
from publisher.store.models import AuditRow, DeliveryRow
from publisher.store.screens import rotate_screen_token
from publisher.web import runtime
from publisher.web.admin.base import bp, clock, render_page, who
from publisher.web.admin.messages import M

ONLINE_WITHIN_S = 3 * 60
AUDIT_PAGE_SIZE = 50
# Bookkeeping that changes on every write: left out of the before/after table.
_AUDIT_NOISE = {"updated_at", "revision"}


@bp.get("/screens")
def screens(fresh: dict[str, str] | None = None) -> Any:
    """Every screen within scope: online or not, what it shows, which version, how delivered.

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
    with rt.session() as s:
        rows = [r for r in screen_rows(s) if r.area_code in wanted]
        last = {
            d.screen_id: d
            for d in s.scalars(
                select(DeliveryRow).where(
                    DeliveryRow.id.in_(
                        select(func.max(DeliveryRow.id)).group_by(DeliveryRow.screen_id)
                    )
                )
            )
        }
        delivered = dict(
            s.execute(
                select(DeliveryRow.screen_id, func.max(DeliveryRow.delivered_at))
                .where(DeliveryRow.state == "delivered")
                .group_by(DeliveryRow.screen_id)
            ).all()
        )
        failures = dict(
            s.execute(
                select(DeliveryRow.screen_id, func.count())
                .where(DeliveryRow.state == "failed")
                .group_by(DeliveryRow.screen_id)
            ).all()
        )
    listed = []
    for r in rows:
        online = r.last_heartbeat_at is not None and at - r.last_heartbeat_at <= timedelta(
            seconds=ONLINE_WITHIN_S
        )
        d = last.get(r.id)
        listed.append(
            {
                "id": r.id,
                "area": rt.tree.get(r.area_code).display_name,
                "location": r.location,
                "size": f"{r.width}×{r.height}",
                "online": online,
                "heartbeat": r.last_heartbeat_at,
                "showing": r.last_slide or (f"#{r.last_item_id}" if r.last_item_id else ""),
                "item_id": r.last_item_id,
                "version_on_screen": r.version_on_screen or "",
                "latest_version": r.latest_version or "",
                "delivery": r.delivery,
                "delivery_state": d.state if d else "",
                "delivery_error": d.last_error if d and d.state == "failed" else "",
                "delivered_at": delivered.get(r.id),
                "failures": failures.get(r.id, 0),
                "player_url": fresh.get(r.id, "") if me.at_least("admin") else "",
            }
        )
    return render_page("screens.html", screens=listed, regions=regions, region=region)


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


def changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> list[tuple[str, Any, Any]]:
    """The fields whose value differs, as (field, before, after); a creation lists every field."""
    before, after = before or {}, after or {}
    keys = [k for k in (*after, *(k for k in before if k not in after)) if k not in _AUDIT_NOISE]
    return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


def _visible_to(me: Any, tree: Any, row: AuditRow) -> bool:
    if me.scope == tree.ward_code:
        return True
    if row.entity != "item":
        return False
    for side in (row.after, row.before):
        if side and side.get("targets"):
            return all(t in tree and tree.within(t, me.scope) for t in side["targets"])
    return False


@bp.get("/audit")
def audit_log() -> Any:
    """Every change, newest first: who, when (ward time), what, and the fields it changed."""
    me, rt = who(), runtime()
    entity_id = request.args.get("entity_id", "").strip()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    query = select(AuditRow).order_by(AuditRow.id.desc())
    if entity_id:
        query = query.where(AuditRow.entity_id == entity_id)
    with rt.session() as s:
        if me.scope == rt.tree.ward_code:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = list(
                s.scalars(query.offset((page - 1) * AUDIT_PAGE_SIZE).limit(AUDIT_PAGE_SIZE))
            )
        else:  # scope is checked on each entry's items, so page in Python
            visible = [
                r
                for r in s.scalars(query.where(AuditRow.entity == "item"))
                if _visible_to(me, rt.tree, r)
            ]
            total = len(visible)
            rows = visible[(page - 1) * AUDIT_PAGE_SIZE : page * AUDIT_PAGE_SIZE]
        entries = [
            {
                "at": r.at,
                "actor": r.actor,
                "action": r.action,
                "entity": r.entity,
                "entity_id": r.entity_id,
                "changes": changes(r.before, r.after),
            }
            for r in rows
        ]
    pages = max(1, -(-total // AUDIT_PAGE_SIZE))
    return render_page(
        "audit.html", entries=entries, entity_id=entity_id, page=page, pages=pages, total=total
    )
