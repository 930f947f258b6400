"""Where things go on a slide, for any size a screen declares.

Everything is measured in units of the short side (``u`` = short side / 1080), so a 1366×768
lobby screen gets the same composition as a 1920×1080 one, only smaller. Landscape puts the QR
code in a column at the bottom right with its caption beneath; portrait puts it in a row at the
bottom with the caption beside it. From the top:

    [訓練 band, drills only] [accent bar | warning-level frame]
    label · issuing office
    TITLE (bold, 96→56 u; it shrinks before a phrase is broken, and takes the lines it needs
           while the body keeps room for two lines)
    date and place of an event, in a tinted box
    body (72 u down to the screen's smallest legible size, ``body_min_px``: see
          :mod:`publisher.render.legibility`); a body that does not fit at that size is set in
          pages (:func:`paginate`, 「1/2」 at the top right), never smaller; after
          ``MAX_PAGES`` the last page ends with … and the QR code carries the rest

A clean margin stays all round; the player overlays clock and location itself. やさしい日本語
slides carry furigana over their kanji (:mod:`publisher.render.ruby`), with room between
lines for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from publisher.plan.reading import PAGE_MAX_DURATION_S, reading_seconds
from publisher.render.composition import Composition, PlacedText
from publisher.render.fonts import FontSet, draw_text, text_length
from publisher.render.furigana import draw_furigana
from publisher.render.picture import draw_picture, picture_box
from publisher.render.qr import qr_image
from publisher.render.theme import MARKER_BG, MARKER_TEXT, WHITE, Theme
from publisher.render.typeset import (
    FontForSize,
    Line,
    TextBlock,
    block_height,
    ellipsize,
    fit_text,
    wrap,
)

QR_SHARE_OF_SHORT_SIDE = 0.30  # ≥ 0.22 even after rounding to whole pixels per module
TITLE_MAX_U, TITLE_MIN_U = 96, 56
BODY_MAX_U, BODY_MIN_U = 72, 36  # BODY_MIN_U: when the screen's legible minimum is not given
ALERT_BODY_MAX_U = 84
BODY_SPACING = 1.6
RUBY_EXTRA_SPACING = 0.55  # added to a line's height (in em) for its furigana
MAX_PAGES = 3  # beyond that the QR code carries the rest
HANGING_OPENERS = frozenset("「『（［｛〔〈《【")


@dataclass(frozen=True)
class SlideContent:
    """Every string and colour choice a slide shows (its pixels follow from this and the size)."""

    lang: str  # the language of the text actually shown (the item's, falling back to ja)
    theme: Theme
    label: str  # 防災, イベント … or, on a warning-level slide, 警戒レベル4 / 緊急
    issuer: str
    issuer_lang: str  # the issuer's name is in the slide's language (publisher/area_names.py)
    title: str
    body: str
    when: str | None
    where: str | None
    caption: str
    marker: str | None  # 訓練 on a drill, never on a real alert
    marker_note: str | None
    when_label: str
    where_label: str
    qr_url: str
    picture: str | None = None  # the item's picture, by its content-hash name (None: none)
    body_min_px: int = 0  # the screen's smallest legible body size (0: BODY_MIN_U)
    page: int = 1  # which page of the body this slide shows, of ``pages``
    pages: int = 1
    ruby: bool = False  # furigana over kanji (やさしい日本語)
    readings: tuple[tuple[str, str], ...] = ()  # staff's fixed readings for the furigana


class _Slide:
    """Drawing helpers bound to one slide (its unit, fonts, language and record of texts)."""

    def __init__(
        self,
        c: SlideContent,
        width: int,
        height: int,
        fonts: FontSet,
        picture: Image.Image | None = None,
    ):
        self.c, self.w, self.h, self.fonts = c, width, height, fonts
        self.picture = picture  # the item's picture (drawn by _upper, see _picture)
        self.u = min(width, height) / 1080
        self.portrait = height > width
        self.theme = c.theme
        self.img = Image.new("RGB", (width, height), c.theme.frame or c.theme.panel)
        self.draw = ImageDraw.Draw(self.img)
        self.out = Composition(self.img, c.theme)

    def px(self, units: float) -> int:
        return max(1, round(units * self.u))

    def font_for(self, bold: bool, lang: str | None = None) -> FontForSize:
        return lambda size: self.fonts.get(size, lang or self.c.lang, bold=bold)

    def fit(
        self,
        text: str,
        width: int,
        height: int,
        max_u: float,
        min_u: float,
        *,
        bold: bool = False,
        spacing: float = 1.5,
        max_lines: int | None = None,
        lang: str | None = None,
        min_px: int = 0,
        ruby: bool = False,
    ) -> TextBlock:
        low = max(self.px(min_u), min_px)
        return fit_text(
            text,
            self.font_for(bold, lang),
            width,
            height,
            max_px=max(self.px(max_u), low),
            min_px=low,
            lang=lang or self.c.lang,
            line_spacing=spacing + (RUBY_EXTRA_SPACING if ruby else 0.0),
            max_lines=max_lines,
        )

    @property
    def body_min_px(self) -> int:
        """The screen's legible minimum, never below the layout's own floor."""
        return max(self.c.body_min_px, self.px(BODY_MIN_U))

    def put(
        self,
        role: str,
        block: TextBlock,
        x: int,
        y: int,
        colour: str,
        background: str,
        *,
        bold: bool = False,
        align: str = "left",
        box_width: int = 0,
        lang: str | None = None,
        ruby: bool = False,
    ) -> int:
        """Draw ``block`` with its top-left at (x, y); returns the y below it."""
        font = self.fonts.get(block.size_px, lang or self.c.lang, bold=bold)
        ascent, descent = font.getmetrics()
        lift = round(block.size_px * RUBY_EXTRA_SPACING / 2) if ruby else 0
        for top, line in block.positions():
            baseline = y + top + (block.line_height_px - (ascent + descent)) / 2 + ascent + lift
            lx: float = x
            if align == "center":
                lx = x + (box_width - text_length(font, line.text)) / 2
            elif line.text[:1] in HANGING_OPENERS:
                lx -= block.size_px / 2  # a full-width 「（【 has its ink in its right half
            draw_text(self.draw, (lx, baseline), line.text, font, colour)
            if ruby:
                furigana = (line.text, lx, baseline, block.size_px, colour)
                draw_furigana(self.draw, self.fonts, *furigana, bold, dict(self.c.readings))
        self.out.texts.append(PlacedText(role, block, x, y, colour, background))
        return y + block.height_px


def compose(
    c: SlideContent,
    width: int,
    height: int,
    fonts: FontSet,
    picture: Image.Image | None = None,
) -> Composition:
    """Draw the slide for ``c`` at ``width``×``height`` (page ``c.page`` of a paged body; with
    ``picture``, the item's picture: see :func:`_picture`)."""
    s = _Slide(c, width, height, fonts, picture)
    box = _upper(s)
    pages = _pages(s, box)
    if pages:
        page = pages[min(max(c.page, 1), len(pages)) - 1]
        s.put("body", page, box[0], box[1], c.theme.text, c.theme.panel, ruby=c.ruby)
    return s.out


def paginate(
    c: SlideContent,
    width: int,
    height: int,
    fonts: FontSet,
    picture: Image.Image | None = None,
) -> list[list[str]]:
    """The body's lines on each page of the slide (one page when it fits at a legible size;
    ``[[]]`` when there is no body). Pure given the fonts: the planner times each page by it."""
    s = _Slide(c, width, height, fonts, picture)
    return [list(block.texts) for block in _pages(s, _upper(s))] or [[]]


def _upper(s: _Slide) -> tuple[int, int, int, int]:
    """Everything but the body; returns the box left for the body (x0, y, x1, bottom)."""
    c = s.c
    top = _marker_band(s) if c.marker else 0
    x0, y, x1, y1 = _frame(s, top)
    s.out.content_box = (x0, y, x1, y1)

    y = _header(s, x0, y, x1)
    qr_left, qr_top = _qr(s, x0, x1, y1)
    if s.portrait:
        column_right, bottom = x1, qr_top - s.px(64)
        title_bottom = bottom
    else:
        column_right, bottom = qr_left - s.px(64), y1
        title_bottom = qr_top - s.px(40)
    if s.picture is not None:
        box = _picture(s, s.picture, x0, y, x1, qr_top - s.px(40))
        if box and s.portrait:
            y = box[3] + s.px(48)
        elif box:
            x1 = column_right = min(column_right, box[0] - s.px(56))

    # the title spans the width above the QR code; what follows runs beside it. It takes the
    # lines it needs, leaving the body room for two lines (it is never cut while that is free)
    body_min = s.body_min_px
    title_min = max(s.px(TITLE_MIN_U), body_min)
    keep = round(body_min * BODY_SPACING * 2) if c.body and s.portrait else 0
    title = s.fit(
        c.title,
        x1 - x0,
        max(title_bottom - y - keep, round(title_min * 1.3)),
        TITLE_MAX_U,
        TITLE_MIN_U,
        bold=True,
        spacing=1.3,
        max_lines=6 if s.portrait else 4,
        min_px=title_min,
        ruby=c.ruby,
    )
    if title.width_px > column_right - x0 and not s.portrait:
        column_right = x1 if y + title.height_px > qr_top else column_right
    y = s.put("title", title, x0, y, c.theme.text, c.theme.panel, bold=True, ruby=c.ruby)
    y += s.px(36)

    if c.when or c.where:
        y = _event_box(s, x0, y, column_right) + s.px(40)
    return x0, y, column_right, bottom


def _pages(s: _Slide, box: tuple[int, int, int, int]) -> list[TextBlock]:
    """The body set on one page at the largest size that fits, else in pages at the smallest
    legible size (each page readable within the planner's page time), else nothing."""
    c = s.c
    x0, y, x1, bottom = box
    body_min = s.body_min_px
    spacing = BODY_SPACING + (RUBY_EXTRA_SPACING if c.ruby else 0.0)
    if not c.body or bottom - y < round(body_min * spacing):
        return []
    largest = ALERT_BODY_MAX_U if c.theme.frame else BODY_MAX_U  # an alert's few words, bigger
    whole = s.fit(
        c.body, x1 - x0, bottom - y, largest, 0, spacing=BODY_SPACING, min_px=body_min, ruby=c.ruby
    )
    if not whole.truncated:
        return [whole]
    font = s.fonts.get(body_min, c.lang)

    def measure(text: str) -> float:
        return text_length(font, text)

    lines = wrap(c.body, measure, x1 - x0, c.lang)
    line_h, gap = round(body_min * spacing), round(body_min * 0.5)
    shown = " ".join(x for x in (c.title, c.when, c.where) if x)
    pages: list[list[Line]] = [[]]
    for line in lines:
        page = pages[-1]
        candidate = [*page, line]
        text = shown + " " + " ".join(x.text for x in candidate)
        roomy = block_height(candidate, line_h, gap) <= bottom - y
        if page and (not roomy or reading_seconds(text, c.lang) > PAGE_MAX_DURATION_S):
            pages.append([Line(line.text, True)])  # a page starts flush, like a paragraph
        else:
            page.append(line)
    cut = len(pages) > MAX_PAGES
    if cut:
        pages = pages[:MAX_PAGES]
        end = pages[-1][-1]
        pages[-1][-1] = Line(ellipsize(end.text, measure, x1 - x0), end.starts_paragraph)
    width = max(measure(line.text) for page in pages for line in page)
    return [
        TextBlock(tuple(page), body_min, line_h, gap, cut and i == len(pages) - 1, width)
        for i, page in enumerate(pages)
    ]


def _picture(
    s: _Slide, picture: Image.Image, x0: int, top: int, x1: int, bottom: int
) -> tuple[int, int, int, int] | None:
    """Reserve the picture's box and draw it (:mod:`publisher.render.picture`); returns the
    box, or None when there is no room."""
    box = picture_box(picture.size, (x0, top, x1, bottom), s.portrait, s.u)
    if box is not None:
        draw_picture(s.img, picture, box)
        s.out.picture_box = box
    return box


def _frame(s: _Slide, top: int) -> tuple[int, int, int, int]:
    """Paint the accent bar or the warning-level frame; returns the content box."""
    t = s.theme
    if t.frame is not None:
        f = s.px(40)
        s.draw.rounded_rectangle(
            (f, top + f, s.w - f, s.h - f),
            radius=s.px(28),
            fill=t.panel,
            outline=t.outline,
            width=s.px(4) if t.outline else 0,
        )
        m = f + s.px(56)
        return m, top + m, s.w - m, s.h - m
    bar = s.px(20)
    s.draw.rectangle((0, top, s.w, top + bar), fill=t.accent)
    m = s.px(80)
    return m, top + bar + s.px(56), s.w - m, s.h - m


def _header(s: _Slide, x0: int, y: int, x1: int) -> int:
    """The label chip (or the warning-level badge) and the issuing office; returns the y below."""
    c, t = s.c, s.theme
    badge = t.frame is not None
    size_u = 52 if badge else 38
    label = s.fit(
        c.label, x1 - x0, s.px(size_u * 1.4), size_u, size_u * 0.7, bold=True, spacing=1.4
    )
    pad = s.px(22 if badge else 20)
    swatch = s.px(44) if badge and t.level else 0
    chip_w = round(label.width_px) + 2 * pad + (swatch + pad if swatch else 0)
    chip_h = label.height_px + s.px(8)
    s.draw.rounded_rectangle((x0, y, x0 + chip_w, y + chip_h), radius=s.px(12), fill=t.label_bg)
    if swatch:
        sy = y + (chip_h - swatch) // 2
        s.draw.rectangle(
            (x0 + pad, sy, x0 + pad + swatch, sy + swatch),
            fill=t.frame,
            outline=WHITE,
            width=s.px(4),
        )
    s.put(
        "label",
        label,
        x0 + pad + (swatch + pad if swatch else 0),
        y + s.px(4),
        t.label_text,
        t.label_bg,
        bold=True,
    )

    right = x1
    if c.pages > 1:  # which page of the body: 「1/2」 at the top right, as large as the chip
        mark = s.fit(f"{c.page}/{c.pages}", x1 - x0, chip_h, size_u, size_u, bold=True, spacing=1.2)
        right = x1 - round(mark.width_px)
        s.put("page", mark, right, y + (chip_h - mark.height_px) // 2, t.text, t.panel, bold=True)
        right -= s.px(28)
    ix = x0 + chip_w + s.px(28)
    lang = c.issuer_lang
    issuer = s.fit(
        c.issuer, max(right - ix, s.px(200)), chip_h, 38, 28, spacing=1.3, max_lines=1, lang=lang
    )
    s.put("issuer", issuer, ix, y + (chip_h - issuer.height_px) // 2, t.muted, t.panel, lang=lang)
    return y + chip_h + s.px(44)


def _qr(s: _Slide, x0: int, x1: int, y1: int) -> tuple[int, int]:
    """The QR code and its caption; returns the QR's left and top edges."""
    c, t = s.c, s.theme
    qr = qr_image(c.qr_url, round(min(s.w, s.h) * QR_SHARE_OF_SHORT_SIDE))
    q = qr.width
    if s.portrait:
        left, top = x1 - q, y1 - q
        s.draw.line((x0, top - s.px(32), x1, top - s.px(32)), fill=t.accent, width=s.px(3))
        caption = s.fit(c.caption, left - x0 - s.px(40), q, 52, 36, bold=True, spacing=1.3)
        s.put(
            "caption", caption, x0, top + (q - caption.height_px) // 2, t.muted, t.panel, bold=True
        )
    else:
        caption = s.fit(c.caption, q, s.px(60), 36, 28, bold=True, spacing=1.4, max_lines=1)
        left, top = x1 - q, y1 - caption.height_px - s.px(8) - q
        s.put(
            "caption",
            caption,
            left,
            y1 - caption.height_px,
            t.muted,
            t.panel,
            bold=True,
            align="center",
            box_width=q,
        )
    s.img.paste(qr, (left, top))
    s.out.qr_box = (left, top, left + q, top + q)
    return left, top


def _event_box(s: _Slide, x0: int, y: int, x1: int) -> int:
    """Date and place of an event in a tinted box with the accent along its left edge."""
    c, t = s.c, s.theme
    rows = [
        (name, value, role)
        for name, value, role in ((c.when_label, c.when, "when"), (c.where_label, c.where, "where"))
        if value
    ]
    value_lang = {"when": c.lang, "where": "ja"}  # place names are Japanese: set in the JP face
    name_font = s.fonts.get(s.px(32), c.lang, bold=True)
    name_w = max(round(name_font.getlength(name)) for name, _, _ in rows)
    pad_x, pad_y, bar = s.px(32), s.px(20), s.px(10)
    extra = RUBY_EXTRA_SPACING if c.ruby else 0.0
    vx = x0 + bar + pad_x + name_w + s.px(28)
    blocks = [
        (
            name,
            s.fit(
                value,
                x1 - vx - pad_x,
                round(max(s.px(44), s.body_min_px) * (1.35 + extra) * 2),
                44,
                34,
                bold=True,
                spacing=1.35,
                max_lines=2,
                lang=value_lang[role],
                min_px=s.body_min_px,
                ruby=s.c.ruby,
            ),
            role,
        )
        for name, value, role in rows
    ]
    height = 2 * pad_y + sum(b.height_px for _, b, _ in blocks) + s.px(8) * (len(blocks) - 1)
    s.draw.rectangle((x0, y, x1, y + height), fill=t.info_bg)
    s.draw.rectangle((x0, y, x0 + bar, y + height), fill=t.accent)
    ry = y + pad_y
    for name, block, role in blocks:
        name_block = s.fit(name, name_w + 2, block.line_height_px, 32, 32, bold=True, spacing=1.0)
        first_line = block.line_height_px
        ny = ry + (first_line - name_block.height_px) // 2
        s.put(f"{role}_label", name_block, x0 + bar + pad_x, ny, t.muted, t.info_bg, bold=True)
        ry = s.put(
            role, block, vx, ry, t.text, t.info_bg, bold=True, lang=value_lang[role], ruby=c.ruby
        )
        ry += s.px(8)
    return y + height


def _marker_band(s: _Slide) -> int:
    """The drill band across the top: hazard stripes, 訓練 in yellow on black; returns its bottom."""
    c = s.c
    band = s.px(150)
    s.draw.rectangle((0, 0, s.w, band), fill=MARKER_BG)
    stripe = s.px(36)
    for x in range(-band, s.w + band, 2 * stripe):
        s.draw.polygon(
            [(x, band), (x + stripe, band), (x + stripe + band, 0), (x + band, 0)],
            fill=MARKER_TEXT,
        )
    big = s.fit(c.marker or "", s.w, band, 96, 60, bold=True, spacing=1.15, max_lines=1)
    note = s.fit(c.marker_note or "", s.w // 2, band, 44, 32, bold=True, spacing=1.2, max_lines=1)
    gap = s.px(40)
    group = round(big.width_px + gap + note.width_px)
    plate_x = (s.w - group) // 2 - s.px(48)
    plate = (plate_x, 0, s.w - plate_x, band)
    s.draw.rectangle(plate, fill=MARKER_BG)
    s.out.marker_box = (0, 0, s.w, band)
    gx = plate_x + s.px(48)
    s.put("marker", big, gx, (band - big.height_px) // 2, MARKER_TEXT, MARKER_BG, bold=True)
    s.put(
        "marker_note",
        note,
        gx + round(big.width_px) + gap,
        (band - note.height_px) // 2,
        WHITE,
        MARKER_BG,
        bold=True,
    )
    return band
