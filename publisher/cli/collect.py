"""The collectors' commands: ``publisher import``, ``publisher collect``, ``publisher alert``."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from publisher.collect.history import last_runs
from publisher.collect.http import Http
from publisher.collect.oneoff import import_document, ingest_alert
from publisher.collect.registry import KINDS
from publisher.collect.run import RunResult, collect, load_sources
from publisher.errors import NotFound, PublisherError, did_you_mean
from publisher.item_input import parse_time
from publisher.store import staff


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


AT_HELP = "Take this as now (default now; local time): replaying archived messages."
# `publisher alert` and `import cap`: a message stored but held for review (shown nowhere)
EXIT_HELD = 3


def _report(result: RunResult) -> None:
    click.echo(f"{result.source}: {result.summary()}")
    for s in result.skipped:
        click.echo(f"  skipped {s.entry}: {s.reason}")
    for s in result.held:
        click.echo(f"  {s.entry}: held for review: {s.reason}")


def _exit_for(result: RunResult) -> None:
    """1 when the source failed or an entry was refused, 3 when a message was held."""
    if not result.ok or result.skipped:
        raise click.exceptions.Exit(1)
    if result.held:
        raise click.exceptions.Exit(EXIT_HELD)


def _every(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _quiet() -> None:
    """The commands print each failure themselves; the runner's log line would repeat it."""
    logging.getLogger("publisher.collect.run").setLevel(logging.ERROR)


def register(cli: click.Group) -> None:
    from publisher.cli.main import _ready_runtime

    @cli.command("import")
    @click.argument("kind", metavar="KIND")
    @click.argument("location", metavar="PATH|URL")
    @click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="AREA",
        help="Target area for the imported items: a code or a unique name (daizawa, 代沢); "
        "repeatable; default the whole ward.",
    )
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--at", "at_text", metavar="ISO-TIME", help=AT_HELP)
    def import_(
        kind: str, location: str, targets: tuple[str, ...], as_json: bool, at_text: str | None
    ) -> None:
        """Import a file or URL once (kinds: rss, events-csv, ical, cap)."""
        if kind not in KINDS:
            raise PublisherError(
                f"unknown kind '{kind}' (kinds: {', '.join(KINDS)}){did_you_mean(kind, KINDS)}"
            )
        rt = _ready_runtime()
        _quiet()
        targets = tuple(rt.tree.resolve(t, "--target") for t in targets)
        result = import_document(rt, kind, location, targets, now=parse_time(at_text, "--at"))
        if as_json:
            _echo_json(result.as_json())
        else:
            _report(result)
        if not result.ok or (kind == "cap" and (result.skipped or result.held)):
            _exit_for(result)

    @cli.command("collect")
    @click.argument("source", required=False)
    @click.option("--status", is_flag=True, help="Show the last run of each source instead.")
    @click.option("--json", "as_json", is_flag=True)
    def collect_(source: str | None, status: bool, as_json: bool) -> None:
        """Run the sources of content/sources.toml (or only SOURCE)."""
        rt = _ready_runtime()
        sources = load_sources(rt)
        if source is not None:
            names = [s.name for s in sources]
            if source not in names:
                raise NotFound(f"no source '{source}' in sources.toml{did_you_mean(source, names)}")
            sources = [s for s in sources if s.name == source]
        if status:
            with rt.session() as session:
                runs = last_runs(session)
            rows: list[dict[str, Any]] = [
                {"source": s.name, "kind": s.kind, "interval": _every(s.interval),
                 "location": s.location, "last_run": runs.get(s.name)}
                for s in sources
            ]  # fmt: skip
            if as_json:
                _echo_json(rows)
                return
            for r in rows:
                run = r["last_run"]
                if run is None:
                    state = "never run"
                elif run["ok"]:
                    state = (f"ok at {run['finished_at'][:16]}: created {run['created']}, updated "
                             f"{run['updated']}, unchanged {run['unchanged']}, skipped "
                             f"{run['skipped']}")  # fmt: skip
                else:
                    state = f"FAILED at {run['finished_at'][:16]}: {run['failure']}"
                click.echo(f"{r['source']:<28} {r['kind']:<11} every {r['interval']:<9} {state}")
            return
        if not sources:
            click.echo("sources.toml lists no sources")
            return
        _quiet()
        http = Http()
        try:
            results = [collect(rt, s, http=http) for s in sources]
        finally:
            http.close()
        if as_json:
            _echo_json([r.as_json() for r in results])
        else:
            for result in results:
                _report(result)
        failed = [r for r in results if not r.ok]
        if failed:
            click.echo(f"{len(failed)} of {len(results)} sources failed", err=True)
            raise click.exceptions.Exit(1)

    @cli.command("alert")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--json", "as_json", is_flag=True)
    @click.option("--at", "at_text", metavar="ISO-TIME", help=AT_HELP)
    def alert(file: Path, as_json: bool, at_text: str | None) -> None:
        """Ingest one CAP 1.1/1.2 message (Alert, Update or Cancel); prints the item id.

        Exits 3 when the message is held for review (no area of the ward, no Japanese text or
        an untrusted sender): it is stored but shown nowhere until an approver approves it."""
        rt = _ready_runtime()
        data = Http().read_file(file)
        result = ingest_alert(
            rt,
            data,
            staff.operator(rt.tree),
            via=f"alert:{file.name}",
            now=parse_time(at_text, "--at"),
        )
        if as_json:
            _echo_json(result.as_json() | {"items": result.item_ids})
        else:
            for item_id in result.item_ids:
                click.echo(item_id)
            for s in result.held:
                click.echo(f"{s.entry}: held for review: {s.reason}", err=True)
            if result.expired:
                click.echo("already expired: stored, never shown or posted", err=True)
        if result.held:
            raise click.exceptions.Exit(EXIT_HELD)
