"""Hostile text from staff or sources never takes a feed down and never becomes live markup."""

from __future__ import annotations

import pytest
from lxml import etree

from publisher.items import Translation, clean_text
from publisher.plan.residents import resolve_feed
from publisher.render.feeds import render_feed
from publisher.store import workflow
from publisher.store.staff import operator
from tests.factories import DAIZAWA, WARD, api_item, make_item
from tests.residents_helpers import frozen, parse, store

FORBIDDEN = ["\x0b", "\x01", "\x1b", "\x00", "\ufffe", "\uffff", "\ud800", "\U0010fffe"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(c):04X}" for c in FORBIDDEN])
def test_a_control_character_in_a_title_is_cleaned_where_it_enters(rt, app, now, char):
    with rt.session() as session:
        item = workflow.create(
            session,
            rt.tree,
            operator(rt.tree),
            api_item(title={"ja": f"代沢{char}のお知らせ"}, body={"ja": f"本文{char}です"}),
        )
    assert (item.title, item.text("ja").body) == ("代沢のお知らせ", "本文です")
    public = frozen(app, now).test_client()
    for fmt in ("rss", "atom"):
        r = public.get(f"/feeds/{DAIZAWA}.{fmt}")
        assert r.status_code == 200
        assert "代沢のお知らせ" in parse(r.data).entries[0].title


def test_a_ward_wide_item_that_slipped_past_the_boundary_still_gives_well_formed_feeds(
    rt, app, now
):
    """Stored before cleaning existed (or written by hand): every feed writer cleans again."""
    store(rt, make_item("区内\x0b一斉\ufffe清掃", targets=(WARD,)))
    public = frozen(app, now).test_client()
    for stem in (WARD, DAIZAWA, "setagaya/kinuta/seijo"):
        for fmt in ("rss", "atom"):
            r = public.get(f"/feeds/{stem}.{fmt}")
            assert r.status_code == 200, (stem, fmt)
            assert parse(r.data).entries[0].title == "区内一斉清掃"


def test_cleaning_keeps_tabs_newlines_and_every_japanese_character():
    text = "1行目\n\t2行目\r\n﨑・髙・𠮷野家・ｶﾅ・①・🌸"
    assert clean_text(text) == text


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & 5 < 6'


def _rss_text(data: bytes) -> tuple[str, str]:
    item = etree.fromstring(data).find("channel/item")
    assert item is not None
    return item.findtext("title") or "", item.findtext("description") or ""


def test_rss_readers_get_staff_text_as_text_never_as_markup(tree):
    item = make_item(HOSTILE, id=7, translations=(Translation("ja", HOSTILE, HOSTILE),))
    title, description = _rss_text(
        render_feed([item], resolve_feed(tree, DAIZAWA), "https://x.example", "rss")
    )
    # After XML parsing a reader holds HTML; that HTML must show the text, not run it.
    assert "<script>" not in title and "<img" not in description
    assert title == HOSTILE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert description.endswith(title)


def test_atom_keeps_staff_text_as_typed_text(tree):
    item = make_item(HOSTILE, id=7)
    data = render_feed([item], resolve_feed(tree, DAIZAWA), "https://x.example", "atom")
    entry = etree.fromstring(data).find("{http://www.w3.org/2005/Atom}entry")
    assert entry is not None
    title = entry.find("{http://www.w3.org/2005/Atom}title")
    assert title is not None and title.text == HOSTILE
    assert title.get("type", "text") == "text"
