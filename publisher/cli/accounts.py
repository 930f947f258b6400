"""Credentials and their life cycle: staff accounts, API tokens, screen tokens.

``publisher users list|create|disable|enable|password NAME``, ``publisher tokens list [USER]|
create USER|revoke ID`` and ``publisher screens rotate-token SCREEN``. Disabling an account or
changing its password ends every session it has; a revoked token stops working at once; a
rotated screen token locks out whoever copied the old player URL.
"""

from __future__ import annotations

import sys

import click

from publisher.errors import PublisherError
from publisher.items import iso
from publisher.store import staff
from publisher.store.screens import rotate_screen_token


def _password(prompt: bool) -> str:
    if not prompt or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def register(cli: click.Group) -> None:
    from publisher.cli.main import _echo_json, _ready_runtime

    @cli.group()
    def users() -> None:
        """Staff accounts."""

    @users.command("create")
    @click.argument("name")
    @click.option("--role", type=click.Choice(staff.ROLES), required=True)
    @click.option("--area", "scope", required=True, metavar="CODE", help="The user's scope area.")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def users_create(name: str, role: str, scope: str, password_stdin: bool) -> None:
        """Create a staff account (prompts for the password unless it is piped)."""
        rt = _ready_runtime()
        password = _password(not password_stdin)
        with rt.session() as session:
            staff.create_user(session, rt.tree, name, role, scope, password, actor="cli")
        click.echo(f"created {role} {name} for {rt.tree.get(scope).display_name} ({scope})")

    @users.command("list")
    @click.option("--json", "as_json", is_flag=True)
    def users_list(as_json: bool) -> None:
        """Every account: name, role, scope, active or disabled."""
        rt = _ready_runtime()
        with rt.session() as session:
            rows = [
                {
                    "name": r.name,
                    "role": r.role,
                    "scope": r.scope,
                    "active": r.active,
                    "created_at": iso(r.created_at),
                }
                for r in staff.list_users(session, rt.tree)
            ]
        if as_json:
            _echo_json(rows)
            return
        for r in rows:
            state = "active" if r["active"] else "DISABLED"
            click.echo(f"{r['name']:<24} {r['role']:<9} {state:<9} {r['scope']}")

    @users.command("disable")
    @click.argument("name")
    def users_disable(name: str) -> None:
        """Disable NAME: their sessions and API tokens stop working at once."""
        rt = _ready_runtime()
        with rt.session() as session:
            staff.set_active(session, staff.require_user(session, name), False, actor="cli")
        click.echo(f"disabled {name}; their sessions and tokens no longer work")

    @users.command("enable")
    @click.argument("name")
    def users_enable(name: str) -> None:
        """Enable NAME again (their old sessions stay ended)."""
        rt = _ready_runtime()
        with rt.session() as session:
            staff.set_active(session, staff.require_user(session, name), True, actor="cli")
        click.echo(f"enabled {name}")

    @users.command("password")
    @click.argument("name")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def users_password(name: str, password_stdin: bool) -> None:
        """Set NAME's password (prompts unless piped); ends every session they have."""
        rt = _ready_runtime()
        password = _password(not password_stdin)
        with rt.session() as session:
            staff.set_password(session, staff.require_user(session, name), password, actor="cli")
        click.echo(f"password of {name} changed; their sessions have ended")

    @cli.group()
    def tokens() -> None:
        """API bearer tokens."""

    @tokens.command("create")
    @click.argument("user")
    @click.option("--label", default="", help="What the token is for.")
    def tokens_create(user: str, label: str) -> None:
        """Print a new API token for USER as the last line (only its hash is stored)."""
        rt = _ready_runtime()
        with rt.session() as session:
            row = staff.user_by_name(session, user)
            if row is None:
                raise PublisherError(
                    f"no user named '{user}' (create one with `publisher users create`)"
                )
            token = staff.create_token(session, row, label=label, actor="cli")
            click.echo(
                f"token for {row.name} ({row.role}, {row.scope}); keep it secret, "
                "it is shown once:",
                err=True,
            )
        click.echo(token)

    @tokens.command("list")
    @click.argument("user", required=False)
    @click.option("--json", "as_json", is_flag=True)
    def tokens_list(user: str | None, as_json: bool) -> None:
        """API tokens (of USER, or all): id, user, label, created, last used, revoked."""
        rt = _ready_runtime()
        with rt.session() as session:
            owner = staff.require_user(session, user) if user else None
            rows = [
                {
                    "id": t.id,
                    "user": name,
                    "label": t.label,
                    "created_at": iso(t.created_at),
                    "last_used_at": iso(t.last_used_at),
                    "revoked_at": iso(t.revoked_at),
                }
                for t, name in staff.list_tokens(session, owner)
            ]
        if as_json:
            _echo_json(rows)
            return
        for r in rows:
            state = f"revoked {r['revoked_at']}" if r["revoked_at"] else "active"
            used = r["last_used_at"] or "never used"
            click.echo(f"{r['id']:>5} {r['user']:<24} {state:<34} {used:<26} {r['label']}")

    @tokens.command("revoke")
    @click.argument("token_id", type=int)
    def tokens_revoke(token_id: int) -> None:
        """Revoke token ID (see `publisher tokens list`): it stops working at once."""
        rt = _ready_runtime()
        with rt.session() as session:
            staff.revoke_token(session, token_id, actor="cli")
        click.echo(f"token {token_id} revoked")

    screens = cli.commands["screens"]
    assert isinstance(screens, click.Group)

    @screens.command("rotate-token")
    @click.argument("screen_id")
    def screens_rotate_token(screen_id: str) -> None:
        """Give SCREEN a new token and print its new player URL (the old one stops working)."""
        rt = _ready_runtime()
        with rt.session() as session:
            token = rotate_screen_token(session, screen_id, actor="cli")
        click.echo(
            f"new token for {screen_id}; open this URL on its player (the old one no longer "
            "works):",
            err=True,
        )
        click.echo(rt.player_url(screen_id, token))
