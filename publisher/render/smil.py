"""SMIL 3.0 playlists for players that are not browsers (signage SoCs, media players).

A pure function: numbered slide files and their durations in, the document out. The playlist
loops for ever (``repeatCount="indefinite"``); each ``<img>`` stays up for its ``dur``.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.sax.saxutils import quoteattr

SMIL_NS = "http://www.w3.org/ns/SMIL"


def smil_playlist(
    slides: Iterable[tuple[str, int]], *, title: str = "", width: int = 1920, height: int = 1080
) -> str:
    """``slides`` as ``(file name, duration in seconds)``, in order."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<smil xmlns="{SMIL_NS}" version="3.0" baseProfile="Language">',
        "  <head>",
    ]
    if title:
        lines.append(f'    <meta name="title" content={quoteattr(title)}/>')
    lines += [
        "    <layout>",
        f'      <root-layout width="{width}" height="{height}" backgroundColor="black"/>',
        '      <region xml:id="main" left="0" top="0" width="100%" height="100%" fit="meet"/>',
        "    </layout>",
        "  </head>",
        "  <body>",
        '    <seq repeatCount="indefinite">',
    ]
    for src, duration_s in slides:
        lines.append(f'      <img src={quoteattr(src)} region="main" dur="{int(duration_s)}s"/>')
    lines += ["    </seq>", "  </body>", "</smil>", ""]
    return "\n".join(lines)
