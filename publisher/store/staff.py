"""Staff accounts, API tokens and who may do what where.

A user has a role (editor < approver < admin) and a scope area. They act only on items whose
targets all lie within their scope (their area or below it). Passwords are hashed with argon2;
API tokens are random and only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import Conflict, Forbidden, NotFound, PublisherError, did_you_mean
from publisher.items import clean_text
from publisher.store.content import audit
from publisher.store.models import TokenRow, UserRow, now

ROLES = ("editor", "approver", "admin")
TOKEN_PREFIX = "pub_"
PASSWORD_MIN_CHARS = 10
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user (through the admin or a token) or the operator's command line."""

    name: str
    role: str
    scope: str
    user_id: int | None = None

    def at_least(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def covers(self, tree: AreaTree, codes: tuple[str, ...] | list[str]) -> bool:
        return bool(codes) and all(tree.within(c, self.scope) for c in codes)

    def require_scope(self, tree: AreaTree, codes: tuple[str, ...] | list[str]) -> None:
        outside = [c for c in codes if not tree.within(c, self.scope)]
        if outside:
            raise Forbidden(
                f"{self.name} works for {self.scope} and may not act on " f"{', '.join(outside)}",
                field="targets",
                ja=f"担当範囲（{self.scope}）の外の地域は選べません：{'、'.join(outside)}",
            )

    def require_role(self, role: str, doing: str) -> None:
        if not self.at_least(role):
            raise Forbidden(f"{doing} needs the {role} role; {self.name} is {self.role}")


def operator(tree: AreaTree) -> Principal:
    """The command line: whoever runs it operates the whole deployment."""
    return Principal("cli", "admin", tree.ward_code)


def principal_of(row: UserRow) -> Principal:
    return Principal(row.name, row.role, row.scope, row.id)


# -- users ------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(row: UserRow, password: str) -> bool:
    try:
        ok = _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return ok


def create_user(
    session: Session, tree: AreaTree, name: str, role: str, scope: str, password: str, *, actor: str
) -> UserRow:
    name = name.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise PublisherError("a user name is 1–100 characters without spaces", field="name")
    if role not in ROLES:
        raise PublisherError(
            f"role must be one of {', '.join(ROLES)}{did_you_mean(role, ROLES)}", field="role"
        )
    tree.get(scope)
    check_password_rules(name, password)
    if session.scalars(select(UserRow).where(UserRow.name == name)).first():
        raise Conflict(f"a user named '{name}' already exists", field="name")
    row = UserRow(name=name, role=role, scope=scope, password_hash=hash_password(password))
    session.add(row)
    session.flush()
    audit(
        session, actor, "create", "user", row.id, None, {"name": name, "role": role, "scope": scope}
    )
    return row


def user_by_name(session: Session, name: str) -> UserRow | None:
    return session.scalars(select(UserRow).where(UserRow.name == name)).first()


@cache
def common_passwords() -> frozenset[str]:
    """The short list of passwords every guesser tries first (``common_passwords.txt``)."""
    text = (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def check_password_rules(name: str, password: str) -> None:
    """At least :data:`PASSWORD_MIN_CHARS` characters, not built on the user name, not on the
    common-passwords list; raises PublisherError on the ``password`` field."""
    if len(password) < PASSWORD_MIN_CHARS:
        raise PublisherError(
            f"a password needs at least {PASSWORD_MIN_CHARS} characters", field="password"
        )
    folded, user = password.casefold(), name.strip().casefold()
    if user and (user in folded or folded in user):
        raise PublisherError("a password may not contain the user name", field="password")
    if folded in common_passwords() or len(set(folded)) < 4:
        raise PublisherError(
            "this password is among the first a guesser tries; choose another", field="password"
        )


def require_user(session: Session, name: str) -> UserRow:
    row = user_by_name(session, name)
    if row is None:
        known = session.scalars(select(UserRow.name)).all()
        raise NotFound(f"no user named '{name}'{did_you_mean(name, known)}", field="name")
    return row


def list_users(session: Session, tree: AreaTree, within: str | None = None) -> list[UserRow]:
    """Every account (whose scope lies within ``within``, when given), by name."""
    rows = session.scalars(select(UserRow).order_by(UserRow.name)).all()
    return [r for r in rows if within is None or (r.scope in tree and tree.within(r.scope, within))]


def end_sessions(row: UserRow) -> None:
    """Every session cookie issued to ``row`` so far stops working, on every process."""
    row.session_version = (row.session_version or 1) + 1


def set_active(session: Session, row: UserRow, active: bool, *, actor: str) -> None:
    """Disable (every session and token stops working at once) or enable an account."""
    if row.active == active:
        return
    before = {"active": row.active}
    row.active = active
    end_sessions(row)
    if active:
        row.failed_logins, row.locked_until = 0, None
    audit(
        session,
        actor,
        "enable" if active else "disable",
        "user",
        row.id,
        before,
        {"active": active},
    )


def set_password(session: Session, row: UserRow, password: str, *, actor: str) -> None:
    """A new password (checked against the rules); ends every session of the account."""
    check_password_rules(row.name, password)
    row.password_hash = hash_password(password)
    row.failed_logins, row.locked_until = 0, None
    end_sessions(row)
    audit(session, actor, "password", "user", row.id, None, {"name": row.name})


# -- API tokens -------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: UserRow, *, label: str = "", actor: str) -> str:
    """A new bearer token for ``user``; the caller shows it once, only its hash is kept."""
    label = clean_text(label).strip()
    if len(label) > 100:
        raise PublisherError("a token's label is at most 100 characters", field="label")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(TokenRow(user_id=user.id, token_hash=_digest(token), label=label))
    audit(session, actor, "create", "token", user.name, None, {"user": user.name, "label": label})
    return token


def list_tokens(session: Session, user: UserRow | None = None) -> list[tuple[TokenRow, str]]:
    """API tokens (of ``user``, or all) with their user's name, newest first; never the token."""
    query = select(TokenRow, UserRow.name).join(UserRow, UserRow.id == TokenRow.user_id)
    if user is not None:
        query = query.where(TokenRow.user_id == user.id)
    return [(t, n) for t, n in session.execute(query.order_by(TokenRow.id.desc())).all()]


def revoke_token(
    session: Session,
    token_id: int,
    *,
    actor: str,
    within: str | None = None,
    tree: AreaTree | None = None,
) -> TokenRow:
    """Revoke API token ``token_id`` (for an admin: only a token of a user within their scope)."""
    row = session.get(TokenRow, token_id) if 1 <= token_id <= 2**31 - 1 else None
    user = session.get(UserRow, row.user_id) if row is not None else None
    if (
        row is None
        or user is None
        or (
            within is not None
            and tree is not None
            and not (user.scope in tree and tree.within(user.scope, within))
        )
    ):
        raise NotFound(f"no API token {token_id}", field="id")
    if row.revoked_at is None:
        row.revoked_at = now()
        audit(
            session, actor, "revoke", "token", row.id, None, {"user": user.name, "label": row.label}
        )
    return row


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The principal a bearer token acts as, or ``None`` for an unknown or revoked token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(select(TokenRow).where(TokenRow.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    user = session.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now()
    return principal_of(user)
