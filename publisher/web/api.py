"""The machine API: JSON over HTTP with bearer tokens.

A token acts as its user, with the same role and scope checks as the admin pages
(:mod:`publisher.store.workflow`). Reading what is public needs no token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any

from flask import Blueprint, g, jsonify, request

from publisher import alert_templates
from publisher.errors import Forbidden, NotFound, PublisherError
from publisher.item_input import parse_time
from publisher.items import STATUSES
from publisher.store import workflow
from publisher.store.content import get_item, visible_items
from publisher.store.public import public_item
from publisher.store.staff import Principal, principal_for_token
from publisher.store.workflow import items_in_scope
from publisher.web import runtime
from publisher.web.public import clock

bp = Blueprint("api", __name__, url_prefix="/api")


def _principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PublisherError("Authorization must be 'Bearer <token>'").with_status(401)
    rt = runtime()
    with rt.session() as session:
        who = principal_for_token(session, token.strip())
    if who is None:
        raise PublisherError("unknown or revoked token").with_status(401)
    return who


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = _principal()
        if who is None:
            raise PublisherError("this call needs 'Authorization: Bearer <token>'").with_status(401)
        g.principal = who
        return view(*args, **kwargs)

    return wrapper


JSON_MAX_DEPTH = 16
AT_SLACK = timedelta(minutes=5)  # an anonymous ``at`` this close to now is read as now (clocks)


def _json_body(required: bool = True) -> dict[str, Any]:
    """The request's JSON object; a body that is not one (or nests deeper than
    :data:`JSON_MAX_DEPTH`) is a 400 saying so."""
    data = request.get_json(silent=True)
    if data is None and not required and not request.get_data():
        return {}
    if not isinstance(data, dict):
        raise PublisherError(
            "the request body must be a JSON object (Content-Type: application/json)"
        )
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > JSON_MAX_DEPTH:
            raise PublisherError(f"the request body nests deeper than {JSON_MAX_DEPTH} levels")
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((v, depth + 1) for v in children)
    return data


@bp.get("/areas")
def areas() -> Any:
    """The area tree."""
    return jsonify(runtime().tree.as_json())


@bp.get("/items")
def items() -> Any:
    """Items seen in ``?area=CODE`` now (or ``&at=ISO``); ``&status=`` lists drafts etc. for staff.

    Anonymous callers see what is published now: an ``at`` further than
    :data:`AT_SLACK` from now (past or future) needs a token, and even then shows items not
    published now only when the caller's scope covers all their targets."""
    rt = runtime()
    area = _area_arg(request.args.get("area") or rt.tree.ward_code)
    status = request.args.get("status")
    now = clock()
    with rt.session() as session:
        if status is None:
            at = parse_time(request.args.get("at"), "at") or now
            elsewhen = abs(at - now) > AT_SLACK
            who = _principal() if elsewhen else None
            if elsewhen and who is None:
                raise PublisherError(
                    "anonymous callers see only what is published now: reading another moment "
                    "(past or future) needs a token",
                    field="at",
                ).with_status(401)
            found = visible_items(session, rt.tree, area, at if elsewhen else now)
            if who is not None:
                found = [i for i in found if i.is_live(now) or who.covers(rt.tree, i.targets)]
        else:
            if status not in (*STATUSES, "all"):
                raise PublisherError(
                    f"status must be one of {', '.join(STATUSES)} or all", field="status"
                )
            who = _principal()
            if who is None:
                raise PublisherError("listing by status needs a token").with_status(401)
            if not rt.tree.within(area, who.scope):
                area = who.scope
            found = items_in_scope(
                session, rt.tree, who, area=area, statuses=None if status == "all" else [status]
            )
    return jsonify({"area": area, "items": [_public_json(i) for i in found]})


def _area_arg(value: Any) -> str:
    if not isinstance(value, str):
        raise PublisherError("must be an area code", field="area")
    runtime().tree.get(value)
    return value


@bp.post("/items")
@token_required
def create_item() -> Any:
    """Create an item; an editor's is a draft, an approver's is approved unless asked otherwise.
    ``{"template": NAME, "slots": {...}, "targets": [...]}`` fills a prepared alert."""
    rt = runtime()
    data = _json_body()
    if "template" in data:
        data = alert_templates.from_request(templates(), data, rt.tree)
    with rt.session() as session:
        item = workflow.create(session, rt.tree, g.principal, data)
    return _with_etag(item), 201


@bp.get("/alert-templates")
def alert_template_list() -> Any:
    """The prepared emergency messages, their slots and their wording in six languages."""
    return jsonify({"templates": [t.as_json() for t in templates().ordered()]})


def templates() -> alert_templates.Templates:
    return alert_templates.load_templates(Path(runtime().settings["CONTENT_DIR"]))


@bp.get("/items/<int:item_id>")
def show_item(item_id: int) -> Any:
    """One item: anyone for a published item (410 once withdrawn or ended); staff within scope
    for the rest. Drafts and items not yet published are 404 to everyone else, as if unused."""
    rt = runtime()
    who = _principal()
    with rt.session() as session:
        if who is not None:
            try:
                item = get_item(session, item_id)
            except NotFound:
                item = None
            if item is not None and who.covers(rt.tree, item.targets):
                return _with_etag(item)
        item, state = public_item(session, item_id, clock())
    if state != "live":
        return jsonify({"error": f"item {item_id} is {state}", "status": state}), 410
    return _with_etag(item)


@bp.patch("/items/<int:item_id>")
@token_required
def patch_item(item_id: int) -> Any:
    """Change some fields of the revision named by ``If-Match`` (or ``"revision"`` in the body);
    409 with what changed when the item has moved on, 428 when neither names one. An editor may
    not change a live alert, and their change to a live notice or event returns it to draft."""
    rt = runtime()
    data = _json_body()
    seen = _revision_of(data.pop("revision", None))
    with rt.session() as session:
        item = workflow.edit(session, rt.tree, g.principal, item_id, data, revision=seen)
    return _with_etag(item)


def etag(item: Any) -> str:
    """An item's ETag: its revision, what ``If-Match`` names to change it."""
    return f'"{item.revision}"'


def _with_etag(item: Any) -> Any:
    response = jsonify(_public_json(item))
    response.headers["ETag"] = etag(item)
    return response


def _revision_of(in_body: Any) -> int:
    """The revision the caller started from: ``If-Match: "7"`` or ``{"revision": 7}``."""
    header = request.headers.get("If-Match", "").strip()
    if header:
        tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
        if tag.isascii() and tag.isdigit() and len(tag) < 10:
            return int(tag)
        raise PublisherError(
            f'If-Match must be the item\'s ETag (its revision, e.g. "7"), not {header[:40]!r}',
            field="If-Match",
        )
    if in_body is None:
        raise PublisherError(
            "say which revision you changed: send If-Match with the ETag of GET "
            '/api/items/<id> (or "revision" in the body), so no one else\'s change is '
            "overwritten",
            field="If-Match",
        ).with_status(428)
    if isinstance(in_body, bool) or not isinstance(in_body, int) or not 1 <= in_body < 10**9:
        raise PublisherError("must be the item's revision, a whole number", field="revision")
    return in_body


@bp.post("/items/<int:item_id>/<any(submit, approve, return, withdraw):action>")
@token_required
def transition(item_id: int, action: str) -> Any:
    """The workflow: submit, approve, return (with a comment) or withdraw."""
    rt = runtime()
    comment = _json_body(required=False).get("comment")
    if comment is not None and not isinstance(comment, str):
        raise PublisherError("must be text", field="comment")
    with rt.session() as session:
        item = workflow.transition(session, rt.tree, g.principal, item_id, action, comment)
    return _with_etag(item)


def _public_json(item: Any) -> dict[str, Any]:
    out: dict[str, Any] = item.as_json()
    out["url"] = runtime().item_url(item.id)
    return out


__all__ = ["Forbidden", "bp"]
