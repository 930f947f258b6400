"""The headers on every answer to residents: what a page may load, and the language cookie."""

from __future__ import annotations

from flask import Response, current_app, request

from publisher.web.i18n import COOKIE, COOKIE_MAX_AGE_S, normalise

HTML = "text/html"

# Residents' pages are plain HTML and CSS from this site: nothing else may load or run, even if
# text ever slipped through unescaped.
PUBLIC_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# The area page's notifications sign-up (static/public/notify.js, /notifications/sw.js).
NOTIFY_CSP = "; script-src 'self'; connect-src 'self'; worker-src 'self'"


def security_headers(response: Response) -> Response:
    """Every resident's answer: no sniffing, the CSP, and the language choice that sticks."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == HTML:
        response.headers.setdefault("Content-Security-Policy", PUBLIC_CSP)
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        # the same URL answers in the language of the cookie or the browser
        response.vary.update(("Accept-Language", "Cookie"))
        chosen = normalise(request.args.get("lang"))
        if (
            chosen
            and chosen != request.cookies.get(COOKIE)
            and not current_app.config.get("PUBLISHER_STATIC_EXPORT")
        ):
            # the language switch (or a QR code of a slide in that language) sticks
            response.set_cookie(
                COOKIE, chosen, max_age=COOKIE_MAX_AGE_S, samesite="Lax", httponly=True
            )
    return response
