"""Exports for players that are not browsers: a folder per screen.

``<out>/<screen id>/`` holds the numbered slides (``001.png`` …, hard links to — or copies of —
the content-addressed files under ``DATA_DIR/out/slides``), ``manifest.json`` (order, files,
durations, item ids, languages, ``valid_until``: rebuild by then, and ``plays``: where the
player may report each slide it showed, as the browser player does) and ``playlist.smil``
(SMIL 3.0). During an emergency on a screen with ``audio = true`` the folder also holds the
announcement (``audio-01-chime.wav``, ``audio-02-ja.wav`` …), listed under ``"audio"`` in the
manifest and played by the SMIL beside the slides, again every ``every_s`` seconds. A folder is built beside its final place and renamed into it, so a player syncing
the folder never sees half of a new playlist.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.deliver.playlists import (
    ScreenPlaylist,
    audio_files,
    build,
    cleared_seconds,
    load_items,
    render_slides,
)
from publisher.items import iso
from publisher.render.smil import smil_playlist
from publisher.render.speech import Clip
from publisher.runtime import Runtime

MANIFEST = "manifest.json"
SMIL = "playlist.smil"


def slide_file_name(order: int) -> str:
    return f"{order:03d}.png"


def audio_file_name(order: int, lang: str) -> str:
    return f"audio-{order:02d}-{lang}.wav"


def manifest(
    sp: ScreenPlaylist, audio: list[tuple[Clip, Path]] | None = None, base_url: str = ""
) -> dict[str, Any]:
    """What a folder player (or the delivery step) needs to know about the folder;
    ``"plays"``: where it may report what it showed (the screen's token as for the player)."""
    return {
        "screen": sp.screen.id,
        "size": sp.screen.size,
        "version": sp.version,
        "override": sp.plan.override,
        "generated_at": iso(sp.generated_at),
        "valid_until": iso(sp.next_change_at),
        "entries": [
            {
                "order": i,
                "file": slide_file_name(i),
                "duration_s": s.entry.duration_s,
                "item_id": s.entry.item_id,
                "revision": s.entry.item.revision,
                "lang": s.entry.lang,
                "drill": s.entry.drill,
                "slide": s.file_name,
            }
            for i, s in enumerate(sp.slides, start=1)
        ],
        "audio": (
            {
                "volume": sp.screen.volume,
                "every_s": sp.announce_every_s,
                "files": [
                    {"file": audio_file_name(i, c.lang), "lang": c.lang, "text": c.text}
                    for i, (c, _) in enumerate(audio, start=1)
                ],
            }
            if audio
            else None
        ),
        "plays": f"{base_url}/api/screens/{sp.screen.id}/plays",
    }


def smil(sp: ScreenPlaylist, audio: list[tuple[Clip, Path]] | None = None) -> str:
    return smil_playlist(
        [(slide_file_name(i), s.entry.duration_s) for i, s in enumerate(sp.slides, start=1)],
        title=f"{sp.screen.id} {sp.screen.location}".strip(),
        width=sp.screen.width,
        height=sp.screen.height,
        audio=[audio_file_name(i, c.lang) for i, (c, _) in enumerate(audio or [], start=1)],
        audio_every_s=sp.announce_every_s,
    )


def write_folder(
    sp: ScreenPlaylist,
    slide_paths: list[Path],
    out_dir: Path,
    audio: list[tuple[Clip, Path]] | None = None,
    base_url: str = "",
) -> Path:
    """Write ``out_dir/<screen id>/`` atomically (temp folder, then rename)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / sp.screen.id
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".tmp-{sp.screen.id}-"))
    try:
        for i, src in enumerate(slide_paths, start=1):
            _link_or_copy(src, tmp / slide_file_name(i))
        for i, (clip, src) in enumerate(audio or [], start=1):
            _link_or_copy(src, tmp / audio_file_name(i, clip.lang))
        (tmp / MANIFEST).write_text(
            json.dumps(manifest(sp, audio, base_url), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
        (tmp / SMIL).write_text(smil(sp, audio), encoding="utf-8")
        os.chmod(tmp, 0o755)
        if final.exists():
            old = out_dir / f".old-{sp.screen.id}-{os.getpid()}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system, or links not allowed
        shutil.copyfile(src, dst)


def export_screen(rt: Runtime, screen_id: str, at: datetime, out_dir: Path) -> Path:
    """One screen's folder at ``at``; returns its path (its manifest.json has "version")."""
    screen = rt.tree.screen(screen_id)
    with rt.session() as session:
        items = load_items(session, at, cleared_seconds(rt))
    sp = build(rt, screen, items, at)
    audio = audio_files(rt, sp.audio)
    return write_folder(sp, render_slides(rt, sp), out_dir, audio, rt.settings.base_url)


def build_screens(rt: Runtime, out_dir: Path, at: datetime) -> dict[str, int]:
    """A build step: every screen's folder. Counts screens, slides and distinct slide files."""
    with rt.session() as session:
        items = load_items(session, at, cleared_seconds(rt))
    counts = {"screens": 0, "slides": 0, "slide_files": 0}
    distinct: set[str] = set()
    for screen in rt.tree.screens.values():
        sp = build(rt, screen, items, at)
        audio = audio_files(rt, sp.audio)
        write_folder(sp, render_slides(rt, sp), Path(out_dir), audio, rt.settings.base_url)
        counts["screens"] += 1
        counts["slides"] += len(sp.slides)
        distinct.update(s.key for s in sp.slides)
    counts["slide_files"] = len(distinct)
    return counts
