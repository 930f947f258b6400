"""Slides: one item, one language, one screen size → one PNG, named by its content.

The contract the rest of the publisher relies on (planning, the player, exports, delivery):

- :class:`SlideSpec` holds everything that affects a slide's pixels;
- :func:`slide_key` is the hash of that, so a ward-wide item renders once per (size, language)
  whatever the number of screens, and an unchanged item is never rendered again;
- :func:`ensure_slide` writes ``<out_dir>/<key>.png`` atomically (temp file + rename) if it
  is missing and returns its path.

The issuing area (世田谷区, 北沢総合支所, 代沢まちづくりセンター) is on the slide, not the screen's
own location, so one render serves every screen.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from publisher.areas import Area
from publisher.errors import ConfigError
from publisher.items import Item
from publisher.render.qr import qr_image

RENDERER_VERSION = "0"
NOTO_CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
NOTO_CJK_BOLD = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
NOTO_JP_INDEX = 0  # face 0 of the collection is JP; 2 (SC) draws some kanji differently


@dataclass(frozen=True)
class SlideSpec:
    item: Item
    width: int
    height: int
    lang: str
    issuer: Area
    qr_url: str


def slide_key(spec: SlideSpec) -> str:
    """A digest of everything that affects the slide's pixels."""
    t = spec.item.text(spec.lang)
    data = {
        "v": RENDERER_VERSION,
        "size": [spec.width, spec.height],
        "lang": spec.lang,
        "title": t.title,
        "body": t.body,
        "kind": spec.item.kind,
        "priority": spec.item.priority,
        "category": spec.item.category,
        "drill": spec.item.drill,
        "level": spec.item.alert.warning_level if spec.item.alert else None,
        "event": [str(spec.item.event_starts_at), str(spec.item.event_ends_at)],
        "place": spec.item.place.name if spec.item.place else None,
        "issuer": spec.issuer.code,
        "qr": spec.qr_url,
    }
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def font(size: int, font_path: str | None = None) -> ImageFont.FreeTypeFont:
    path = font_path or NOTO_CJK
    if not os.path.exists(path):
        raise ConfigError(
            f"the Japanese font {path} is missing: install fonts-noto-cjk "
            "(sudo apt-get install fonts-noto-cjk) or set PUBLISHER_FONT"
        )
    return ImageFont.truetype(path, size, index=NOTO_JP_INDEX if path.endswith(".ttc") else 0)


def render_slide(spec: SlideSpec, font_path: str | None = None) -> Image.Image:
    img = Image.new("RGB", (spec.width, spec.height), "#FFFFFF")
    draw = ImageDraw.Draw(img)
    unit = min(spec.width, spec.height) // 20
    t = spec.item.text(spec.lang)
    draw.text((unit, unit), spec.issuer.display_name, font=font(unit, font_path), fill="#000000")
    draw.text((unit, unit * 3), t.title, font=font(unit * 2, font_path), fill="#000000")
    qr = qr_image(spec.qr_url, unit * 6)
    img.paste(qr, (spec.width - qr.width - unit, spec.height - qr.height - unit))
    return img


def ensure_slide(spec: SlideSpec, out_dir: Path, font_path: str | None = None) -> Path:
    """``out_dir/<key>.png``, rendered and written atomically only if it does not exist."""
    path = Path(out_dir) / f"{slide_key(spec)}.png"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    img = render_slide(spec, font_path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            img.save(f, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
