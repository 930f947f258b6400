"""Logging in and out, throttling guessers, and staff accounts.

Throttling is kept in the database so every server process sees it, and no guesser can use it
to keep a staff member out for long:

- per network address first: :data:`ADDRESS_MAX_FAILURES` failures within
  :data:`ADDRESS_WINDOW_S` refuse further attempts from it (``login_attempts``), whatever the
  account, before any account is touched;
- per account, a delay rather than a lock: from the :data:`DELAY_AFTER_FAILURES`-th wrong
  password in a row, the account refuses attempts for 2, 4, 8, ... seconds, never more than
  :data:`DELAY_MAX_S` (``users.failed_logins`` / ``users.locked_until``); attempts during the
  delay neither count nor extend it.

A session cookie carries its user's ``session_version``: logging out, a password change or
disabling the account bumps it, ending every session of that user on every process.

The page says the same thing for an unknown account, a wrong password and a locked account, so
it never reveals which accounts exist. Logs name the address, never the typed name or password.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, request, session, url_for
from flask_login import UserMixin, login_user, logout_user
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from publisher.errors import Forbidden, PublisherError
from publisher.store import staff
from publisher.store.content import audit
from publisher.store.models import LoginAttemptRow, UserRow
from publisher.web import runtime
from publisher.web.admin.base import (
    bp,
    clock,
    error_text,
    field_key,
    login_manager,
    render_page,
    who,
)
from publisher.web.admin.messages import M

log = logging.getLogger(__name__)

DELAY_AFTER_FAILURES = 5
DELAY_MAX_S = 60
ADDRESS_MAX_FAILURES = 20
ADDRESS_WINDOW_S = 15 * 60


class StaffUser(UserMixin):
    """The session's user. Its id carries the user's session version and a piece of the
    password hash, so logging out or changing a password ends every session opened before."""

    def __init__(self, row: UserRow):
        self.id = f"{row.id}:{row.session_version}:{row.password_hash[-16:]}"
        self.name = row.name
        self.role = row.role
        self.scope = row.scope
        tree = runtime().tree
        self.scope_name = tree.get(row.scope).display_name if row.scope in tree else row.scope
        self.principal = staff.principal_of(row)


@login_manager.user_loader
def _load_user(session_id: str) -> StaffUser | None:
    user_id, _, rest = session_id.partition(":")
    version, _, fingerprint = rest.partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) < 10):
        return None
    with runtime().session() as s:
        row = s.get(UserRow, int(user_id))
        if (
            row is None
            or not row.active
            or str(row.session_version) != version
            or row.password_hash[-16:] != fingerprint
        ):
            return None
        return StaffUser(row)


# -- throttled password check -------------------------------------------------------------------


@cache
def _decoy_hash() -> str:
    return staff.hash_password("decoy password for unknown accounts")


def attempt_login(
    s: Session, name: str, password: str, address: str, at: datetime
) -> tuple[UserRow | None, str]:
    """The user if ``name``/``password`` may log in now, else ``None`` and why
    (``"address"``: this address is throttled; ``"refused"``: anything else)."""
    window_start = at - timedelta(seconds=ADDRESS_WINDOW_S)
    recent = s.scalar(
        select(func.count())
        .select_from(LoginAttemptRow)
        .where(LoginAttemptRow.address == address, LoginAttemptRow.at > window_start)
    )
    if (recent or 0) >= ADDRESS_MAX_FAILURES:
        return None, "address"
    row = staff.user_by_name(s, name.strip())
    if row is None or not row.active:
        staff.check_password(UserRow(password_hash=_decoy_hash()), password)  # same time taken
        _failed(s, address, at)
        return None, "refused"
    if row.locked_until is not None and row.locked_until > at:
        _failed(s, address, at)  # counts against the address, never extends the delay
        return None, "refused"
    if not staff.check_password(row, password):
        row.failed_logins = (row.failed_logins or 0) + 1
        beyond = row.failed_logins - DELAY_AFTER_FAILURES
        if beyond >= 0:
            delay_s = min(2 ** (beyond + 1), DELAY_MAX_S)
            row.locked_until = at + timedelta(seconds=delay_s)
            if beyond == 0:
                audit(s, "login", "delay", "user", row.id, None, {"failures": row.failed_logins})
                log.warning("staff account %s: repeated failed logins, slowing it", row.id)
        _failed(s, address, at)
        return None, "refused"
    row.failed_logins, row.locked_until = 0, None
    return row, ""


def _failed(s: Session, address: str, at: datetime) -> None:
    s.add(LoginAttemptRow(address=address, at=at))
    s.execute(delete(LoginAttemptRow).where(LoginAttemptRow.at < at - timedelta(days=1)))
    log.warning("failed staff login from %s", address)


def _safe_next(target: str | None) -> str:
    """Only a path inside the admin: never an open redirect."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/admin/"):
            return target
    return url_for("admin.items")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; on success a fresh session (no fixation) and back to where they were."""
    if request.method == "GET":
        return render_page("login.html", next=request.args.get("next", ""))
    name = request.form.get("name", "")
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    with runtime().session() as s:
        row, why = attempt_login(s, name, password, address, clock())
        user = StaffUser(row) if row is not None else None
    if user is None:
        message = M["login_address_throttled"] if why == "address" else M["login_failed"]
        status = 429 if why == "address" else 401
        return render_page(
            "login.html", status, error=message, name=name, next=request.form.get("next", "")
        )
    session.clear()
    login_user(user)
    log.info("staff user %s logged in from %s", user.name, address)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    """End every session of this user (POST only, so a link elsewhere cannot log staff out)."""
    me = who()
    if me.user_id is not None:
        with runtime().session() as s:
            row = s.get(UserRow, me.user_id)
            if row is not None:
                staff.end_sessions(row)
    logout_user()
    session.clear()
    flash(M["logged_out"])
    return redirect(url_for("admin.login"))


# -- accounts (admins) --------------------------------------------------------------------------


@bp.route("/users", methods=["GET", "POST"])
def users() -> Any:
    """Admins list and create staff accounts within their own scope, with a role up to theirs."""
    me = who()
    me.require_role("admin", "managing staff accounts")
    rt = runtime()
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("name", "role", "scope")}
        try:
            if form["role"] in staff.ROLES and not me.at_least(form["role"]):
                raise Forbidden("a new account's role cannot be above yours", field="role")
            if form["scope"] not in rt.tree or not rt.tree.within(form["scope"], me.scope):
                raise Forbidden("the new account's scope must be within yours", field="scope")
            with rt.session() as s:
                staff.create_user(
                    s,
                    rt.tree,
                    form["name"],
                    form["role"],
                    form["scope"],
                    request.form.get("password", ""),
                    actor=me.name,
                )
            flash(M["user_created"])
            return redirect(url_for("admin.users"))
        except PublisherError as e:
            errors[field_key(e.field) or "name"] = error_text(e)
            status = e.status
    return _users_page(form, errors, status)


def _users_page(form: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    me, rt = who(), runtime()
    with rt.session() as s:
        rows = staff.list_users(s, rt.tree, within=me.scope)
        listed = [
            {
                "name": r.name,
                "role": r.role,
                "scope": rt.tree.get(r.scope).display_name,
                "active": r.active,
                "locked": bool(r.locked_until and r.locked_until > clock()),
                "me": r.id == me.user_id,
            }
            for r in rows
        ]
        names = {r.name for r in rows}
        tokens = [
            {
                "id": t.id,
                "user": name,
                "label": t.label,
                "last_used_at": t.last_used_at,
                "revoked": t.revoked_at is not None,
            }
            for t, name in staff.list_tokens(s)
            if name in names
        ]
    scopes = [rt.tree.get(c) for c in rt.tree.audience(me.scope)]
    roles = [r for r in staff.ROLES if me.at_least(r)]
    return render_page(
        "users.html",
        status,
        users=listed,
        tokens=tokens,
        scopes=scopes,
        roles=roles,
        form=form,
        errors=errors,
    )


@bp.post("/users/<name>/<any(disable, enable, password):action>")
def user_action(name: str, action: str) -> Any:
    """Admins disable, enable or set the password of an account within their scope."""
    me, rt = who(), runtime()
    me.require_role("admin", "managing staff accounts")
    try:
        with rt.session() as s:
            row = staff.require_user(s, name)
            if row.scope not in rt.tree or not rt.tree.within(row.scope, me.scope):
                raise Forbidden(f"{name} is outside your scope", field="name")
            if action in ("disable", "password") and row.id == me.user_id:
                raise Forbidden("use another admin account to change your own", field="name")
            if action == "password":
                staff.set_password(s, row, request.form.get("password", ""), actor=me.name)
            else:
                staff.set_active(s, row, action == "enable", actor=me.name)
    except PublisherError as e:
        if isinstance(e, Forbidden):
            raise
        return _users_page({}, {field_key(e.field) or "name": error_text(e)}, e.status)
    done = {"disable": "user_disabled_done", "enable": "user_enabled_done"}
    flash(M[done.get(action, "user_password_done")])
    return redirect(url_for("admin.users"))


@bp.post("/tokens/<int:token_id>/revoke")
def token_revoke(token_id: int) -> Any:
    """Admins revoke an API token of an account within their scope."""
    me, rt = who(), runtime()
    me.require_role("admin", "managing staff accounts")
    with rt.session() as s:
        staff.revoke_token(s, token_id, actor=me.name, within=me.scope, tree=rt.tree)
    flash(M["token_revoked_done"])
    return redirect(url_for("admin.users"))
