"""Rendered files no screen uses any more: slides and announcements, removed after a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from publisher.deliver.playlists import audio_dir, build, cleared_seconds, load_items, slides_dir
from publisher.files import TEMP_PREFIX
from publisher.runtime import Runtime

# Slide files no playlist uses are removed once they have gone unused this long. Anything
# pruned too eagerly is simply rendered again (ensure_slide writes what is missing).
SLIDES_KEPT = timedelta(days=14)
_TEMP_KEPT = timedelta(hours=1)  # an interrupted write's leftover


def prune_slides(rt: Runtime, now: datetime, kept: timedelta = SLIDES_KEPT) -> int:
    """Delete slide and announcement files that no screen's playlist uses now and nobody
    touched for ``kept``.

    Content-addressed slides accumulate with every edit; a ward running for years would
    otherwise keep every version of every slide. Returns how many files were removed.
    """
    folder = slides_dir(rt)
    if not folder.is_dir() and not audio_dir(rt).is_dir():
        return 0
    with rt.session() as session:
        items = load_items(session, now, cleared_seconds(rt))
    in_use: set[str] = set()
    for screen in rt.tree.screens.values():
        sp = build(rt, screen, items, now)
        in_use.update(slide.file_name for slide in sp.slides)
        in_use.update(clip.file_name for clip in sp.audio)
    removed = 0
    for suffix, where in ((".png", folder), (".wav", audio_dir(rt))):
        if not where.is_dir():
            continue
        for path in where.iterdir():
            is_temp = path.name.startswith(TEMP_PREFIX)
            if not is_temp and (path.suffix != suffix or path.name in in_use):
                continue
            age = now.timestamp() - path.stat().st_mtime
            if age > (_TEMP_KEPT if is_temp else kept).total_seconds():
                path.unlink(missing_ok=True)
                removed += 1
    return removed
