"""Uploaded images: proved to be images, bounded, re-encoded without metadata, named by content.

A file is accepted only if Pillow decodes it as JPEG, PNG or WebP of at most
:data:`IMAGE_MAX_BYTES` and :data:`IMAGE_MAX_SIDE_PX` per side. It is re-encoded from its pixels
(after applying its EXIF orientation), so EXIF, GPS positions, comments and anything appended to
the file are gone. The stored name is the SHA-256 of the result: uploading the same image twice
stores it once.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from publisher.errors import PublisherError
from publisher.files import write_atomic
from publisher.items import IMAGE_NAME

IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_MAX_SIDE_PX = 4000
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_NAME = IMAGE_NAME


class ImageRejected(PublisherError):
    """An upload that is not an acceptable image; ``reason`` is ``"format"`` or ``"size"``."""

    def __init__(self, message: str, reason: str):
        super().__init__(message, field="image")
        self.reason = reason


def clean_image(data: bytes) -> tuple[bytes, str]:
    """The re-encoded image and its file extension, or :class:`ImageRejected`."""
    if len(data) > IMAGE_MAX_BYTES:
        raise ImageRejected(f"the file is {len(data)} bytes; at most {IMAGE_MAX_BYTES}", "size")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data))
            if img.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"{img.format} images are not accepted", "format")
            if max(img.size) > IMAGE_MAX_SIDE_PX:
                raise ImageRejected(
                    f"the image is {img.width}×{img.height}; at most "
                    f"{IMAGE_MAX_SIDE_PX}×{IMAGE_MAX_SIDE_PX}",
                    "size",
                )
            img.load()
            img = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRejected("the file is not a readable image", "format") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected("the image has too many pixels", "size") from None
    out = io.BytesIO()
    has_alpha = img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info)
    if has_alpha:
        img.convert("RGBA").save(out, format="PNG", optimize=True)
        ext = "png"
    else:
        img.convert("RGB").save(out, format="JPEG", quality=88, optimize=True)
        ext = "jpg"
    return out.getvalue(), ext


def store_image(data: bytes, uploads_dir: Path) -> str:
    """Clean ``data`` and keep it under ``uploads_dir``; returns the stored name."""
    return store_image_new(data, uploads_dir)[0]


def store_image_new(data: bytes, uploads_dir: Path) -> tuple[str, bool]:
    """:func:`store_image`, and whether the file is new (so a refused form may delete it)."""
    cleaned, ext = clean_image(data)
    name = f"{hashlib.sha256(cleaned).hexdigest()[:32]}.{ext}"
    path = Path(uploads_dir) / name
    if path.exists():
        return name, False
    write_atomic(path, cleaned)
    return name, True


def discard_image(name: str, uploads_dir: Path) -> None:
    """Delete an image this request stored, when the form it came with was refused."""
    if STORED_NAME.match(name):
        (Path(uploads_dir) / name).unlink(missing_ok=True)


def is_stored_name(name: str, uploads_dir: Path) -> bool:
    """Is ``name`` an image this module stored (and not a path someone typed)?"""
    return bool(STORED_NAME.match(name)) and (Path(uploads_dir) / name).is_file()
