"""SMIL 3.0 playlists for players that are not browsers (signage SoCs, media players).

A pure function: numbered slide files and their durations in, the document out. The playlist
loops for ever (``repeatCount="indefinite"``); each ``<img>`` stays up for its ``dur``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from xml.sax.saxutils import quoteattr

SMIL_NS = "http://www.w3.org/ns/SMIL"


def smil_playlist(
    slides: Iterable[tuple[str, int]],
    *,
    title: str = "",
    width: int = 1920,
    height: int = 1080,
    audio: Sequence[str] = (),
    audio_every_s: int = 0,
) -> str:
    """``slides`` as ``(file name, duration in seconds)``, in order; with ``audio`` (an
    emergency's chime and announcement) the sound files play in order beside the slides,
    starting again every ``audio_every_s`` seconds (once, if 0)."""
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
    ]
    pad = "  " if audio else ""
    if audio:
        lines.append("    <par>")
    lines.append(f'    {pad}<seq repeatCount="indefinite">')
    for src, duration_s in slides:
        lines.append(
            f'      {pad}<img src={quoteattr(src)} region="main" dur="{int(duration_s)}s"/>'
        )
    lines.append(f"    {pad}</seq>")
    if audio:
        repeat = (
            f' dur="{int(audio_every_s)}s" repeatCount="indefinite"' if audio_every_s > 0 else ""
        )
        lines.append(f"      <par{repeat}>")
        lines.append("        <seq>")
        lines += [f"          <audio src={quoteattr(src)}/>" for src in audio]
        lines += ["        </seq>", "      </par>", "    </par>"]
    lines += ["  </body>", "</smil>", ""]
    return "\n".join(lines)
