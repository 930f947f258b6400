"""What every admin view shares: the blueprint, login and CSRF set-up, the clock, page
rendering and errors as pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from publisher.areas import LANGUAGES
from publisher.errors import PublisherError
from publisher.items import JST, utcnow
from publisher.store.staff import Principal
from publisher.web.admin.messages import FIELD_LABELS, M

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Requests under these paths authenticate with bearer tokens, player URL tokens or (residents'
# notifications) the push subscription itself, never with the session cookie, so cross-site
# request forgery does not apply to them.
CSRF_EXEMPT_PREFIXES = ("/api/", "/play/", "/demo/players/", "/notifications/")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

csrf = CSRFProtect()
login_manager = LoginManager()


@bp.record_once
def _setup(state: Any) -> None:
    app: Flask = state.app
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 8 * 3600)  # a working day on one form
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # checked below, with the exemptions
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config.get("SESSION_COOKIE_SECURE"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.login_message = M["login_required"]
    login_manager.session_protection = "basic"

    @app.before_request
    def _check_csrf() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.path.startswith(CSRF_EXEMPT_PREFIXES):
            return
        csrf.protect()


def clock() -> datetime:
    """Now, or the clock a test injected as ``app.config["PUBLISHER_CLOCK"]``."""
    fn: Callable[[], datetime] | None = current_app.config.get("PUBLISHER_CLOCK")
    return fn() if fn else utcnow()


def who() -> Principal:
    """The logged-in staff member as the workflow sees them."""
    principal: Principal = current_user.principal
    return principal


@bp.before_request
def _require_login() -> Any:
    if request.endpoint in ("admin.login", "admin.static") or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


@bp.after_request
def _headers(response: Any) -> Any:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# -- templates ----------------------------------------------------------------------------------


def field_key(field: str | None) -> str:
    """``dayparts[2]`` → ``dayparts``: the form control an error belongs to."""
    return re.sub(r"\[\d+\]", "", field or "")


def field_id(field: str) -> str:
    return "f-" + re.sub(r"[^a-zA-Z0-9]+", "-", field).strip("-")


def field_label(field: str | None) -> str:
    """What the form calls a field: ``title.en`` → タイトル（English）."""
    key = field_key(field)
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    name, _, lang = key.rpartition(".")
    if name in FIELD_LABELS and lang in LANGUAGES:
        return f"{FIELD_LABELS[name]}（{LANGUAGES[lang]}）"
    return ""


def error_text(e: PublisherError) -> str:
    """The error for a person: the field's Japanese label, then what to do, in Japanese when
    the error says it in Japanese (else its English detail)."""
    label = field_label(e.field)
    text = e.ja or e.message
    return f"{label}：{text}" if label else text


def jst(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(JST).strftime(fmt) if value else ""


@bp.app_template_global("admin_field_id")
def _field_id(field: str) -> str:
    return field_id(field)


@bp.context_processor
def _context() -> dict[str, Any]:
    return {"m": M, "jst": jst, "field_id": field_id, "html_lang": html_lang}


def html_lang(code: str) -> str:
    """The ``lang`` attribute of text in a form language (やさしい日本語 is Japanese)."""
    return "ja" if code.startswith("ja") else code


def render_page(template: str, status: int = 200, **context: Any) -> Any:
    return render_template(f"admin/{template}", **context), status


# -- errors as pages ----------------------------------------------------------------------------


@bp.errorhandler(PublisherError)
def _publisher_error(e: PublisherError) -> Any:
    message = M.get(f"error_{e.status}", M["error_400"])
    return render_page("error.html", e.status, message=message, detail=error_text(e))


@bp.errorhandler(CSRFError)
def _csrf_error(e: CSRFError) -> Any:
    log.warning("CSRF check failed on %s %s: %s", request.method, request.path, e.description)
    return render_page("error.html", 400, message=M["error_csrf"], detail="")


@bp.errorhandler(413)
def _too_large(e: Any) -> Any:
    return render_page("error.html", 413, message=M["error_image_big"], detail="")


@bp.get("/")
def home() -> Any:
    """The start page is the item list."""
    return redirect(url_for("admin.items"))
