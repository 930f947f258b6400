"""Pictures for the item-image tests: a recognisable photo-like image, stored as the admin
stores uploads."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageDraw

from publisher.web.admin.images import store_image

MAGENTA = (230, 0, 126)  # a colour no slide theme uses: where it shows, the picture is


def photo(width: int = 800, height: int = 600, fmt: str = "JPEG") -> bytes:
    """A landscape 'photo': a magenta field with a sky band and a sun, as ``fmt`` bytes."""
    img = Image.new("RGB", (width, height), MAGENTA)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, width, height // 4), fill=(40, 120, 220))
    r = min(width, height) // 8
    draw.ellipse((width - 3 * r, r // 2, width - r, r // 2 + 2 * r), fill=(250, 220, 40))
    out = io.BytesIO()
    img.save(out, format=fmt, quality=95)
    return out.getvalue()


def noisy_jpeg(width: int, height: int) -> bytes:
    """A JPEG that compresses badly (random pixels): a big file, like a camera's."""
    img = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=95)
    return out.getvalue()


def stored_photo(uploads_dir: Path, width: int = 800, height: int = 600) -> str:
    """A photo kept in ``uploads_dir``; its stored name."""
    return store_image(photo(width, height), uploads_dir)


def magenta_share(img: Image.Image, box: tuple[int, int, int, int] | None = None) -> float:
    """The share of pixels (within ``box``) that are the picture's magenta (JPEG-tolerant)."""
    part = img.convert("RGB").crop(box) if box else img.convert("RGB")
    small = part.resize(
        (max(1, part.width // 4), max(1, part.height // 4)), Image.Resampling.NEAREST
    )
    data = small.tobytes()
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    hits = sum(1 for r, g, b in pixels if r > 190 and g < 60 and 90 < b < 170)
    return hits / max(1, len(pixels))
