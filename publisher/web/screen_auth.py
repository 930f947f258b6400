"""How a lobby screen proves who it is, on every route a player calls.

A kiosk opens its player URL once with ``?token=`` (the URL printed by ``publisher init`` or
``publisher screens rotate-token``). ``/play/<id>`` answers by setting the token in an HttpOnly,
SameSite=Strict cookie scoped to that screen's paths and redirecting to ``/play/<id>``, so the
token is not in the address bar, in any later request line or in the page. After that the
browser sends the cookie by itself (fetch and EventSource on the same origin). A player that is
not a browser sends the ``X-Screen-Token`` header or ``Authorization: Bearer``. ``?token=``
still works on every route, for kiosk URLs in the field and players from before.

Every check goes through :func:`screen_token_problem` (the store keeps only the token's hash).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from publisher.runtime import Runtime
from publisher.store.screens import screen_token_problem as _problem

COOKIE_PREFIX = "screen-"
COOKIE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookie lifetimes at 400 days


class _Lookup(Protocol):
    def get(self, key: str, /) -> str | None: ...


def cookie_name(screen_id: str) -> str:
    """The cookie that carries ``screen_id``'s token (screen ids are ``[a-z][a-z0-9-]*``)."""
    return COOKIE_PREFIX + screen_id


def cookie_paths(screen_id: str) -> tuple[str, ...]:
    """Where a screen's cookie is sent: its page, its API, and the shared slides and audio."""
    return (f"/play/{screen_id}", f"/api/screens/{screen_id}/", "/slides/", "/audio/")


def given_token(
    screen_id: str | None,
    query: Mapping[str, str],
    headers: _Lookup,
    cookies: Mapping[str, str],
) -> str:
    """The token a caller offers: ``?token=``, then a header, then the screen's cookie."""
    token = query.get("token") or headers.get("X-Screen-Token") or ""
    if not token:
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
    if not token and screen_id is not None:
        token = cookies.get(cookie_name(screen_id)) or ""
    return token


def screen_token_problem(rt: Runtime, screen_id: str | None, given: str) -> tuple[int, str] | None:
    """None when ``given`` is ``screen_id``'s token (any active screen's when None); else
    (404 unknown screen, or 403 and why)."""
    with rt.session() as session:
        return _problem(session, screen_id, given, rt.tree.screens)
