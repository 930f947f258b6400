"""QR codes: high error correction (a lobby screen's glare or a creased flyer still scans).

UTF-8 payloads decode correctly with zxing-cpp (zbar guesses Shift_JIS); our payloads are
ASCII URLs anyway (``BASE_URL/q/<code>``).
"""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from PIL import Image
from qrcode.constants import ERROR_CORRECT_H

QUIET_ZONE_MODULES = 4  # the standard's minimum margin


@lru_cache(maxsize=4096)
def qr_matrix(data: str) -> list[list[bool]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_H, border=QUIET_ZONE_MODULES)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_image(
    data: str, size_px: int, *, dark: str = "#000000", light: str = "#FFFFFF"
) -> Image.Image:
    """A square RGB image of about ``size_px`` (whole pixels per module, never blurred)."""
    matrix = qr_matrix(data)
    modules = len(matrix)
    box = max(1, size_px // modules)
    mask = Image.new("L", (modules, modules))
    mask.putdata([255 if on else 0 for row in matrix for on in row])
    mask = mask.resize((modules * box, modules * box), Image.Resampling.NEAREST)
    img = Image.new("RGB", mask.size, light)
    img.paste(dark, (0, 0, *mask.size), mask)
    return img


def qr_png(data: str, size_px: int = 360) -> bytes:
    buf = io.BytesIO()
    qr_image(data, size_px).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def qr_svg(data: str) -> bytes:
    qr = qrcode.QRCode(
        error_correction=ERROR_CORRECT_H,
        border=QUIET_ZONE_MODULES,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(data)
    qr.make(fit=True)
    buf = io.BytesIO()
    qr.make_image().save(buf)
    return buf.getvalue()
