"""Furigana for やさしい日本語: readings from the analyser, staff's fixes, HTML for pages."""

import pytest

from publisher.render.ruby import parse_readings, ruby_html, ruby_segments


def test_kanji_get_hiragana_readings_and_kana_stay_bare():
    segments = ruby_segments("防災訓練を行います。")
    assert segments == [
        ("防災", "ぼうさい"),
        ("訓練", "くんれん"),
        ("を", None),
        ("行", "おこな"),
        ("います。", None),
    ]


def test_the_bases_join_back_to_the_text_exactly():
    text = "午前9時30分から、まちづくりセンターで お知らせ（世田谷区）\nNew: 1分"
    assert "".join(base for base, _ in ruby_segments(text)) == text


def test_minutes_after_a_number_are_read_as_they_are_said():
    readings = dict(seg for seg in ruby_segments("9時30分") if seg[1])
    assert readings == {"時": "じ", "分": "ぷん"}
    assert ("分", "ふん") in ruby_segments("5分")


def test_staff_readings_override_the_analyser():
    assert ruby_segments("代沢で会います", {"代沢": "だいざわ"})[0] == ("代沢", "だいざわ")
    # the longest fixed base wins over a shorter one inside it
    segs = ruby_segments("烏山区民センター", {"烏山": "からすやま", "烏山区民": "からすやまくみん"})
    assert segs[0] == ("烏山区民", "からすやまくみん")


def test_text_without_kanji_has_no_ruby():
    assert ruby_segments("ひなんして ください") == [("ひなんして ください", None)]
    assert ruby_segments("") == []


def test_ruby_html_escapes_and_marks_up_each_kanji_run():
    html = ruby_html("<b>避難</b> & かな")
    assert str(html) == (
        "&lt;b&gt;<ruby>避難<rp>(</rp><rt>ひなん</rt><rp>)</rp></ruby>&lt;/b&gt; &amp; かな"
    )
    assert ruby_html("代沢", {"代沢": "だいざわ"}).count("<rt>だいざわ</rt>") == 1


def test_staff_reading_table_is_read_line_by_line():
    assert parse_readings("代沢=だいざわ\n\n 烏山 = カラスヤマ ") == {
        "代沢": "だいざわ",
        "烏山": "からすやま",
    }
    with pytest.raises(ValueError, match="line 2"):
        parse_readings("代沢=だいざわ\n烏山")
    with pytest.raises(ValueError, match="hiragana"):
        parse_readings("代沢=daizawa")
