"""``publisher build``: render everything as static files, one step after another.

Each step is ``"module:function"``, called as ``step(runtime, out_dir, at) -> dict[str, int]``
(what it wrote, for the summary). Adding an output is a one-line change here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

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


def build(rt: Runtime, out_dir: Path, at: datetime) -> dict[str, dict[str, int]]:
    """Run every step into ``out_dir``; returns each step's counts by its name."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return {spec: step(rt, out_dir, at) for spec, step in steps()}
