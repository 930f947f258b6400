"""Residents' Web Push subscriptions: the key browsers subscribe with, subscribe, unsubscribe
(from the area page, which knows its subscription, and from each notification, whose link
carries an unguessable token), renew (the service worker's ``pushsubscriptionchange``: the
push service gave the browser a new subscription), and the service worker that shows the
notifications.

Renewing moves a subscription to a new endpoint only for a request that proves it holds the
old one: its endpoint plus the token the server answered on subscribing (the unsubscribe
link's, an HMAC, nothing stored) or the old subscription's ``keys.auth`` (a secret only the
browser and this server know). Sign-ups and renewals are limited per client address
(:mod:`publisher.web.rate_limit`, 429 with ``Retry-After`` in the resident's language) and
per area (``PUBLISHER_PUSH_MAX_PER_AREA``); they run in the server's public lane, never the
one staff and alerts use (:func:`publisher.web.server.is_priority`).

Nothing here uses a cookie or an account: a subscription is its own capability (its endpoint
is secret to the browser), so cross-site forgery has nothing to borrow (the admin's CSRF check
exempts ``/notifications/``). What is kept is only the subscription, its area, language and
choice (:mod:`publisher.store.push`).
"""

from __future__ import annotations

import hmac
import threading
import time
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import MethodNotAllowed

from publisher.areas import LANGUAGES
from publisher.deliver.webpush import application_server_key, unsubscribe_token
from publisher.errors import NotFound
from publisher.items import utcnow
from publisher.store import push
from publisher.web import http_error, runtime
from publisher.web.i18n import Messages, normalise
from publisher.web.public import page_helpers, reader_language
from publisher.web.rate_limit import TokenBuckets, client_key

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
MAX_BODY_BYTES = 4096
LIMITER = "publisher.push_signups"  # app.extensions: this app's TokenBuckets
_limiter_lock = threading.Lock()


def services() -> list[str]:
    return [s.strip() for s in str(runtime().settings["PUSH_SERVICES"]).split(",") if s.strip()]


@bp.get("/key")
def key() -> Response:
    """The server's VAPID public key (``applicationServerKey``)."""
    response = jsonify({"key": application_server_key(runtime().settings.data_dir)})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _before_reading() -> Any | None:
    """A resident's sign-up or renewal refused before its body is read: too large, or too many
    from one address."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return _refused("the request is too large", 413)
    return _rate_limited()


@bp.post("/subscribe")
def subscribe() -> Any:
    """Keep a browser's subscription to an area: ``{"subscription", "area", "lang", "choice"}``;
    answers its id and the token that proves it later (:func:`resubscribe`)."""
    if (refused := _before_reading()) is not None:
        return refused
    data = request.get_json(silent=True)
    rt = runtime()
    try:
        fields = push.check(rt.tree, data, services())
    except push.BadSubscription as e:
        return _refused(str(e), 400)
    try:
        with rt.session() as session:
            sub_id = push.subscribe(
                session, fields, utcnow(), int(rt.settings["PUSH_MAX_PER_AREA"])
            )
    except push.AreaFull:
        lang = _resident_language(data)
        return _error(Messages(lang)("notify_msg_full"), 403, lang=lang)
    token = unsubscribe_token(rt.settings.secret_key(), sub_id, fields["endpoint"])
    return jsonify({"ok": True, "id": sub_id, "area": fields["area_code"], "token": token}), 201


@bp.post("/resubscribe")
def resubscribe() -> Any:
    """The push service rotated a subscription (the service worker's
    ``pushsubscriptionchange``): ``{"old": {"endpoint", "token" | "auth"}, "subscription"}``.
    The same area, language, choice and queue go on under the new endpoint and keys."""
    if (refused := _before_reading()) is not None:
        return refused
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _refused("the request must be a JSON object", 400)
    old = data.get("old")
    endpoint = old.get("endpoint") if isinstance(old, dict) else None
    if not isinstance(old, dict) or not isinstance(endpoint, str) or not endpoint:
        return _refused("old.endpoint: missing (the subscription the browser had before)", 400)
    token, auth = old.get("token"), old.get("auth")
    if not isinstance(token, str) and not isinstance(auth, str):
        return _refused(
            "old: give old.token (what subscribing answered) or old.auth (the old "
            "subscription's keys.auth)",
            400,
        )
    try:
        keys = push.check_subscription(data.get("subscription"), services())
    except push.BadSubscription as e:
        return _refused(str(e), 400)
    rt = runtime()
    secret = rt.settings.secret_key()
    with rt.session() as session:
        sub = push.find(session, endpoint)
        if sub is None:
            return _refused(
                "old.endpoint: no subscription with that endpoint here (it may have been "
                "removed); subscribe again from the area page",
                404,
            )
        expected = unsubscribe_token(secret, sub.id, sub.endpoint)
        proven = (isinstance(token, str) and _same(token, expected)) or (
            isinstance(auth, str) and _same(auth, sub.auth)
        )
        if not proven:
            return _refused("old: the token or keys.auth does not match that subscription", 403)
        try:
            renewed = push.renew(session, sub.id, keys)
        except push.EndpointTaken as e:
            return _refused(str(e), 409)
    token = unsubscribe_token(secret, renewed.id, renewed.endpoint)
    return jsonify({"ok": True, "id": renewed.id, "area": renewed.area_code, "token": token})


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
    # surrogatepass: a lone surrogate in a hostile body compares unequal, never raises
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode())


def _error(error: str, status: int, **more: Any) -> Any:
    return jsonify({"error": error, **more}), status


def _refused(error: str, status: int) -> Any:
    """A sign-up or renewal refused: ``error`` says where and why (the request was not one
    the area page's script makes), ``message`` tells the resident in their language."""
    data = None if status == 413 else request.get_json(silent=True)
    lang = _resident_language(data)
    return _error(error, status, lang=lang, message=Messages(lang)("notify_msg_failed"))


def _rate_limited() -> Response | None:
    """429 when this client address has used up its sign-ups, with ``Retry-After`` and a
    message in the resident's language."""
    wait_s = _limiter().take(client_key(request.remote_addr))
    if not wait_s:
        return None
    seconds = TokenBuckets.retry_after_s(wait_s)
    lang = _resident_language(request.get_json(silent=True))
    response = jsonify(
        {
            "error": Messages(lang)("notify_msg_busy", seconds=seconds),
            "lang": lang,
            "retry_after_s": seconds,
        }
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _resident_language(data: object) -> str:
    """The language to answer a resident in: the page's (``?lang=``, which the area page's
    script sends), else the body's ``lang``, else the browser's."""
    asked = normalise(request.args.get("lang"))
    if asked:
        return asked
    lang = data.get("lang") if isinstance(data, dict) else None
    return lang if isinstance(lang, str) and lang in LANGUAGES else reader_language()


def _limiter() -> TokenBuckets:
    """This app's buckets; ``PUBLISHER_RATE_CLOCK`` in the app's config replaces the clock."""
    app = current_app
    with _limiter_lock:
        if LIMITER not in app.extensions:
            app.extensions[LIMITER] = TokenBuckets(
                int(runtime().settings["PUSH_SIGNUPS_PER_MINUTE"]),
                app.config.get("PUBLISHER_RATE_CLOCK", time.monotonic),
            )
        limiter: TokenBuckets = app.extensions[LIMITER]
    return limiter


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


@bp.app_errorhandler(MethodNotAllowed)
def wrong_method(e: MethodNotAllowed) -> Any:
    """A wrong method on ``/notifications/…`` (``GET /notifications/subscribe``): JSON like the
    other refusals here, with werkzeug's ``Allow``; elsewhere the app's usual answer. Routing
    fails before a blueprint is chosen, so this is the app's handler, limited by path."""
    if not request.path.startswith("/notifications/"):
        return http_error(e)
    lang = _resident_language(None)  # never reads the body: a GET's may be anything
    allowed = ", ".join(e.valid_methods or ())
    response = jsonify(
        {
            "error": f"{request.method} is not allowed on {request.path}; use {allowed}",
            "lang": lang,
            "message": Messages(lang)("notify_msg_failed"),
        }
    )
    response.status_code = 405
    response.headers["Allow"] = allowed
    response.headers["Cache-Control"] = "no-store"
    return response
