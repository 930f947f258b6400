"""Residents' Web Push subscriptions: the key browsers subscribe with, subscribe, unsubscribe
(from the area page, which knows its subscription, and from each notification, whose link
carries an unguessable token), and the service worker that shows the notifications.

Nothing here uses a cookie or an account: a subscription is its own capability (its endpoint
is secret to the browser), so cross-site forgery has nothing to borrow (the admin's CSRF check
exempts ``/notifications/``). What is kept is only the subscription, its area, language and
choice (:mod:`publisher.store.push`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, send_from_directory

from publisher.deliver.webpush import application_server_key, unsubscribe_token
from publisher.errors import NotFound
from publisher.items import utcnow
from publisher.store import push
from publisher.web import runtime
from publisher.web.public import page_helpers

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
MAX_BODY_BYTES = 4096


def services() -> list[str]:
    return [s.strip() for s in str(runtime().settings["PUSH_SERVICES"]).split(",") if s.strip()]


@bp.get("/key")
def key() -> Response:
    """The server's VAPID public key (``applicationServerKey``)."""
    response = jsonify({"key": application_server_key(runtime().settings.data_dir)})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.post("/subscribe")
def subscribe() -> Any:
    """Keep a browser's subscription to an area: ``{"subscription", "area", "lang", "choice"}``."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _error("the request is too large", 413)
    data = request.get_json(silent=True)
    rt = runtime()
    try:
        fields = push.check(rt.tree, data, services())
    except push.BadSubscription as e:
        return _error(str(e), 400)
    with rt.session() as session:
        sub_id = push.subscribe(session, fields, utcnow())
    return jsonify({"ok": True, "id": sub_id, "area": fields["area_code"]}), 201


@bp.post("/unsubscribe")
def unsubscribe() -> Any:
    """Forget the subscription the page's browser holds: ``{"endpoint": ...}``."""
    data = request.get_json(silent=True)
    endpoint = data.get("endpoint") if isinstance(data, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return _error("endpoint: missing (the subscription's endpoint)", 400)
    with runtime().session() as session:
        found = push.unsubscribe(session, endpoint=endpoint)
    return jsonify({"ok": True, "removed": found})


@bp.route("/unsubscribe/<int:sub_id>/<token>", methods=["GET", "POST"])
def unsubscribe_link(sub_id: int, token: str) -> Response:
    """The link in every notification: GET asks to confirm (link checkers must not
    unsubscribe anyone), POST (the button, or the notification's own action) does it."""
    rt = runtime()
    with rt.session() as session:
        sub = push.get(session, sub_id)
        valid = sub is not None and _same(
            token, unsubscribe_token(rt.settings.secret_key(), sub_id, sub.endpoint)
        )
        if sub is None or not valid:
            done = sub is None
            return _page("done" if done else "invalid", 200 if done else 404)
        if request.method == "POST":
            push.unsubscribe(session, sub_id=sub_id)
            return _page("done", 200)
        area = rt.tree.get(sub.area_code) if sub.area_code in rt.tree else None
    return _page("confirm", 200, area=area)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker that shows notifications (scope ``/notifications/``)."""
    response = send_from_directory(bp.root_path + "/../static/public", "sw-notify.js")
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


def _same(a: str, b: str) -> bool:
    import hmac

    return hmac.compare_digest(a.encode(), b.encode())


def _error(message: str, status: int) -> Any:
    return jsonify({"error": message}), status


def _page(state: str, status: int, **context: Any) -> Response:
    helpers = page_helpers()  # the residents' base page in the reader's language
    body = render_template(
        "public/unsubscribe.html",
        state=state,
        title=helpers["t"]("unsub_title"),
        **context,
        **helpers,
    )
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.errorhandler(NotFound)
def not_found(e: NotFound) -> Any:
    return _error(str(e), 404)
