"""The emergency page: publish an alert at once, from a prepared template or typed, in all six
languages, after seeing it on every screen size; and end live ones.

An approver picks a template (``content/alert-templates/``), fills its slots (shelter, time;
the area comes from the targets) and presses 「プレビュー」: the six texts appear in the form
(still editable) with the slides each screen size will show. 「ただちに発信する」 publishes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import abort, flash, redirect, request, send_from_directory, url_for

from publisher import alert_templates
from publisher.areas import LANGUAGES
from publisher.deliver.playlists import slides_dir
from publisher.errors import PublisherError
from publisher.item_input import parse_item
from publisher.items import ALERT_KINDS
from publisher.render.labels import ALERT_KIND
from publisher.render.slides import SlideSpec, ensure_slide
from publisher.store import workflow
from publisher.store.content import list_items
from publisher.web import runtime
from publisher.web.admin.base import bp, clock, error_text, field_key, render_page, who
from publisher.web.admin.itemviews import target_groups
from publisher.web.admin.messages import M

TEXT_FIELDS = tuple(f"{part}.{lang}" for lang in LANGUAGES for part in ("title", "body"))
SLOT_FIELDS = ("shelter", "time")


def _templates() -> alert_templates.Templates:
    return alert_templates.load_templates(Path(runtime().settings["CONTENT_DIR"]))


def _form_values() -> dict[str, Any]:
    f = request.form
    values: dict[str, Any] = {k: f.get(k, "") for k in TEXT_FIELDS}
    values.update({f"slot.{k}": f.get(f"slot.{k}", "") for k in SLOT_FIELDS})
    values.update(
        targets=set(f.getlist("targets")),
        template=f.get("template", ""),
        priority=f.get("priority", ""),
        warning_level=f.get("warning_level", ""),
        alert_kind=f.get("alert_kind", ""),
        drill=f.get("drill", ""),
    )
    return values


def _apply_template(values: dict[str, Any], targets: list[str]) -> None:
    """Fill the six texts and the alert's fields from the chosen template and its slots."""
    rt = runtime()
    slots = {k: values[f"slot.{k}"] for k in SLOT_FIELDS}
    templates = _templates()
    template = templates.get(values["template"])
    slots = {k: v for k, v in slots.items() if k in template.slots}
    data = alert_templates.fill(
        templates,
        values["template"],
        slots,
        tree=rt.tree,
        targets=targets,
        drill=values["drill"] == "drill",
    )
    for lang in LANGUAGES:
        values[f"title.{lang}"] = data["title"].get(lang, "")
        values[f"body.{lang}"] = data["body"].get(lang, "")
    values["priority"] = template.priority
    values["warning_level"] = str(template.warning_level or "")
    values["alert_kind"] = template.alert_kind


def _item_data(values: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    if values["drill"] not in ("drill", "actual"):
        raise PublisherError(M["drill_required"], field="drill")
    if values["priority"] not in ("emergency", "high"):
        raise PublisherError("emergency or high", field="priority")
    drill = values["drill"] == "drill"
    level = values["warning_level"]
    return {
        "kind": "alert",
        "title": {
            lang: values[f"title.{lang}"].strip()
            for lang in LANGUAGES
            if values[f"title.{lang}"].strip() or lang == "ja"
        },
        "body": {
            lang: values[f"body.{lang}"].strip()
            for lang in LANGUAGES
            if values[f"body.{lang}"].strip()
        },
        "targets": targets,
        "priority": values["priority"],
        "category": "drill" if drill else "disaster",
        "drill": drill,
        "warning_level": int(level) if str(level).isdigit() else None,
        "alert_kind": values["alert_kind"] or None,
        "status": "approved",
    }


def _previews(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every language the alert has on every screen size the ward has, rendered as it will be."""
    rt = runtime()
    item = parse_item({k: v for k, v in data.items() if k != "status"}, rt.tree)
    sizes = sorted({(s.width, s.height) for s in rt.tree.screens.values()}, reverse=True)
    out = []
    for lang in item.languages:
        for width, height in sizes:
            spec = SlideSpec(
                item, width, height, lang, rt.tree.issuer(item.targets), rt.settings.base_url
            )
            path = ensure_slide(spec, slides_dir(rt))
            out.append(
                {
                    "lang": lang,
                    "language": LANGUAGES[lang],
                    "size": f"{width}x{height}",
                    "portrait": height > width,
                    "key": path.stem,
                }
            )
    return out


@bp.route("/emergency", methods=["GET", "POST"])
def emergency() -> Any:
    """Publish an alert at once (a drill only when chosen explicitly) and end live ones."""
    me, rt = who(), runtime()
    me.require_role("approver", "publishing an alert")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"targets": set(), "priority": "emergency"}
    previews: list[dict[str, Any]] = []
    status = 200
    if request.method == "POST":
        values = _form_values()
        targets = [t for t in request.form.getlist("targets") if t]
        action = request.form.get("action", "publish")
        try:
            if action == "preview":
                if values["template"]:
                    if values["drill"] not in ("drill", "actual"):
                        raise PublisherError(M["drill_required"], field="drill")
                    _apply_template(values, targets)
                previews = _previews(_item_data(values, targets))
            else:
                if values["template"] and not values["title.ja"].strip():
                    # sent without a preview: the template's wording as it stands
                    if values["drill"] not in ("drill", "actual"):
                        raise PublisherError(M["drill_required"], field="drill")
                    _apply_template(values, targets)
                with rt.session() as s:
                    workflow.create(s, rt.tree, me, _item_data(values, targets))
        except PublisherError as e:
            key = field_key(e.field) or "form"
            if key.startswith("slots."):
                key = "slot." + key.split(".", 1)[1]
            errors = {key: e.message if e.field == "drill" else error_text(e)}
            status = e.status
        else:
            if action != "preview":
                flash(M["alert_published"])
                return redirect(url_for("admin.emergency"))
    at = clock()
    with rt.session() as s:
        live = [
            i
            for i in list_items(s, rt.tree, area=me.scope, statuses=["approved"], kind="alert")
            if me.covers(rt.tree, i.targets) and (i.ends_at is None or i.ends_at > at)
        ]
    return render_page(
        "emergency.html",
        status,
        values=values,
        errors=errors,
        groups=target_groups(me),
        live=live,
        levels=range(1, 6),
        languages=LANGUAGES,
        templates=_templates().ordered(),
        alert_kinds=[(k, ALERT_KIND["ja"][k]) for k in ALERT_KINDS],
        previews=previews,
        area_names=lambda codes: "、".join(rt.tree.get(c).short_name for c in codes),
    )


@bp.get("/emergency/slides/<key>.png")
def emergency_slide(key: str) -> Any:
    """A preview slide rendered by the emergency page (content-addressed, like the players')."""
    who().require_role("approver", "publishing an alert")
    if not key.isalnum() or len(key) > 64:
        abort(404)
    folder = slides_dir(runtime())
    if not (folder / f"{key}.png").exists():
        abort(404)
    return send_from_directory(folder, f"{key}.png", max_age=3600)
