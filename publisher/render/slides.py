"""Slides: one item, one language, one screen size → one PNG, named by its content.

The contract the rest of the publisher relies on (planning, the player, exports, delivery):

- :class:`SlideSpec` holds everything that affects a slide's pixels;
- :func:`slide_key` is the hash of that, so a ward-wide item renders once per (size, language)
  whatever the number of screens, and an unchanged item is never rendered again;
- :func:`ensure_slide` writes ``<out_dir>/<key>.png`` atomically (temp file + rename) if it
  is missing and returns its path.

An item's picture (an upload, re-encoded and named by its content's hash) is part of the
spec as its file; the key hashes the file's name, so a new picture is a new slide.

The issuing area (世田谷区, 北沢総合支所, 代沢まちづくりセンター) is on the slide, not the screen's
own location, so one render serves every screen; the player overlays its own clock and place.

Text is never smaller than the screen's legible minimum for its physical size and viewing
distance (:mod:`publisher.render.legibility`); a body that does not fit at that size is shown
in pages, one slide each (``page`` of ``pages``; :func:`slide_pages` says what each page
shows, for the planner's reading times). やさしい日本語 slides carry furigana
(:mod:`publisher.render.ruby`) and easy fixed words (:mod:`publisher.render.labels`).

A slide is drawn in two steps: :func:`slide_content` gathers every string and colour the slide
shows (the key hashes exactly that), and :func:`compose_slide` lays it out (see
:mod:`publisher.render.layout`) and says where each text went, so tests can read what was set.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image

from publisher.areas import (
    DEFAULT_DIAGONAL_IN,
    DEFAULT_VIEWING_DISTANCE_M,
    Area,
    AreaTree,
    Screen,
)
from publisher.files import write_atomic
from publisher.items import Item
from publisher.render import labels
from publisher.render.fonts import find_fonts
from publisher.render.layout import Composition, SlideContent, compose, paginate
from publisher.render.legibility import min_font_px
from publisher.render.theme import CATEGORY_THEMES, is_drill, theme_for

RENDERER_VERSION = "5"
CLEARED_THEME = CATEGORY_THEMES["community"]  # green: the all clear
PNG_COMPRESS_LEVEL = 1  # flat colours compress well at once: higher levels cost time for ~3 %


@dataclass(frozen=True)
class SlideSpec:
    item: Item
    width: int
    height: int
    lang: str
    issuer: Area
    qr_url: str
    cleared: bool = False  # the emergency has just ended: 「解除されました」
    picture: Path | None = None  # the item's picture file (named by its content's hash)
    diagonal_in: float = DEFAULT_DIAGONAL_IN  # the screen's, for the smallest legible text
    viewing_distance_m: float = DEFAULT_VIEWING_DISTANCE_M
    page: int = 1  # of a body set in ``pages`` slides
    pages: int = 1

    @classmethod
    def for_screen(
        cls, item: Item, screen: Screen, lang: str, issuer: Area, qr_url: str, **more: object
    ) -> SlideSpec:
        """The slide of ``item`` in ``lang`` for ``screen``'s size and legibility."""
        return cls(
            item,
            screen.width,
            screen.height,
            lang,
            issuer,
            qr_url,
            diagonal_in=screen.diagonal_in,
            viewing_distance_m=screen.viewing_distance_m,
            **more,  # type: ignore[arg-type]
        )


def shown_lang(item: Item, lang: str) -> str:
    """The language a slide in ``lang`` is really in (an untranslated item shows its Japanese)."""
    return item.text(lang).lang


def slide_content(spec: SlideSpec) -> SlideContent:
    item = spec.item
    lang = shown_lang(item, spec.lang)
    text = item.text(lang)
    theme = theme_for(item)
    label = alert_label(item, lang, theme.level) or labels.kind_label(item, lang)
    title, body = text.title, text.body
    if spec.cleared:  # calm colours, the word 解除, and what it was that ended
        theme = CLEARED_THEME
        label = labels.ALERT_KIND[labels.words_lang(lang)]["cleared"]
        title, body = labels.CLEARED.get(lang, labels.CLEARED["ja"]), text.title
    drill = is_drill(item)
    easy = lang == labels.EASY
    return SlideContent(
        lang=lang,
        theme=theme,
        label=label,
        issuer=labels.issuer_name(spec.issuer, lang),
        issuer_lang=lang,
        title=title,
        body=body,
        when=labels.event_when(item, lang),
        where=item.place.name if item.place else None,
        caption=labels.word(lang, "details"),
        marker=labels.word(lang, "drill") if drill else None,
        marker_note=labels.word(lang, "drill_note") if drill else None,
        when_label=labels.word(lang, "when"),
        where_label=labels.word(lang, "where"),
        qr_url=spec.qr_url,
        picture=spec.picture.name if spec.picture is not None and not spec.cleared else None,
        body_min_px=min_font_px(
            spec.width, spec.height, spec.diagonal_in, spec.viewing_distance_m, lang
        ),
        page=spec.page,
        pages=spec.pages,
        ruby=easy,
        readings=tuple(sorted(text.readings)) if easy else (),
    )


def slide_pages(spec: SlideSpec, font_path: str | None = None) -> list[str]:
    """What a reader reads on each page of the slide (title, date, place and that page's
    body), one string a page: the planner's reading times come from this."""
    content = replace(slide_content(spec), page=1, pages=1)
    key = (slide_key(replace(spec, page=1, pages=1)), font_path)
    held = _PAGES.get(key)
    if held is None:
        picture = load_picture(spec.picture) if content.picture and spec.picture else None
        bodies = paginate(content, spec.width, spec.height, find_fonts(font_path), picture)
        shown = [content.title, content.when or "", content.where or ""]
        held = [" ".join(x for x in [*shown, *body] if x) for body in bodies]
        if len(_PAGES) >= 4096:
            _PAGES.clear()
        _PAGES[key] = held
    return list(held)


_PAGES: dict[tuple[str, str | None], list[str]] = {}


def pages_on(
    screen: Screen,
    tree: AreaTree,
    qr_url: Callable[[int], str],
    picture_of: Callable[[Item], Path | None] = lambda item: None,
) -> Callable[[Item, str], list[str]]:
    """The planner's measure of pages (:data:`publisher.plan.reading.Pages`) on ``screen``
    (``picture_of``: an item's picture file, which narrows the body beside it)."""

    def pages(item: Item, lang: str) -> list[str]:
        issuer = tree.issuer(item.targets)
        spec = SlideSpec.for_screen(
            item, screen, lang, issuer, qr_url(item.id or 0), picture=picture_of(item)
        )
        return slide_pages(spec)

    return pages


def alert_label(item: Item, lang: str, level: int | None) -> str | None:
    """An alert says what it is in words, never by colour alone: 「警戒レベル4 避難指示」,
    「緊急 地震情報」, 「警報」."""
    word = labels.alert_word(item, lang)
    if word is None:
        return None
    if level:
        return f"{labels.word(lang, 'level', n=level)} {word}"
    if item.is_emergency:
        return f"{labels.word(lang, 'emergency')} {word}"
    return word


def slide_key(spec: SlideSpec) -> str:
    """A digest of everything that affects the slide's pixels (and nothing that does not)."""
    data = {
        "v": RENDERER_VERSION,
        "size": [spec.width, spec.height],
        "font": os.path.basename(os.environ.get("PUBLISHER_FONT", "")),
        **asdict(slide_content(spec)),
    }
    if data["picture"] is None:
        del data["picture"]  # slides without a picture keep the keys they had
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:32]


def compose_slide(spec: SlideSpec, font_path: str | None = None) -> Composition:
    """The drawn slide with where each text went (``.image``, ``.texts``, ``.qr_box`` …)."""
    content = slide_content(spec)
    picture = load_picture(spec.picture) if content.picture and spec.picture else None
    return compose(content, spec.width, spec.height, find_fonts(font_path), picture)


def load_picture(path: Path) -> Image.Image | None:
    """The picture as pixels; one that cannot be read is left off the slide (the text stands
    alone) rather than failing the whole playlist."""
    try:
        with Image.open(path) as img:
            img.load()
            return img.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def render_slide(spec: SlideSpec, font_path: str | None = None) -> Image.Image:
    return compose_slide(spec, font_path).image


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    return buf.getvalue()


def ensure_slide(spec: SlideSpec, out_dir: Path, font_path: str | None = None) -> Path:
    """``out_dir/<key>.png``, rendered and written atomically only if it does not exist."""
    path = Path(out_dir) / f"{slide_key(spec)}.png"
    if path.exists():
        return path
    return write_atomic(path, encode_png(render_slide(spec, font_path)))
