"""Signage commands: ``publisher playlist`` and ``publisher build``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from publisher.item_input import parse_time
from publisher.items import iso, utcnow


def _at(value: str | None) -> datetime:
    return parse_time(value, "--at") or utcnow()


def register(cli: click.Group) -> None:
    from publisher.cli.main import _ready_runtime

    @cli.command()
    @click.argument("screen")
    @click.option("--at", "at_text", metavar="ISO-TIME", help="When (default now; local time).")
    @click.option("--json", "as_json", is_flag=True, help="Print the playlist as JSON.")
    def playlist(screen: str, at_text: str | None, as_json: bool) -> None:
        """What SCREEN shows at a time: items, languages, durations, slide files."""
        from publisher.deliver.playlists import render_slides, screen_playlist, slides_dir

        rt = _ready_runtime()
        at = _at(at_text)
        sp = screen_playlist(rt, screen, at)
        render_slides(rt, sp)
        out = slides_dir(rt)
        if as_json:
            data = sp.as_json(lambda key: str(out / f"{key}.png"))
            click.echo(json.dumps(data, ensure_ascii=False, indent=2))
            return
        s = sp.screen
        click.echo(f"{s.id} ({s.location}, {s.size}) at {iso(at)}: version {sp.version}")
        if sp.plan.override:
            click.echo("EMERGENCY OVERRIDE: an emergency alert replaces the playlist")
        if not sp.slides:
            click.echo("  (nothing to show)")
        from publisher.cli.text import cut, table

        rows = []
        for i, slide in enumerate(sp.slides, start=1):
            e = slide.entry
            rows.append(
                (
                    f"{i}.",
                    f"#{e.item_id}",
                    e.lang,
                    f"{e.duration_s}s",
                    e.role,
                    cut(e.item.text(e.lang).title, 40),
                    str(out / slide.file_name),
                )
            )
        if rows:
            headers = ("", "ITEM", "LANG", "TIME", "ROLE", "TITLE", "SLIDE")
            for line in table(headers, rows):
                click.echo("  " + line)
        click.echo(f"changes next at {iso(sp.next_change_at)}")

    @cli.command()
    @click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Where to write (default DATA_DIR/out/build).",
    )
    @click.option(
        "--at", "at_text", metavar="ISO-TIME", help="Build as of this time (default now)."
    )
    @click.option("--json", "as_json", is_flag=True)
    def build(out_dir: Path | None, at_text: str | None, as_json: bool) -> None:
        """Render everything as static files: per-screen folders with manifest and SMIL, ..."""
        from publisher.cli.build import build as run_build

        rt = _ready_runtime()
        out = out_dir or rt.settings.data_dir / "out" / "build"
        result = run_build(rt, out, _at(at_text))
        if as_json:
            click.echo(json.dumps({"out": str(out), "steps": result}, ensure_ascii=False))
            return
        for step, counts in result.items():
            summary = ", ".join(f"{v} {k}" for k, v in counts.items())
            click.echo(f"{step.split(':')[-1]}: {summary}")
        click.echo(f"written to {out}")
