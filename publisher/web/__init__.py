"""The web app: one Flask app, one blueprint per audience.

- ``api``: machines (JSON, bearer tokens); ``public``: residents (pages, feeds, QR);
  ``player``: lobby screens (the page, SSE push, heartbeats); ``admin``: staff.
- :mod:`publisher.web.site` writes what the app answers as static files (``publisher build``).

Contract: :func:`create_app` builds the app from a :class:`~publisher.runtime.Runtime`; views
translate requests into calls on the stages and their errors into answers, holding no rules.

May import: the basics, ``runtime``, ``store``, ``plan``, ``render``, ``collect``, ``deliver``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from publisher.errors import PublisherError
from publisher.runtime import Runtime
from publisher.web import trouble

log = logging.getLogger(__name__)

# Blueprints in the order they are registered: "module:attribute".
BLUEPRINTS = [
    "publisher.web.api:bp",
    "publisher.web.admin:bp",
    "publisher.web.collect:bp",
    "publisher.web.demo_players:bp",
    "publisher.web.pictures:bp",
    "publisher.web.player:bp",
    "publisher.web.public:bp",
    "publisher.web.qrcodes:bp",
    "publisher.web.notifications:bp",
    "publisher.web.printed:bp",
    "publisher.web.screens_status:bp",
]


def create_app(runtime: Runtime | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app around a :class:`Runtime` (settings, area tree, database)."""
    rt = runtime or Runtime()
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(
        SECRET_KEY=rt.settings.secret_key(),
        JSON_SORT_KEYS=False,
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=rt.settings.base_url.startswith("https://"),
    )
    app.json = _BoundedJSON(app)
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["publisher"] = rt

    import importlib

    for spec in BLUEPRINTS:
        module, attr = spec.split(":")
        app.register_blueprint(getattr(importlib.import_module(module), attr))

    trouble.init_app(app, rt)  # 503s for database trouble, /healthz

    hops = int(rt.settings["PROXY_HOPS"])
    if hops > 0:
        # Behind nginx: the client's address, https and host come from X-Forwarded-* headers,
        # trusted only from that many proxies (a client cannot forge them past the last one).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )

    @app.errorhandler(PublisherError)
    def publisher_error(e: PublisherError) -> Any:
        return jsonify(e.as_json()), e.status

    app.register_error_handler(HTTPException, http_error)

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Any:
        if isinstance(e, HTTPException):
            return http_error(e)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return jsonify({"error": "internal error; it has been logged"}), 500

    return app


def http_error(e: HTTPException) -> Any:
    """An HTTP refusal: JSON for the API and JSON readers, else werkzeug's own page."""
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        return jsonify({"error": e.description or e.name}), e.code
    return e


class _BoundedJSON(DefaultJSONProvider):
    """JSON whose reading of hostile input fails as bad input (400), never as a crash: nesting
    deeper than Python's stack is a ValueError like any other malformed body."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def runtime() -> Runtime:
    """The :class:`Runtime` of the current app."""
    rt: Runtime = current_app.extensions["publisher"]
    return rt
