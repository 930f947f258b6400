"""``publisher report plays|reach|uptime``: the reports' rows as CSV or JSON, for open data.

The columns are :data:`publisher.store.report_view.COLUMNS`, documented in the README's
"What is counted". CSV is UTF-8 with a byte-order mark, so that Excel opens it as UTF-8.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from publisher.items import JST, utcnow


def register(cli: click.Group) -> None:
    from publisher.cli.main import _ready_runtime

    @cli.command()
    @click.argument("kind", type=click.Choice(["plays", "reach", "uptime"]))
    @click.option("--area", default=None, metavar="CODE", help="An area code (default: the ward).")
    @click.option(
        "--since",
        default=None,
        metavar="YYYY-MM-DD",
        help="First day (default: 29 days before --until).",
    )
    @click.option(
        "--until", default=None, metavar="YYYY-MM-DD", help="Last day (default: today, ward time)."
    )
    @click.option("--item", "item_id", type=int, default=None, help="Only this item.")
    @click.option(
        "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
    )
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write to FILE instead of the terminal.",
    )
    def report(
        kind: str,
        area: str | None,
        since: str | None,
        until: str | None,
        item_id: int | None,
        fmt: str,
        out: Path | None,
    ) -> None:
        """Plays, reach (scans, page views, feed readers, SNS posts) or screens' uptime."""
        from publisher.store.plays import fold
        from publisher.store.report_view import COLUMNS, build, parse_period, to_csv, to_json

        rt = _ready_runtime()
        now = utcnow()
        start, end = parse_period(since, until, now.astimezone(JST).date())
        with rt.session() as session:
            fold(session, now)  # days that ended since the scheduler's last fold
        with rt.session() as session:
            result = build(session, rt.tree, area or rt.tree.ward_code, start, end, now, item_id)
        data = to_json(result, kind) if fmt == "json" else to_csv(result.rows(kind), COLUMNS[kind])
        if out is not None:
            out.write_bytes(data)
            click.echo(f"{out}: {len(result.rows(kind))} row(s)", err=True)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
