"""Where a public URL lives as a file in the static export, and links between such files.

The export mirrors the app's URLs: ``/feeds/x.rss`` is ``feeds/x.rss``, ``/qr/items/5.png`` is
``qr/items/5.png``, ``/images/<hash>.jpg`` is ``images/<hash>.jpg``, and a page ``/areas/setagaya`` is ``areas/setagaya/index.html`` (a plain
web server answers the folder with its index). A translation ``/items/5?lang=en`` is
``items/5/en/index.html``, and ``/?lang=en`` is ``en/index.html``. Pages link to each other relatively, so the folder works wherever
it is served, even below a sub-path.
"""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qs, urlsplit

_FILE_PREFIXES = ("/feeds/", "/qr/", "/static/", "/images/")


def is_page(url: str) -> bool:
    return not urlsplit(url).path.startswith(_FILE_PREFIXES)


def export_dir(url: str) -> str:
    """The folder of a page URL (``/items/5?lang=en`` → ``items/5/en``; ``/`` → ``""``)."""
    parts = urlsplit(url)
    folder = parts.path.strip("/")
    lang = parse_qs(parts.query).get("lang", [""])[0]
    if lang:
        folder = f"{folder}/{lang}".lstrip("/")
    return folder


def export_file(url: str) -> str:
    """The file that holds ``url`` in the export, relative to its root."""
    if is_page(url):
        folder = export_dir(url)
        return f"{folder}/index.html" if folder else "index.html"
    return urlsplit(url).path.lstrip("/")


def relative_href(url: str, from_page: str) -> str:
    """A link from the page ``from_page`` to ``url`` that works inside the export."""
    here = export_dir(from_page) or "."
    if is_page(url):
        target = export_dir(url) or "."
        rel = posixpath.relpath(target, here)
        return "./" if rel == "." else rel + "/"
    return posixpath.relpath(export_file(url), here)
