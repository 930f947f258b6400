"""Items in the admin: the list, the form with its live preview, the workflow buttons, the
approvals queue and the emergency page. Every change goes through :mod:`publisher.store.workflow`."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from flask import abort, flash, g, redirect, request, send_from_directory, url_for

from publisher.areas import LANGUAGES, Area
from publisher.errors import Forbidden, NotFound, PublisherError
from publisher.item_input import parse_item
from publisher.items import CATEGORIES, JST, KINDS, PRIORITIES, STATUSES, WEEKDAYS, Item
from publisher.plan.residents import marked_title
from publisher.render.feeds import summary as feed_summary
from publisher.render.slides import SlideSpec, render_slide
from publisher.store import workflow
from publisher.store.conflicts import StaleEdit
from publisher.store.content import get_item, list_items
from publisher.store.models import ItemRow
from publisher.store.staff import Principal
from publisher.web import runtime
from publisher.web.admin.base import (
    bp,
    clock,
    error_text,
    field_key,
    field_label,
    render_page,
    who,
)
from publisher.web.admin.images import (
    ImageRejected,
    discard_image,
    is_stored_name,
    store_image_new,
)
from publisher.web.admin.itemform import (
    FORM_LANGUAGES,
    READING_LANGUAGES,
    blank_form,
    echo_form,
    form_revision,
    form_to_data,
    item_to_form,
    shown_value,
)
from publisher.web.admin.messages import M

PREVIEW_SIZES = {"landscape": (960, 540), "portrait": (540, 960)}
LIST_LIMIT = 1000
INTENT_STATUS = {"draft": "draft", "submit": "pending", "publish": "approved"}
RETURN_PAGES = {"approvals": "admin.approvals", "emergency": "admin.emergency"}


# -- helpers ------------------------------------------------------------------------------------


def _uploads_dir() -> Any:
    return runtime().uploads_dir


def item_in_scope(me: Principal, item_id: int) -> Item:
    """The item, if every one of its targets is within the staff member's scope; else 404."""
    rt = runtime()
    with rt.session() as s:
        item = get_item(s, item_id)
    if not me.covers(rt.tree, item.targets):
        raise NotFound(f"no item {item_id} within {me.scope}")
    return item


def target_groups(me: Principal) -> list[tuple[str, list[Area]]]:
    """The areas the staff member may target, grouped by region (the picker's fieldsets)."""
    tree = runtime().tree
    groups: dict[str, list[Area]] = {}
    for code in tree.audience(me.scope):
        area = tree.get(code)
        key = code if area.tier != "district" else (area.parent or code)
        groups.setdefault(key, []).append(area)
    return [(tree.get(k).short_name, areas) for k, areas in groups.items()]


def status_of(item: Item, at: datetime) -> tuple[str, str]:
    """(css class, label): 公開予定 for an approved item whose window has not opened yet."""
    if item.status == "approved" and item.starts_at and item.starts_at > at:
        return "scheduled", f"{M['status_scheduled']} {item.starts_at.astimezone(JST):%m/%d %H:%M}"
    if item.status == "approved" and item.ends_at and item.ends_at <= at:
        return "expired", M["status_expired"]
    return item.status, M[f"status_{item.status}"]


def summary(item: Item, chars: int = 120) -> str:
    body = item.text("ja").body.replace("\n", " ")
    return body if len(body) <= chars else body[: chars - 1] + "…"


def _image_from_request(current: str | None) -> str | None:
    """The image the form asks for; a new upload is stored (and noted in ``g.new_upload`` so a
    refused form deletes it again)."""
    upload = request.files.get("image_file")
    if upload is not None and upload.filename:
        name, new = store_image_new(upload.read(), _uploads_dir())
        if new:
            g.new_upload = name
        return name
    if request.form.get("image_remove") == "on":
        return None
    kept = request.form.get("image", "")
    return kept if kept and is_stored_name(kept, _uploads_dir()) else current


def _discard_new_upload(chosen: str | None, before: str | None) -> str:
    """After a refused form: delete the image this request uploaded (nothing refers to it);
    the form shows the image the item had before."""
    new = g.pop("new_upload", None)
    if new is None:
        return chosen or ""
    discard_image(new, _uploads_dir())
    return before or ""


def _errors_of(e: PublisherError) -> dict[str, str]:
    if isinstance(e, ImageRejected):
        text = M["error_image_big"] if e.reason == "size" else M["error_image"]
        return {"image": f"{text}（{e.message}）"}
    return {field_key(e.field) or "form": error_text(e)}


def _conflict(e: StaleEdit) -> dict[str, Any]:
    """What the other person changed, as the form lists it above the fields."""

    def show(value: Any) -> str:
        return shown_value(value, M["value_none"], M["value_yes"], M["value_no"])

    return {
        "by": "、".join(e.by),
        "at": e.at,
        "rows": [
            {
                "label": field_label(c.field) or c.field,
                "before": show(c.before),
                "after": show(c.after),
            }
            for c in e.changes
        ],
    }


def _form_page(
    item: Item | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
    conflict: dict[str, Any] | None = None,
    stale_form: bool = False,
) -> Any:
    me = who()
    rt = runtime()
    at = clock()
    return render_page(
        "item_form.html",
        status,
        item=item,
        values=values,
        errors=errors,
        groups=target_groups(me),
        languages=[(code, LANGUAGES[code]) for code in FORM_LANGUAGES],
        reading_languages=READING_LANGUAGES,
        kinds=KINDS,
        priorities=PRIORITIES,
        categories=CATEGORIES,
        weekdays=WEEKDAYS,
        me=me,
        editable=item is None or item.status not in ("withdrawn", "expired"),
        status_label=status_of(item, at) if item else None,
        item_url=rt.item_url(item.id) if item and item.id else "",
        summary=summary(item) if item else "",
        review_comment=_review_comment(item.id) if item and item.id else None,
        levels=range(1, 6),
        sns_posts=_sns_previews(item) if item and item.id else [],
        feed_title=marked_title(item) if item else "",
        feed_summary=feed_summary(item) if item else "",
        conflict=conflict,
        stale_form=stale_form,
    )


def _sns_previews(item: Item) -> list[Any]:
    """The post each network would carry, as `publisher sns preview` prints it."""
    from publisher.render.sns import NETWORKS, Limits, compose

    rt = runtime()
    return [
        compose(item, rt.tree, rt.item_url(item.id or 0), Limits.for_network(n)) for n in NETWORKS
    ]


def _review_comment(item_id: int) -> str | None:
    """Why an approver sent the item back, shown to its author while it is a draft."""
    with runtime().session() as s:
        row = s.get(ItemRow, item_id)
        return row.review_comment if row is not None and row.status == "draft" else None


def _render_png(item: Item, orientation: str) -> Any:
    rt = runtime()
    width, height = PREVIEW_SIZES[orientation]
    qr = rt.item_qr_url(item.id) if item.id else rt.settings.base_url
    spec = SlideSpec(
        item, width, height, "ja", rt.tree.issuer(item.targets), qr, picture=rt.image_file(item)
    )
    font = rt.settings.get("FONT")
    img = render_slide(spec, str(font) if font else None)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue(), 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


# -- list ---------------------------------------------------------------------------------------


@bp.get("/items")
def items() -> Any:
    """Items within the staff member's scope, filtered by area, status, kind, date and title."""
    me, rt, at = who(), runtime(), clock()
    area = request.args.get("area") or me.scope
    if area not in rt.tree or not rt.tree.within(area, me.scope):
        area = me.scope
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    q = request.args.get("q", "").strip()
    day_text = request.args.get("date", "")
    with rt.session() as s:
        found = workflow.items_in_scope(
            s,
            rt.tree,
            me,
            area=area,
            statuses=[status] if status in STATUSES else None,
            kind=kind if kind in KINDS else None,
            limit=LIST_LIMIT,
        )
    if q:
        needle = q.casefold()
        found = [i for i in found if any(needle in t.title.casefold() for t in i.translations)]
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        day = None
    if day:
        start = datetime.combine(day, datetime.min.time(), JST)
        end = start + timedelta(days=1) if day < date.max else None  # 9999-12-31: no end
        found = [
            i
            for i in found
            if (i.starts_at is None or end is None or i.starts_at < end)
            and (i.ends_at is None or i.ends_at > start)
        ]
    rows = [
        {
            "item": i,
            "status": status_of(i, at),
            "targets": "、".join(rt.tree.get(t).short_name for t in i.targets),
        }
        for i in found
    ]
    areas = [rt.tree.get(c) for c in rt.tree.audience(me.scope)]
    filters = {
        "area": area,
        "status": status,
        "kind": kind,
        "q": q,
        "date": day.isoformat() if day else "",
    }
    return render_page(
        "items.html", rows=rows, areas=areas, filters=filters, statuses=STATUSES, kinds=KINDS
    )


# -- the form -----------------------------------------------------------------------------------


@bp.route("/items/new", methods=["GET", "POST"])
def new_item() -> Any:
    """Write a new item: save as a draft, send it for approval, or (approvers) publish it."""
    me, rt = who(), runtime()
    if request.method == "GET":
        return _form_page(None, blank_form(me.scope if me.scope != rt.tree.ward_code else None), {})
    data = form_to_data(request.form)
    try:
        data["image"] = _image_from_request(None)
        data["status"] = INTENT_STATUS.get(request.form.get("intent", ""), "draft")
        with rt.session() as s:
            item = workflow.create(s, rt.tree, me, data)
    except PublisherError as e:
        values = echo_form(request.form)
        values["image"] = _discard_new_upload(data.get("image"), None)
        return _form_page(None, values, _errors_of(e), e.status)
    flash(M["saved"])
    return redirect(url_for("admin.edit_item", item_id=item.id))


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
def edit_item(item_id: int) -> Any:
    """Change an item; an editor's change to a live item sends it back for review."""
    me, rt = who(), runtime()
    item = item_in_scope(me, item_id)
    if request.method == "GET":
        return _form_page(item, item_to_form(item), {})
    revision = form_revision(request.form)
    if revision is None:
        # Without the revision the form was opened on, a newer save by a colleague cannot be
        # told from this one: nothing is written (not even an uploaded picture). The words stay;
        # the form now carries the current revision, so saving again after checking is deliberate.
        # The form page itself answers (200), not an error page: it asks to check, then save.
        values = echo_form(request.form)
        values["image"] = item.image or ""
        values["revision"] = str(item.revision)
        return _form_page(item, values, {}, stale_form=True)
    data = form_to_data(request.form)
    intent = request.form.get("intent", "save")
    try:
        data["image"] = _image_from_request(item.image)
        with rt.session() as s:
            changed = workflow.edit(s, rt.tree, me, item_id, data, revision=revision)
            if intent == "submit" and changed.status == "draft":
                workflow.transition(s, rt.tree, me, item_id, "submit")
            elif intent == "publish" and changed.status in ("draft", "pending"):
                workflow.transition(s, rt.tree, me, item_id, "approve")
    except StaleEdit as e:
        # the staff member's words stay; the form now carries the current revision, so saving
        # again (after reading what changed) is a deliberate overwrite
        values = echo_form(request.form)
        values["image"] = _discard_new_upload(data.get("image"), e.item.image)
        values["revision"] = str(e.item.revision)
        return _form_page(e.item, values, {}, 409, conflict=_conflict(e))
    except PublisherError as e:
        if isinstance(e, Forbidden | NotFound) and field_key(e.field) != "targets":
            raise
        values = echo_form(request.form)
        values["image"] = _discard_new_upload(data.get("image"), item.image)
        return _form_page(item, values, _errors_of(e), e.status)
    flash(M["saved"])
    return redirect(url_for("admin.edit_item", item_id=item_id))


@bp.post("/items/<int:item_id>/<any(submit, approve, return, withdraw):action>")
def act(item_id: int, action: str) -> Any:
    """submit | approve | return (with a comment) | withdraw — checked by the workflow."""
    me, rt = who(), runtime()
    comment = request.form.get("comment") if action == "return" else None
    try:
        with rt.session() as s:
            workflow.transition(s, rt.tree, me, item_id, action, comment)
    except PublisherError as e:
        if isinstance(e, Forbidden | NotFound):
            raise
        item = item_in_scope(me, item_id)
        return _form_page(item, item_to_form(item), _errors_of(e), e.status)
    flash(M[f"done_{action}"])
    back = RETURN_PAGES.get(request.form.get("back", ""))
    return redirect(url_for(back) if back else url_for("admin.edit_item", item_id=item_id))


# -- preview ------------------------------------------------------------------------------------


@bp.post("/items/preview-<any(landscape, portrait):orientation>.png")
def preview_form(orientation: str) -> Any:
    """The slide for what the form holds now, unsaved (the form's script refreshes it)."""
    me, rt = who(), runtime()
    data = form_to_data(request.form)
    data["targets"] = data["targets"] or [me.scope]
    if not data["title"].get("ja"):
        data["title"]["ja"] = M["new_title"]
    kept = request.form.get("image", "")
    if request.form.get("image_remove") != "on" and is_stored_name(kept, _uploads_dir()):
        data["image"] = kept
        data["image_alt"].setdefault("ja", M["field_image_alt"])  # not shown on a slide
    if data["kind"] == "event" and not data["event"]:
        data["kind"] = "notice"  # the slide of an event whose date is not typed in yet
    try:
        item = parse_item(data, rt.tree)
        me.require_scope(rt.tree, item.targets)
    except PublisherError as e:
        return error_text(e), e.status, {"Content-Type": "text/plain; charset=utf-8"}
    item_id = request.form.get("item_id", "")
    if item_id.isdigit():
        item = item.with_changes(id=item_in_scope(me, int(item_id)).id)
    return _render_png(item, orientation)


@bp.get("/items/<int:item_id>/slide-<any(landscape, portrait):orientation>.png")
def preview_item(item_id: int, orientation: str) -> Any:
    """The slide of the stored item."""
    return _render_png(item_in_scope(who(), item_id), orientation)


@bp.get("/uploads/<name>")
def upload(name: str) -> Any:
    """An uploaded image, for the form's thumbnail."""
    if not is_stored_name(name, _uploads_dir()):
        abort(404)
    return send_from_directory(_uploads_dir(), name)


# -- approvals and emergencies ------------------------------------------------------------------


@bp.get("/approvals")
def approvals() -> Any:
    """Items waiting for this approver: alerts held for review first, then pending items."""
    me, rt = who(), runtime()
    me.require_role("approver", "the approvals queue")
    with rt.session() as s:
        found = list_items(s, rt.tree, area=me.scope, statuses=["pending"], limit=LIST_LIMIT)
    rows = [
        {
            "item": i,
            "targets": "、".join(rt.tree.get(t).short_name for t in i.targets),
            "summary": summary(i),
        }
        for i in found
        if me.covers(rt.tree, i.targets)
    ]
    # alerts held for review come first: nothing shows them until an approver acts
    held_ids = {i.id for i in found if i.alert is not None and i.alert.needs_review}
    held = [r for r in rows if r["item"].id in held_ids]  # type: ignore[attr-defined]
    rows = [r for r in rows if r not in held]
    return render_page("approvals.html", rows=rows, held=held)
