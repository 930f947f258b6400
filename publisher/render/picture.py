"""An item's picture on a slide: where its box goes and how it is drawn.

Landscape: at the top right, beside the title and body, above the QR code. Portrait: across
the top, under the header. The whole picture is shown (never cropped: a poster's words stay
whole), and the box takes the picture's own shape, so there are no bars.
"""

from __future__ import annotations

from PIL import Image

PICTURE_SHARE_LANDSCAPE = 0.40  # of the content width, at most, beside the text
PICTURE_SHARE_PORTRAIT = 0.42  # of the height between the header and the QR code, at most
PICTURE_MIN_U = 200  # a smaller box shows nothing a passer-by can make out: no picture
PICTURE_MAX_UPSCALE = 2.0  # a small upload is enlarged at most this much (beyond, it blurs)


def picture_box(
    size: tuple[int, int],
    box: tuple[int, int, int, int],
    portrait: bool,
    unit: float,
) -> tuple[int, int, int, int] | None:
    """The picture's box (left, top, right, bottom) inside ``box`` (x0, top, x1, bottom) for a
    picture of ``size`` on a slide whose unit is ``unit`` px; None when there is no room."""
    x0, top, x1, bottom = box
    if portrait:
        max_w, max_h = x1 - x0, round((bottom - top) * PICTURE_SHARE_PORTRAIT)
    else:
        max_w, max_h = round((x1 - x0) * PICTURE_SHARE_LANDSCAPE), bottom - top
    pw, ph = size
    scale = min(max_w / pw, max_h / ph, PICTURE_MAX_UPSCALE)
    w, h = max(1, round(pw * scale)), max(1, round(ph * scale))
    smallest = max(1, round(PICTURE_MIN_U * unit))
    if min(w, h) < smallest and max(w, h) < smallest * 2:
        return None
    left = x0 + (max_w - w) // 2 if portrait else x1 - w
    return left, top, left + w, top + h


def draw_picture(img: Image.Image, picture: Image.Image, box: tuple[int, int, int, int]) -> None:
    """Paste ``picture`` scaled into ``box`` on ``img`` (transparency kept)."""
    left, top, right, bottom = box
    shown = picture.convert("RGBA").resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    img.paste(shown, (left, top), shown)
