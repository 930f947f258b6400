"""Paper and phones for staff: print an item's poster, print each district's weekly bulletin,
and see how many residents' browsers are subscribed to each area's notifications (numbers
only: nothing else is kept about them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, request

from publisher.plan.printed import week_of
from publisher.store.push import subscriber_counts
from publisher.web import runtime
from publisher.web.admin.base import bp, clock, render_page, who
from publisher.web.admin.itemviews import item_in_scope
from publisher.web.printed import poster_for


@bp.get("/print")
def print_page() -> Any:
    """Districts within scope, by region: this and next week's bulletins, subscriber counts."""
    me, rt, at = who(), runtime(), clock()
    this_week = week_of(None, at)
    next_week = week_of((this_week.monday + timedelta(days=7)).isoformat(), at)
    with rt.session() as s:
        counts = subscriber_counts(s)
    areas = [rt.tree.get(c) for c in rt.tree.audience(me.scope)]
    scope_total = sum(n for code, n in counts.items() if code in {a.code for a in areas})
    return render_page(
        "print.html",
        areas=areas,
        counts=counts,
        scope_total=scope_total,
        weeks=[this_week, next_week],
    )


@bp.get("/items/<int:item_id>/poster.pdf")
def item_poster(item_id: int) -> Response:
    """An item's poster for staff: also before its window opens (printed ahead of posting)."""
    me, rt = who(), runtime()
    item_in_scope(me, item_id)
    pdf = poster_for(
        rt,
        item_id,
        lang=request.args.get("lang", "ja"),
        size=request.args.get("size", "A4"),
        at=clock(),
        staff=True,
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="poster-{item_id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
