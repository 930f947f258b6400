"""A drawn slide and where each of its texts went (what tests and previews read)."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from publisher.render.theme import Theme
from publisher.render.typeset import TextBlock

__all__ = ["Composition", "PlacedText"]


@dataclass(frozen=True)
class PlacedText:
    role: str  # label, issuer, title, when, where, body, caption, marker, marker_note …
    block: TextBlock
    x: int
    y: int
    colour: str
    background: str


@dataclass
class Composition:
    image: Image.Image
    theme: Theme
    texts: list[PlacedText] = field(default_factory=list)
    qr_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    marker_box: tuple[int, int, int, int] | None = None
    content_box: tuple[int, int, int, int] = (0, 0, 0, 0)
    picture_box: tuple[int, int, int, int] | None = None

    def role(self, name: str) -> list[PlacedText]:
        return [t for t in self.texts if t.role == name]
