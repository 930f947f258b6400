"""Paper for notice boards and racks: an item's poster (A4/A3) and a district's weekly bulletin
(one or two A4 pages), as PDF.

WeasyPrint lays out ``templates/print/*.html`` with Noto Sans CJK (the JP, SC, TC or KR forms
by the language; fonts embedded as subsets; text left in Japanese on another language's page —
a place, an untranslated item — is marked ``lang="ja"`` and set in the JP forms). Japanese lines break as on slides — strict
kinsoku, no line starting with 、。」 — through CSS ``line-break: strict`` (Pango's UAX #14
breaking). Type is large for reading at a notice board: on A4 the title is at least 30 pt and
the body 14 pt (A3 scales by √2); a long text steps down in size until it fits one page, and
only then runs on to a second. The QR code is the counted short link of the item's page in the
poster's language (the caller gives it: ``/q/i42~en~.poster``). Dates are written as readers of
the poster's language write them (:class:`publisher.render.print_words.Calendar`); やさしい日本語
carries furigana over every kanji, set above the line (``<ruby>``, ``print.css``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from publisher.area_names import area_name, office_name
from publisher.areas import Area
from publisher.items import JST, Item
from publisher.plan.printed import Week
from publisher.plan.residents import is_drill, marked_title
from publisher.render.notification import spaced_title
from publisher.render.print_words import BULLETIN_WORDS, WORDS, Calendar, ruby_markup
from publisher.render.qr import qr_png
from publisher.render.typeset import units

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "print"
WEEKDAYS_JA = "月火水木金土日"

FONTS = {
    "zh-Hans": "'Noto Sans CJK SC'",
    "zh-Hant": "'Noto Sans CJK TC'",
    "ko": "'Noto Sans CJK KR'",
}
JP_FONT = "'Noto Sans CJK JP'"
PLACE_LANG = "ja"  # places are kept in Japanese only (``Place``): marked so on every page


@dataclass(frozen=True)
class PosterSizes:
    """Type sizes (pt) and measures (mm) of one step of a poster."""

    margin: float
    title: float
    when: float
    body: float
    qr: float
    banner: float
    issuer: float

    def scaled(self, k: float) -> PosterSizes:
        return PosterSizes(*(round(v * k, 1) for v in vars(self).values()))


# A4 steps, largest first; A3 is each scaled by √2. The last step is the legibility floor.
A4_STEPS = (
    PosterSizes(margin=16, title=44, when=24, body=20, qr=48, banner=30, issuer=16),
    PosterSizes(margin=15, title=38, when=21, body=17, qr=44, banner=26, issuer=15),
    PosterSizes(margin=14, title=32, when=18, body=14, qr=40, banner=22, issuer=14),
)
A3_SCALE = 1.414
PAGE_HEIGHT_MM = {"A4": 297, "A3": 420}


@dataclass(frozen=True)
class BulletinSizes:
    body: float
    excerpt_chars: int


BULLETIN_STEPS = (
    BulletinSizes(11, 140),
    BulletinSizes(10, 80),
    BulletinSizes(9.5, 0),
)
BULLETIN_MAX_PAGES = 2


def phrased(text: str, lang: str = "ja") -> Markup:
    """Headings break where slides break them (:func:`publisher.render.typeset.units`: between
    BudouX phrases, kinsoku respected, digit and date runs whole), not inside a word (ご案|内)."""
    pieces = units(text, lang) if len(text) >= 2 else (text,)
    if len(pieces) < 2:
        return Markup.escape(text)
    return Markup("<wbr>").join(Markup('<span class="ph">{}</span>').format(p) for p in pieces)


def _colon(lang: str) -> str:
    return "：" if lang.startswith("ja") or lang.startswith("zh") else ": "


def _html_lang(lang: str) -> str:
    return "ja" if lang.startswith("ja") else lang


def font_for(lang: str) -> str:
    """The font stack of text in ``lang``: its own CJK glyph forms first, then Japanese."""
    own = FONTS.get(lang)
    return f"{own}, {JP_FONT}, sans-serif" if own else f"{JP_FONT}, sans-serif"


def lang_fonts_css() -> str:
    """Text marked in another language than the page's (a place, which is always Japanese; an
    untranslated item's words) takes that language's glyph forms: WeasyPrint picks the face by
    ``font-family``, so a Korean page's 「校庭」 needs the JP face named, not only ``lang``."""
    return "\n".join(
        f'body [lang="{lang}"] {{ font-family: {font_for(lang)}; }}' for lang in ("ja", *FONTS)
    )


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, trim_blocks=True
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "print.css").read_text(encoding="utf-8") + "\n" + lang_fonts_css()


def qr_data_uri(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url, 600)).decode()


def _pdf(html: str) -> tuple[bytes, int]:
    from weasyprint import HTML  # imported when printing: it loads Pango and fonts

    document = HTML(string=html).render()
    buf = io.BytesIO()
    document.write_pdf(buf)
    return buf.getvalue(), len(document.pages)


def poster_pdf(
    item: Item,
    *,
    lang: str,
    size: str,
    url: str,
    qr_url: str,
    ward: Area,
    office: Area,
    calendar: Calendar,
) -> bytes:
    """The poster of ``item`` in ``lang`` (falling back to Japanese) on ``size`` paper: ``url``
    printed for typing, ``qr_url`` in the QR code, dates in ``calendar``'s words."""
    if lang not in item.languages:
        lang = "ja"
    text = item.text(lang)
    words = WORDS.get(lang, WORDS["en"])
    tone = "drill" if is_drill(item) else ("emergency" if item.is_emergency else "")
    if not tone and item.kind == "alert":
        tone = "alert"
    banner = words.get(tone, "") if tone else ""
    when = calendar.when(item) if item.kind == "event" else ""
    posted = ""
    if item.ends_at is not None:
        posted = f"{words['posted']}{_colon(lang)}{calendar.date(item.ends_at)}"
    easy = lang == "ja-x-easy"
    readings = dict(text.readings) if easy else {}

    def heading(value: str) -> Markup:
        if not easy:
            return phrased(value, lang)
        # やさしい日本語 is written with spaces between phrases: lines break only there
        return Markup(" ").join(
            Markup('<span class="ph">{}</span>').format(ruby_markup(p, readings))
            for p in value.split(" ")
        )

    def plain(value: str) -> Markup | str:
        return ruby_markup(value, readings) if easy else value

    context: dict[str, Any] = {
        "html_lang": _html_lang(lang),
        "size": size,
        "css": _css(),
        "font": font_for(lang),
        "title": heading(spaced_title(item, lang)),
        "title_text": spaced_title(item, lang),
        "ruby": easy,
        "tone": tone,
        "banner": banner,
        "ward": area_name(ward, lang),
        "office": office_name(office, lang),
        "when": heading(when),
        "where": plain(_place(item, lang)),
        "where_lang": PLACE_LANG,
        "paragraphs": [plain(p.strip()) for p in text.body.splitlines() if p.strip()],
        "words": words,
        "colon": _colon(lang),
        "url": url,
        "qr": qr_data_uri(qr_url),
        "posted": plain(posted),
    }
    template = _env().get_template("poster.html")
    pdf = b""
    for step in A4_STEPS:
        sizes = step.scaled(A3_SCALE) if size == "A3" else step
        pdf, pages = _pdf(template.render(s=sizes, page_h=PAGE_HEIGHT_MM[size], **context))
        if pages == 1:
            break
    return pdf


@dataclass(frozen=True)
class Entry:
    title: Markup
    source: str
    when: Markup
    where: Markup
    excerpt: Markup
    url: str
    lang: str  # of the title and excerpt: the bulletin's, or Japanese where the item lacks it


def _excerpt(item: Item, chars: int, lang: str = "ja") -> str:
    if chars <= 0:
        return ""
    body = " ".join(p.strip() for p in item.text(lang).body.splitlines() if p.strip())
    return body if len(body) <= chars else body[: chars - 1] + "…"


def _day(value: datetime) -> str:
    d = value.astimezone(JST)
    return f"{d.month}月{d.day}日（{WEEKDAYS_JA[d.weekday()]}）"


def week_text(week: Week, lang: str = "ja", calendar: Calendar | None = None) -> str:
    """The bulletin's week: 「2026年11月23日（月）〜11月29日（日）」, or in ``lang`` with
    ``calendar``'s dates ("Monday 23 November 2026 – Sunday 29 November 2026")."""
    first, last = week.days()[0], week.days()[-1]
    start = datetime(first.year, first.month, first.day, tzinfo=JST)
    end = datetime(last.year, last.month, last.day, tzinfo=JST)
    if lang == "ja" or calendar is None:
        return f"{first.year}年{_day(start)}〜{_day(end)}"
    return BULLETIN_WORDS[lang]["week"].format(start=calendar.date(start), end=calendar.date(end))


@dataclass(frozen=True)
class BulletinNames:
    """Who and where, in the bulletin's language: the ward, the district (its heading), the
    issuing office, and each item's source (by item id; others are the ward's)."""

    ward: str
    area: str
    office: str
    sources: dict[int, str]


def bulletin_pdf(
    events: Sequence[Item],
    notices: Sequence[Item],
    *,
    lang: str,
    calendar: Calendar,
    names: BulletinNames,
    week: Week,
    area_url: str,
    item_url: Any,
    issued: datetime,
) -> bytes:
    """A district's week on one or two A4 pages in ``lang``: events of the week, then notices
    (each in ``lang`` where the item has it, else Japanese); what does not fit even in the
    smallest step is counted and left to the web page."""
    template = _env().get_template("bulletin.html")
    words = BULLETIN_WORDS[lang]
    easy = lang == "ja-x-easy"

    def say(text: str) -> Markup:
        return ruby_markup(text) if easy else Markup.escape(text)

    def entries(items: Sequence[Item], chars: int) -> list[Entry]:
        out = []
        for i in items:
            assert i.id is not None
            text_lang = lang if lang in i.languages else "ja"
            if i.kind == "event":
                when = calendar.when(i)
            else:
                posted = i.starts_at or i.approved_at
                when = words["current"]
                if posted is not None and posted >= week.start:
                    when = words["since"].format(date=calendar.date(posted))
            where = i.place.name if i.place else ""
            source = names.sources.get(i.id, names.ward)
            title, excerpt = marked_title(i, text_lang), _excerpt(i, chars, text_lang)
            if text_lang == "ja-x-easy":  # the item's own easy text: furigana, its readings
                readings = dict(i.text(text_lang).readings)
                shown, excerpt_shown = ruby_markup(title, readings), ruby_markup(excerpt, readings)
            else:
                shown, excerpt_shown = phrased(title, text_lang), Markup.escape(excerpt)
            out.append(
                Entry(
                    shown,
                    source,
                    say(when),
                    say(where),
                    excerpt_shown,
                    item_url(i.id),
                    _html_lang(text_lang),
                )
            )
        return out

    def render(step: BulletinSizes, n_events: int, n_notices: int) -> tuple[bytes, int]:
        html = template.render(
            html_lang=_html_lang(lang),
            place_lang=PLACE_LANG,
            css=_css(),
            font=font_for(lang),
            ruby=easy,
            s=step,
            ward=names.ward,
            office=names.office,
            heading=say(words["heading"].format(area=names.area)),
            title=words["heading"].format(area=names.area),
            week_text=say(week_text(week, lang, calendar)),
            w={k: say(v) for k, v in words.items()},
            events=entries(events[:n_events], step.excerpt_chars),
            notices=entries(notices[:n_notices], step.excerpt_chars),
            more_events=say(words["more_events"].format(n=len(events) - n_events)),
            more_notices=say(words["more_notices"].format(n=len(notices) - n_notices)),
            any_more_events=len(events) > n_events,
            any_more_notices=len(notices) > n_notices,
            qr=qr_data_uri(area_url),
            area_url=area_url,
            footer=say(words["footer"].format(area=names.area)),
            issued=say(words["issued"].format(office=names.office, date=calendar.date(issued))),
        )
        return _pdf(html)

    n_events, n_notices = len(events), len(notices)
    for step in BULLETIN_STEPS:
        pdf, pages = render(step, n_events, n_notices)
        if pages <= BULLETIN_MAX_PAGES:
            return pdf
    step = BULLETIN_STEPS[-1]

    def split(k: int) -> tuple[int, int]:  # events first: they are tied to the week's days
        return min(k, len(events)), max(0, k - len(events))

    fits, too_many = 0, len(events) + len(notices)  # still too long: the most entries that fit
    best = render(step, 0, 0)[0]
    while too_many - fits > 1:
        k = (fits + too_many) // 2
        pdf, pages = render(step, *split(k))
        if pages <= BULLETIN_MAX_PAGES:
            fits, best = k, pdf
        else:
            too_many = k
    return best


def _place(item: Item, lang: str) -> str:
    """The place as a reader of ``lang`` writes it: 「代沢小学校（世田谷区代沢5-8-1）」 in
    Japanese and Chinese, "Daizawa Elementary School, 5-8-1 Daizawa" otherwise."""
    if item.place is None:
        return ""
    name, address = item.place.name, item.place.address
    if name and address:
        return f"{name}（{address}）" if lang.startswith(("ja", "zh")) else f"{name}, {address}"
    return name or address or ""
