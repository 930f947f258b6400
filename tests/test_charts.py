"""Server-drawn charts: valid SVG, labelled for screen readers, bars to scale, text escaped."""

from __future__ import annotations

from lxml import etree

from publisher.render.charts import bars, columns, number

SVG = "{http://www.w3.org/2000/svg}"


def test_bars_are_to_scale_and_labelled_for_screen_readers():
    doc = etree.fromstring(bars("c1", "言語ごと", [("日本語", 40), ("英語", 10)], " 回"))
    assert doc.get("role") == "img" and doc.get("aria-labelledby") == "c1-t c1-d"
    assert doc.find(f"{SVG}title").text == "言語ごと"
    assert doc.find(f"{SVG}desc").text == "日本語 40 回、英語 10 回"
    widths = [float(r.get("width")) for r in doc.iter(f"{SVG}rect")]
    assert widths[0] == 4 * widths[1]


def test_labels_are_escaped_and_nothing_to_show_says_so():
    doc = etree.fromstring(bars("c2", "<b>", [("<script>", 1)]))
    assert doc.find(f"{SVG}title").text == "<b>"
    assert not list(doc.iter("script")) and not list(doc.iter(f"{SVG}script"))
    empty = etree.fromstring(bars("c3", "なし", []))
    assert "データがありません" in etree.tostring(empty, encoding="unicode")


def test_columns_over_days_have_a_scale_and_short_dates():
    rows = [(f"2026-11-{d:02d}", float(d)) for d in range(1, 31)]
    doc = etree.fromstring(columns("c4", "日ごと", rows, " 時間"))
    texts = [t.text for t in doc.iter(f"{SVG}text")]
    assert "11/01" in texts and "30" in texts
    assert len(list(doc.iter(f"{SVG}rect"))) == 30
    assert "30日間、合計 465 時間" in doc.find(f"{SVG}desc").text


def test_numbers_show_the_digits_a_reader_needs():
    assert [number(v) for v in (0, 0.04, 2.5, 12.0, 1234.5)] == ["0", "0.04", "2.5", "12", "1,234"]
