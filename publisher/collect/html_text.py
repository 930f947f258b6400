"""Imported descriptions that carry HTML (Google Calendar's iCal exports, RSS summaries, some
open-data CSVs) as plain text: paragraphs kept, links kept.

Slides, feeds and pages show an item's body as text; raw tags would show as tags (and a feed
validator flags them). :func:`html_to_text` reads the fragment with the standard library's
HTML parser: block elements and ``<br>`` become line breaks (a paragraph is a line, as bodies are), list items start with 「・」, script
and style are dropped, entities decoded. A link becomes its text followed by its address in
brackets, unless the address is the item's detail link (``detail_url``) or its text already
shows it. Text without tags or entities is returned as it is (「3 < 5」 stays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from publisher.collect.base import tidy

_LOOKS_LIKE_HTML = re.compile(
    r"<(?:[a-zA-Z][a-zA-Z0-9-]*(?:\s[^<>]*)?/?|/[a-zA-Z][a-zA-Z0-9-]*\s*)>"
    r"|&(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});"
)
_BLANK_LINES = re.compile(r"\n{2,}")
_BREAKS = frozenset({"br", "hr"})
_BLOCKS = frozenset(
    {"p", "div", "tr", "ul", "ol", "table", "blockquote", "section", "article", "pre"}
    | {"header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd"}
)
_HIDDEN = frozenset({"script", "style", "head", "title", "template"})


@dataclass
class Plain:
    """A description as text, and the web addresses its links pointed at, in order."""

    text: str
    links: list[str] = field(default_factory=list)


def looks_like_html(text: str) -> bool:
    return bool(_LOOKS_LIKE_HTML.search(text))


def html_to_text(fragment: str, detail_url: str | None = None) -> Plain:
    """``fragment`` as plain text (see the module's docstring); plain text passes through."""
    if not fragment or not looks_like_html(fragment):
        return Plain(tidy(fragment))
    parser = _Reader(detail_url)
    parser.feed(fragment)
    parser.close()
    return Plain(_BLANK_LINES.sub("\n", tidy("".join(parser.parts))), parser.links)


class _Reader(HTMLParser):
    def __init__(self, detail_url: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.detail_url = detail_url
        self.parts: list[str] = []
        self.links: list[str] = []
        self.hidden = 0
        self.link: tuple[str, int] | None = None  # (href, index of its first part)

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BREAKS or tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n・")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            if href.startswith(("https://", "http://")):
                self.link = (href, len(self.parts))

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")
        elif tag == "a" and self.link is not None:
            href, start = self.link
            self.link = None
            self.links.append(href)
            shown = "".join(self.parts[start:]).strip()
            if href != self.detail_url and href.rstrip("/") not in shown:
                self.parts.append(f" ({href})" if shown else href)

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data.replace("\xa0", " "))  # &nbsp; is a plain space in text
