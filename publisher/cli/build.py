"""``publisher build``: render everything as static files, one step after another.

Each step is ``"module:function"``, called as ``step(runtime, out_dir, at) -> dict[str, int]``
(what it wrote, for the summary). Adding an output is a one-line change here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from publisher.errors import PublisherError
from publisher.runtime import Runtime

BUILD_STEPS: list[str] = [
    "publisher.deliver.export:build_screens",  # DIR/<screen id>/: numbered PNGs, manifest.json, playlist.smil
    "publisher.web.site:build_site",  # DIR/index.html, areas/, items/, feeds/, qr/: the public side
]

Step = Callable[[Runtime, Path, datetime], dict[str, int]]


def steps() -> list[tuple[str, Step]]:
    out = []
    for spec in BUILD_STEPS:
        module, attr = spec.split(":")
        out.append((spec, getattr(importlib.import_module(module), attr)))
    return out


# Marks a folder as the build's own: a later build may replace anything in it, and only there.
OWNED_MARKER = ".publisher-build"


def build(rt: Runtime, out_dir: Path, at: datetime) -> dict[str, dict[str, int]]:
    """Run every step into ``out_dir``; returns each step's counts by its name.

    The build removes what it no longer writes, so it writes only into a folder it owns: a new
    or empty one (it then leaves :data:`OWNED_MARKER` in it) or one an earlier build made. A
    disk that fills up or a folder it may not write to is a one-line error, not a traceback."""
    out_dir = Path(out_dir)
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise PublisherError(f"{out_dir} is a file; give a folder", where="--out")
        if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / OWNED_MARKER).exists():
            raise PublisherError(
                f"{out_dir} is not empty and was not made by `publisher build`; choose a new or "
                "empty folder (the build replaces what is in it)",
                where="--out",
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / OWNED_MARKER).write_text("written by `publisher build`; it may replace all\n")
        return {spec: step(rt, out_dir, at) for spec, step in steps()}
    except OSError as e:
        where = e.filename or out_dir
        raise PublisherError(f"cannot write {where}: {e.strerror or e}", where="build") from None
