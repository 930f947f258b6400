"""``publisher print`` and ``publisher bulletin``: posters and weekly bulletins as PDF files,
the same as ``/items/<id>/poster.pdf`` and ``/areas/<code>/bulletin.pdf`` answer."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.files import write_atomic
from publisher.items import utcnow


def _write(out: str, pdf: bytes) -> None:
    path = Path(out)
    if path.suffix.lower() != ".pdf":
        raise click.BadParameter(f"{out}: the file name must end in .pdf", param_hint="--out")
    if not path.parent.is_dir():
        raise click.BadParameter(f"{path.parent}: no such folder", param_hint="--out")
    write_atomic(path, pdf)
    click.echo(f"{path} ({len(pdf) // 1024} KiB)")


def register(cli: click.Group) -> None:
    from publisher.cli.main import _ready_runtime

    @cli.command("print")
    @click.argument("item_id", type=int, metavar="ITEM")
    @click.option("--size", type=click.Choice(["A4", "A3"], case_sensitive=False), default="A4")
    @click.option(
        "--lang", default="ja", show_default=True, help="ja, ja-x-easy, en, zh-Hans, zh-Hant, ko"
    )
    @click.option("--out", required=True, metavar="FILE.pdf")
    def print_poster(item_id: int, size: str, lang: str, out: str) -> None:
        """A poster of an approved item for the notice board (QR code to its page in LANG)."""
        from publisher.web.printed import poster_for

        rt = _ready_runtime()
        _write(out, poster_for(rt, item_id, lang=lang, size=size.upper(), at=utcnow()))

    @cli.command("bulletin")
    @click.argument("area", metavar="AREA")
    @click.option("--week", default=None, help="2026-W48 or a day of the week; default: this week")
    @click.option(
        "--lang", default="ja", show_default=True, help="ja, ja-x-easy, en, zh-Hans, zh-Hant, ko"
    )
    @click.option("--out", required=True, metavar="FILE.pdf")
    def bulletin(area: str, week: str | None, lang: str, out: str) -> None:
        """A district's weekly bulletin (its, its region's and the ward's events and notices)."""
        from publisher.plan.printed import week_of
        from publisher.web.printed import bulletin_for

        rt = _ready_runtime()
        now = utcnow()
        _write(out, bulletin_for(rt, area, week_of(week, now), at=now, lang=lang))
