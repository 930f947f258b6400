"""Items' pictures for residents: the picture on an item's page and ``/images/<name>``.

A picture is served only while its item is public (never a draft's or a withdrawn item's);
its name is its content's hash, so it never changes under its name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, send_from_directory
from PIL import Image

from publisher.errors import NotFound
from publisher.items import Item, utcnow
from publisher.store.public import public_image
from publisher.web import runtime
from publisher.web.page_headers import security_headers

bp = Blueprint("pictures", __name__)
bp.after_request(security_headers)  # the same headers as every answer to residents


def clock() -> datetime:
    """Now, or the app's injected clock (tests and the static export freeze it)."""
    now: Callable[[], datetime] = current_app.config.get("PUBLISHER_CLOCK", utcnow)
    return now()


def picture_of(item: Item, lang: str) -> dict[str, Any] | None:
    """The item's picture for its page: where, its size (no reflow while it loads) and its
    alternative text in the page's language (else the Japanese staff wrote)."""
    path = runtime().image_file(item)
    if path is None:
        return None
    try:
        with Image.open(path) as img:
            width, height = img.size
    except OSError:
        return None
    src = f"/images/{path.name}"
    return {"src": src, "alt": item.alt(lang), "width": width, "height": height}


IMAGE_MIMETYPES = {"jpg": "image/jpeg", "png": "image/png"}
IMAGE_MAX_AGE_S = 3600  # a withdrawn item's picture leaves caches within the hour


@bp.get("/images/<name>")
def image(name: str) -> Response:
    """The picture of a public item (never a draft's or a withdrawn item's): named by its
    content's hash, so it never changes under its name."""
    rt = runtime()
    if rt.image_size(name) is None:
        raise NotFound(f"no image {name}")
    with rt.session() as session:
        if not public_image(session, name, clock()):
            raise NotFound(f"no image {name}")
    response = send_from_directory(
        rt.uploads_dir, name, mimetype=IMAGE_MIMETYPES[name.rsplit(".", 1)[1]], max_age=0
    )
    response.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE_S}"
    return response
