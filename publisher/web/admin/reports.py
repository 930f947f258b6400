"""効果の測定 (``/admin/reports``): what reached whom, per area and period, within the
staff member's scope — charts drawn on the server (:mod:`publisher.render.charts`), each with
its table, a per-item view, and the exports as downloads (CSV with BOM, JSON).

More sections (e.g. push subscribers per area) plug in through :data:`SECTIONS`: a function
``(runtime, report) -> Section | None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from markupsafe import Markup

from publisher.errors import Forbidden, PublisherError
from publisher.items import CATEGORIES, JST
from publisher.render import charts
from publisher.runtime import Runtime
from publisher.store import push
from publisher.store.reach import POSTER
from publisher.store.report_view import COLUMNS, Report, build, parse_period, to_csv, to_json
from publisher.web import runtime
from publisher.web.admin.base import bp, clock, render_page, who
from publisher.web.admin.messages import M

TOP_ITEMS = 15


@dataclass(frozen=True)
class Section:
    """One more part of the page: a heading and a table (label, value)."""

    title: str
    rows: list[tuple[str, str]]
    note: str = ""


# ``(runtime, report) -> Section | None``, in page order (issue: push subscribers per area)
SECTIONS: list[Callable[[Runtime, Report], Section | None]] = []


def lang_name(lang: str | None) -> str:
    return M.get(f"lang_{lang}", lang or "")


def _category(name: str) -> str:
    return CATEGORIES.get(name, name) if name and name != "その他" else M["category_none"]


def _report(item_id: int | None = None) -> Report:
    """The report the query string asks for, inside the staff member's scope."""
    me, rt, now = who(), runtime(), clock()
    area = request.args.get("area") or me.scope
    if area not in rt.tree:
        raise PublisherError(f"unknown area '{area}'", field="area")
    if not rt.tree.within(area, me.scope):
        raise Forbidden(f"{area} is outside your scope ({me.scope})")
    since, until = parse_period(
        request.args.get("since") or None,
        request.args.get("until") or None,
        now.astimezone(JST).date(),
    )
    with rt.session() as session:
        from publisher.store.plays import fold

        fold(session, now)
    with rt.session() as session:
        return build(session, rt.tree, area, since, until, now, item_id)


def _table(rows: list[tuple[str, float]], unit: str = "") -> list[tuple[str, str]]:
    return [(label, charts.number(value) + unit) for label, value in rows]


def _chart(
    chart_id: str, title: str, rows: list[tuple[str, float]], unit: str = "", kind: str = "bars"
) -> dict[str, Any]:
    draw = charts.columns if kind == "columns" else charts.bars
    return {
        "id": chart_id,
        "title": title,
        "svg": Markup(draw(chart_id, title, rows, unit)),
        "table": _table(rows, unit),
    }


def _summary(r: Report) -> list[tuple[str, str, str]]:
    """(what, count, per 1,000 residents) for the headline numbers."""
    hours = sum(r.hours_by("lang").values())
    plays = sum(x["plays"] for x in r.plays)
    out = [
        (M["reports_screen_hours"], charts.number(hours), ""),
        (M["reports_plays"], charts.number(plays), ""),
    ]
    for label, value in (
        (M["reports_scans"], r.total("scan")),
        (M["reports_poster_scans"], r.counts("scan", "format").get(POSTER, 0)),
        (M["reports_views"], r.total("view")),
        (M["reports_feed_readers"], r.total("feed")),
    ):
        per = r.per_thousand(value)
        out.append((label, charts.number(value), "" if per is None else charts.number(per)))
    out.append((M["reports_sns"], charts.number(r.total("sns")), ""))
    return out


def _charts(r: Report) -> list[dict[str, Any]]:
    items = r.per_item()[:TOP_ITEMS]
    feeds = r.counts("feed", "format")
    return [
        _chart(
            "hours-day",
            M["reports_hours_per_day"],
            list(r.hours_per_day().items()),
            " 時間",
            "columns",
        ),
        _chart(
            "hours-category",
            M["reports_hours_by_category"],
            [(_category(k), v) for k, v in r.hours_by("category").items()],
            " 時間",
        ),
        _chart(
            "hours-lang",
            M["reports_hours_by_lang"],
            [(lang_name(k), v) for k, v in r.hours_by("lang").items()],
            " 時間",
        ),
        _chart(
            "plays-item",
            M["reports_plays_per_item"],
            [(f"#{x['item_id']} {x['title']}", x["plays"]) for x in items],
            " 回",
        ),
        _chart(
            "scans-lang",
            M["reports_scans_by_lang"],
            [(lang_name(k), v) for k, v in r.counts("scan", "lang").items()],
            " 回",
        ),
        _chart(
            "views-lang",
            M["reports_views_by_lang"],
            [(lang_name(k), v) for k, v in r.counts("view", "lang").items()],
            " 回",
        ),
        _chart(
            "feeds-format",
            M["reports_feeds_by_format"],
            [(k.upper(), v) for k, v in feeds.items()],
            " 人",
        ),
        _chart(
            "uptime",
            M["reports_uptime"],
            [(k, v * 100) for k, v in r.uptime_by_screen().items()],
            " %",
        ),
    ]


def _query(r: Report, **more: Any) -> dict[str, Any]:
    return {"area": r.area.code, "since": r.since, "until": r.until, **more}


@bp.get("/reports")
def reports() -> Any:
    """The dashboard of an area and period (default: the staff member's scope, 30 days)."""
    me, rt = who(), runtime()
    r = _report()
    extra = [s for s in (section(rt, r) for section in SECTIONS) if s is not None]
    return render_page(
        "reports.html",
        r=r,
        query=_query(r),
        areas=[rt.tree.get(c) for c in rt.tree.audience(me.scope)],
        summary=_summary(r),
        charts=_charts(r),
        items=r.per_item()[:TOP_ITEMS],
        sns=sorted(r.counts("sns", "account").items()),
        sections=extra,
        lang_name=lang_name,
    )


@bp.get("/reports/items/<int:item_id>")
def report_item(item_id: int) -> Any:
    """One item's reach: "this notice ran 312 times on 9 screens, 41 scans, 28 in English"."""
    r = _report(item_id)
    (row,) = r.per_item() or [
        {
            "item_id": item_id,
            "title": r.items.get(item_id, {}).get("title", ""),
            "plays": 0,
            "seconds": 0.0,
            "screens": 0,
            "estimated": 0,
            "scans": 0,
            "scans_by_lang": {},
            "views": 0,
        }
    ]
    langs = (
        "、".join(f"{lang_name(k)} {v} 回" for k, v in row["scans_by_lang"].most_common())
        if row["scans_by_lang"]
        else "—"
    )
    sentence = M["reports_item_sentence"].format(
        screens=row["screens"],
        plays=f"{row['plays']:,}",
        hours=charts.number(row["seconds"] / 3600),
        scans=row["scans"],
        langs=langs,
        views=row["views"],
    )
    by_screen: dict[str, int] = {}
    for p in r.plays:
        by_screen[p["screen"]] = by_screen.get(p["screen"], 0) + p["plays"]
    return render_page(
        "reports_item.html",
        r=r,
        row=row,
        sentence=sentence,
        query=_query(r, item=item_id),
        charts=[
            _chart(
                "item-hours-day",
                M["reports_hours_per_day"],
                list(r.hours_per_day().items()),
                " 時間",
                "columns",
            ),
            _chart("item-screens", M["reports_plays"], sorted(by_screen.items()), " 回"),
            _chart(
                "item-scans",
                M["reports_scans_by_lang"],
                [(lang_name(k), v) for k, v in row["scans_by_lang"].items()],
                " 回",
            ),
        ],
    )


@bp.get("/reports/<any(plays, reach, uptime):kind>.<any(csv, json):fmt>")
def report_download(kind: str, fmt: str) -> Response:
    """The export as a file: CSV (UTF-8 with BOM, for Excel) or JSON; columns in the README."""
    item = request.args.get("item")
    r = _report(int(item) if item and item.isascii() and item.isdigit() else None)
    body = to_json(r, kind) if fmt == "json" else to_csv(r.rows(kind), COLUMNS[kind])
    name = f"{kind}_{r.area.code.replace('/', '-')}_{r.since}_{r.until}.{fmt}"
    mimetype = "application/json" if fmt == "json" else "text/csv"
    resp = Response(body, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


def push_subscribers(rt: Runtime, report: Report) -> Section | None:
    """Residents' phones and computers subscribed to notifications, per area within the
    report's area (numbers only: nothing else is kept of a subscription)."""
    with rt.session() as session:
        counts = push.subscriber_counts(session)
    rows = [
        (rt.tree.get(code).display_name, f"{n:,}")
        for code, n in sorted(counts.items())
        if code in rt.tree and rt.tree.within(code, report.area.code)
    ]
    total = sum(
        n
        for code, n in counts.items()
        if code in rt.tree and rt.tree.within(code, report.area.code)
    )
    return Section(
        M["reports_push_title"],
        rows or [(M["reports_push_none"], "0")],
        M["reports_push_note"].format(total=f"{total:,}"),
    )


SECTIONS.append(push_subscribers)
