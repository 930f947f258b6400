"""``publisher sns ...``: preview a post, list the accounts, look at and run the outbox."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select

from publisher.errors import NotFound, PublisherError
from publisher.items import iso, utcnow
from publisher.render.sns import NETWORKS, Limits, compose


def register(cli: click.Group) -> None:
    from publisher.cli.main import _echo_json, _ready_runtime, _runtime

    @cli.group()
    def sns() -> None:
        """SNS posts: preview, accounts, outbox."""

    @sns.command("preview")
    @click.argument("item_id", type=int)
    @click.option("--network", type=click.Choice(NETWORKS), required=True)
    @click.option("--lang", default="ja", show_default=True)
    @click.option(
        "--account", metavar="CODE", help="Use this area's account limits (Mastodon instance)."
    )
    @click.option("--json", "as_json", is_flag=True)
    def preview(item_id: int, network: str, lang: str, account: str | None, as_json: bool) -> None:
        """The post text for that network (and its length by the network's count)."""
        from publisher.deliver.outbox import accounts_of
        from publisher.store.content import get_item

        rt = _ready_runtime()
        with rt.session() as session:
            item = get_item(session, item_id)
        if lang not in item.languages:
            raise PublisherError(
                f"item {item_id} has no {lang} text (it has {', '.join(item.languages)})"
            )
        limits = Limits.for_network(network)
        if account:
            acc = accounts_of(rt).get(account, network)
            if acc is None:
                raise NotFound(f"no {network} account for '{account}' in accounts.toml")
            limits = acc.limits
        post = compose(item, rt.tree, rt.item_url(item_id), limits, lang, rt.tz)
        if as_json:
            _echo_json(vars(post))
            return
        click.echo(post.text)
        click.echo(f"--- {post.length}/{post.limit} {limits.unit}" + (" (cut)" if post.cut else ""))

    @sns.command("accounts")
    @click.option("--json", "as_json", is_flag=True)
    def accounts(as_json: bool) -> None:
        """Every configured account and whether its credential is set (never its value)."""
        from publisher.deliver.outbox import accounts_of

        rt = _runtime()
        rows = [
            {
                "area": a.area,
                "network": a.network,
                "handle": a.handle,
                "base_url": a.base_url,
                "languages": list(a.languages),
                "credential": "missing " + ", ".join(m)
                if (m := a.missing_credentials())
                else "set",
            }
            for a in accounts_of(rt)
        ]
        if as_json:
            _echo_json(rows)
            return
        for r in rows:
            click.echo(f"{r['area']:<36} {r['network']:<9} {r['handle']:<44} {r['credential']}")

    @sns.command("outbox")
    @click.option("--item", "item_id", type=int, help="Only this item's posts.")
    @click.option("--json", "as_json", is_flag=True)
    def outbox(item_id: int | None, as_json: bool) -> None:
        """Queued, sent, failed and deleted posts, newest first."""
        from publisher.store.models import SnsPostRow

        rt = _ready_runtime()
        query = select(SnsPostRow).order_by(SnsPostRow.id.desc()).limit(200)
        if item_id is not None:
            query = query.where(SnsPostRow.item_id == item_id)
        with rt.session() as session:
            rows: list[dict[str, Any]] = [
                {
                    "key": r.idempotency_key,
                    "state": r.state,
                    "remote_id": r.remote_id,
                    "attempts": r.attempts,
                    "not_before": iso(r.not_before),
                    "sent_at": iso(r.sent_at),
                    "deleted_at": iso(r.deleted_at),
                    "last_error": r.last_error,
                }
                for r in session.scalars(query)
            ]
        if as_json:
            _echo_json(rows)
            return
        for r in rows:
            note = f"  {r['last_error']}" if r["last_error"] else ""
            click.echo(f"{r['key']:<52} {r['state']:<10} {r['remote_id'] or '':<24}{note}")

    @sns.command("send")
    def send() -> None:
        """Send what is due now (the scheduler does this on a timer)."""
        from publisher.deliver.outbox import process_due

        counts = process_due(_ready_runtime(), utcnow())
        click.echo(", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "nothing due")
