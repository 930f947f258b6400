"""The ``publisher`` command: the operator's tool.

Every command answers bad input with one line saying where and why and a non-zero exit;
``--json`` prints machine-readable output. See DESIGN.md for the whole interface.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from publisher import __version__
from publisher.config import DEFAULT_HOST, DEFAULT_PORT, settings_help
from publisher.errors import PublisherError
from publisher.items import KINDS, PRIORITIES, utcnow
from publisher.runtime import Runtime
from publisher.store import staff, workflow
from publisher.store.content import get_item, list_items, sync_tree
from publisher.timetable import load_schedule


class PublisherGroup(click.Group):
    """Turns our errors into one line and exit status 1 instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PublisherError as e:
            raise click.ClickException(str(e)) from None
        except OperationalError as e:
            raise click.ClickException(f"database error: {e.orig}") from None


def _runtime() -> Runtime:
    ctx = click.get_current_context()
    root = ctx.find_root()
    if root.obj is None:
        root.obj = Runtime()
        root.call_on_close(root.obj.close)
    return root.obj


def _ready_runtime() -> Runtime:
    rt = _runtime()
    if not rt.db.is_migrated():
        raise click.ClickException(
            f"the database at {rt.db.safe_url} is empty: run `publisher init` first"
        )
    pending = rt.db.pending_migrations()
    if pending:
        raise click.ClickException(
            f"the database at {rt.db.safe_url} lacks migration(s) {', '.join(pending)}: "
            "run `publisher init` to upgrade it"
        )
    return rt


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _epilog() -> str:
    # "\b" keeps click from re-wrapping the aligned table into one paragraph.
    return (
        "Run it as .venv/bin/publisher, or `. .venv/bin/activate` first.\n\n"
        "\b\nSettings (environment variables; `publisher settings` prints them alone):\n"
        + settings_help(width=98)
    )


@click.group(
    cls=PublisherGroup,
    epilog=_epilog(),
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(__version__, prog_name="publisher")
def cli() -> None:
    """Setagaya's district signage and information publisher."""


def save_player_urls(rt: Runtime, tokens: dict[str, str]) -> Path:
    """Append new screens' player URLs to ``DATA_DIR/screen-urls.txt`` (mode 0600)."""
    path = Path(rt.settings.data_dir) / "screen-urls.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(f"# {utcnow().isoformat(timespec='seconds')}: new screens' player URLs\n")
        f.writelines(f"{sid} {rt.player_url(sid, t)}\n" for sid, t in sorted(tokens.items()))
    return path


@cli.command()
@click.option("--demo", is_flag=True, help="Also load the demo items and sources of content/demo/.")
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="The address `publisher serve` will use: new player URLs point at it "
    "unless PUBLISHER_BASE_URL is set.",
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
def init(demo: bool, host: str, port: int) -> None:
    """Create or migrate the database and load displays/ (and the demo). Idempotent."""
    rt = _runtime()
    rt.settings.follow_server(host, port)
    tree = rt.tree  # validate displays/ before touching the database
    load_schedule(rt.settings["SCHEDULES_DIR"])  # and schedules/
    rt.db.migrate()
    new_tokens: dict[str, str] = {}
    with rt.session() as session:
        counts = sync_tree(session, tree, new_tokens)
        click.echo(
            f"areas: {len(tree.areas)} ({counts['areas']} changed), "
            f"screens: {len(tree.screens)} ({counts['screens']} changed)"
        )
        if demo:
            from publisher.cli.demo import create_demo_staff, load_demo

            today = utcnow().astimezone(rt.tz).date()
            result = load_demo(session, tree, rt.settings["CONTENT_DIR"] / "demo", today, rt.tz)
            click.echo("demo items: " + ", ".join(f"{v} {k}" for k, v in result.items()))
            staff_file = create_demo_staff(session, tree, rt.settings.data_dir)
            if staff_file:
                click.echo(f"demo staff accounts for /admin/: names and passwords in {staff_file}")
    if new_tokens:
        urls_file = save_player_urls(rt, new_tokens)
        click.echo(
            f"player URLs of {len(new_tokens)} new screen(s) in {urls_file} (shown only this "
            "once: the database keeps only a hash of each token)"
        )
    if demo:
        _write_demo_sources(rt, utcnow().astimezone(rt.tz).date())
    from publisher.deliver.webpush import KEY_FILE, vapid_key

    vapid_key(rt.settings.data_dir)  # made once: residents' subscriptions depend on it
    click.echo(f"Web Push key: {rt.settings.data_dir / KEY_FILE}")
    click.echo(f"database ready: {rt.db.safe_url}")


def _write_demo_sources(rt: Runtime, today: Any) -> None:
    from publisher.cli.demo_sources import DEMO_SOURCES_DIR, write_demo_sources
    from publisher.collect.sources import load_sources_file

    out = write_demo_sources(
        rt.settings["CONTENT_DIR"] / "demo" / "sources",
        rt.settings.data_dir / DEMO_SOURCES_DIR,
        today,
        rt.tz,
    )
    load_sources_file(out, rt.tree)  # a mistake in them shows now, not at the first collection
    if rt.settings.sources_file.resolve() == out.resolve():
        from publisher.collect import load_sources, run_source

        click.echo(f"demo sources (files, no network): {out}")
        for source in load_sources(rt):  # once now; then the scheduler, each at its interval
            click.echo(f"  {source.name}: {run_source(rt, source.name).summary()}")
    else:
        click.echo(
            f"demo sources written to {out}; collect them with PUBLISHER_SOURCES_FILE={out} "
            f"(now: {rt.settings.sources_file})"
        )


@cli.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
@click.option(
    "--reuse-port",
    is_flag=True,
    help="Share the port with other `publisher serve` processes (PostgreSQL).",
)
def serve(host: str, port: int, reuse_port: bool) -> None:
    """Serve the web app (public pages, feeds, players, admin, API)."""
    from publisher.cli.serve import serve as run_server

    rt = _ready_runtime()
    if reuse_port and rt.db.is_sqlite:
        raise click.UsageError(
            "--reuse-port needs PostgreSQL: on SQLite a change reaches the screens of the "
            "process that made it only"
        )
    rt.settings.follow_server(host, port)
    if not reuse_port:
        from publisher.cli.serve import port_problem

        problem = port_problem(host, port)
        if problem:
            raise click.ClickException(problem)
    click.echo(
        f"publisher on http://{host}:{port}/  (links: {rt.settings.base_url}; "
        f"database {rt.db.safe_url})"
    )
    run_server(rt, host, port, reuse_port=reuse_port)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the tree as JSON.")
def areas(as_json: bool) -> None:
    """The area tree: code, Japanese name, tier, children."""
    tree = _runtime().tree
    if as_json:
        _echo_json(tree.as_json())
        return

    def show(code: str, depth: int) -> None:
        area = tree.get(code)
        click.echo(
            f"{'  ' * depth}{area.code:<{44 - 2 * depth}} {area.display_name}  ({area.tier})"
        )
        for child in area.children:
            show(child, depth + 1)

    show(tree.ward_code, 0)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the screens as JSON.")
@click.pass_context
def screens(ctx: click.Context, as_json: bool) -> None:
    """Every screen: area, delivery, status, last heartbeat, version on screen vs latest,
    last delivery and failures. Tokens are stored only as hashes, so no player URL is shown:
    `publisher screens rotate-token SCREEN` gives a screen a new token and prints its URL."""
    from publisher.store.screens import describe, screen_report

    if ctx.invoked_subcommand is not None:
        return
    rt = _ready_runtime()
    offline_after_s = load_schedule(rt.settings["SCHEDULES_DIR"]).offline_after_s
    with rt.session() as session:
        rows = screen_report(session, utcnow(), offline_after_s)
    if as_json:
        _echo_json(rows)
        return
    from publisher.cli.text import local_time, table

    headers = (
        "SCREEN",
        "AREA",
        "SIZE",
        "DELIVERY",
        "STATUS",
        "LAST HEARTBEAT",
        "VERSION · LAST DELIVERY",
    )
    cells = [
        (
            r["id"],
            r["area"],
            r["size"],
            r["delivery"],
            r["status"],
            local_time(r["last_heartbeat_at"], rt.tz) or "-",
            describe(r),
        )
        for r in rows
    ]
    for line in table(headers, cells):
        click.echo(line)


@cli.command()
@click.option("--at", "at_text", metavar="ISO-TIME", help="Plan as of this time (default now).")
@click.option("--no-collect", is_flag=True, help="Skip the sources; plan, render and deliver only.")
def publish(at_text: str | None, no_collect: bool) -> None:
    """Run the whole pipeline once: collect → plan → render → deliver (see pipeline.py)."""
    from publisher.item_input import parse_time
    from publisher.pipeline import publish as run_pipeline

    rt = _ready_runtime()
    now = parse_time(at_text, "--at") or utcnow()
    report = run_pipeline(rt, now, collect_sources=not no_collect)
    for line in report.lines():
        click.echo(line)


@cli.command("settings")
@click.option("--markdown", is_flag=True, help="Print the README's Markdown table instead.")
@click.option(
    "--write-readme",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="README.md",
    help="Rewrite the table between the markers of this file (what the README test checks).",
)
def settings_command(markdown: bool, write_readme: Path | None) -> None:
    """Every PUBLISHER_* setting: its default and what it means."""
    from publisher.config import settings_markdown, write_settings_table

    if write_readme is not None:
        changed = write_settings_table(write_readme)
        click.echo(f"{write_readme}: settings table {'rewritten' if changed else 'unchanged'}")
        return
    if markdown:
        click.echo(settings_markdown())
        return
    rt = _runtime()
    click.echo(settings_help())
    given = sorted(k for k in os.environ if k.startswith("PUBLISHER_"))
    if given:
        click.echo(f"\nSet in this environment: {', '.join(given)}")
    click.echo(f"Database now: {rt.db.safe_url}")


# -- items ------------------------------------------------------------------------------------------


@cli.group()
def items() -> None:
    """Add, list and show items."""


@items.command("add")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--title", required=True, help="The Japanese title.")
@click.option("--body", default="", help="The Japanese text.")
@click.option(
    "--target",
    "targets",
    multiple=True,
    required=True,
    metavar="AREA",
    help="An area: its code (setagaya/kitazawa/daizawa), or a unique district or region code or "
    "name (daizawa, 代沢); repeat for several.",
)
@click.option("--start", help="Display from (ISO date-time; default now).")
@click.option("--end", help="Display until (ISO date-time; default until withdrawn).")
@click.option("--event-start", help="When the event takes place (events).")
@click.option("--event-end", help="When the event ends.")
@click.option("--place", help="Where the event takes place.")
@click.option("--priority", type=click.Choice(PRIORITIES), default="normal", show_default=True)
@click.option("--category", help="general, disaster, drill, health, ...")
@click.option("--drill", is_flag=True, help="A drill or exercise: marked 訓練 everywhere.")
@click.option("--draft", is_flag=True, help="Keep it a draft instead of approving it.")
@click.option("--json", "as_json", is_flag=True)
def items_add(
    kind: str,
    title: str,
    body: str,
    targets: tuple[str, ...],
    start: str | None,
    end: str | None,
    event_start: str | None,
    event_end: str | None,
    place: str | None,
    priority: str,
    category: str | None,
    drill: bool,
    draft: bool,
    as_json: bool,
) -> None:
    """Write an item; approved at once unless --draft. Prints its id."""
    rt = _ready_runtime()
    data: dict[str, Any] = {
        "kind": kind,
        "title": {"ja": title},
        "body": {"ja": body} if body else {},
        "targets": [rt.tree.resolve(t, "--target") for t in targets],
        "starts_at": start,
        "ends_at": end,
        "priority": priority,
        "category": category,
        "drill": drill,
        "status": "draft" if draft else "approved",
    }
    if event_start:
        data["event"] = {"starts_at": event_start, "ends_at": event_end}
    if place:
        data["place"] = {"name": place}
    with rt.session() as session:
        try:
            item = workflow.create(session, rt.tree, staff.operator(rt.tree), data)
        except PublisherError as e:
            from publisher.cli.text import in_flags

            raise click.ClickException(in_flags(e.message, e.field)) from None
    _echo_json(item.as_json()) if as_json else click.echo(item.id)


@items.command("list")
@click.option("--area", help="Only items seen in this area (targeted at it or above it).")
@click.option(
    "--status", type=click.Choice(["draft", "pending", "approved", "withdrawn", "expired"])
)
@click.option("--json", "as_json", is_flag=True)
def items_list(area: str | None, status: str | None, as_json: bool) -> None:
    """Items, newest first."""
    rt = _ready_runtime()
    if area:
        area = rt.tree.resolve(area, "--area")
    with rt.session() as session:
        found = list_items(session, rt.tree, seen_in=area, statuses=[status] if status else None)
    if as_json:
        _echo_json([i.as_json() for i in found])
        return
    now = utcnow()
    for i in found:
        live = "live" if i.is_live(now) else "    "
        click.echo(
            f"{i.id:>5} {i.kind:<6} {i.status:<9} {live} {','.join(i.targets):<40} {i.title}"
        )


@items.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True)
def items_show(item_id: int, as_json: bool) -> None:
    """One item in full."""
    rt = _ready_runtime()
    with rt.session() as session:
        item = get_item(session, item_id)
    if as_json:
        _echo_json(item.as_json())
        return
    from publisher.cli.text import item_lines

    for line in item_lines(item, rt.item_url, rt.tz, rt.tree):
        click.echo(line)


# Modules that add commands: each has ``register(cli)``. Adding one is a one-line change.
COMMAND_MODULES: list[str] = [
    "publisher.cli.accounts",
    "publisher.cli.sns",
    "publisher.cli.collect",
    "publisher.cli.signage",
    "publisher.cli.worker",
    "publisher.cli.print",
    "publisher.cli.report",
]


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(cli)


_register_commands()


def main() -> None:
    cli(prog_name="publisher")


__all__ = ["cli", "main"]
