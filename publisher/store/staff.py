"""Staff accounts, API tokens and who may do what where.

A user has a role (editor < approver < admin) and a scope area. They act only on items whose
targets all lie within their scope (their area or below it). Passwords are hashed with argon2;
API tokens are random and only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.areas import AreaTree
from publisher.errors import Conflict, Forbidden, PublisherError, did_you_mean
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
    if len(password) < PASSWORD_MIN_CHARS:
        raise PublisherError(
            f"a password needs at least {PASSWORD_MIN_CHARS} characters", field="password"
        )
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


# -- API tokens -------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: UserRow, *, label: str = "", actor: str) -> str:
    """A new bearer token for ``user``; the caller shows it once, only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(TokenRow(user_id=user.id, token_hash=_digest(token), label=label))
    audit(session, actor, "create", "token", user.name, None, {"user": user.name, "label": label})
    return token


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
